"""The loss landscape around a trained model, and the run's own path through it.

Two pictures, after Li et al., "Visualizing the Loss Landscape of Neural Nets" (NeurIPS 2018) and
their code (tomgoldstein/loss-landscape):

* **the line**: the loss along the straight line from the run's initial weights (alpha = 0) to its
  final weights (alpha = 1), extended past them (alpha up to 1.5), on training and test digits.
  Every tensor is interpolated, parameters and batch-norm running statistics alike, so alpha = 0
  is exactly the untrained network and alpha = 1 exactly the trained one; past alpha = 1 only the
  parameters go on, the running statistics stay at their trained values (extrapolated, a running
  variance could turn negative and the loss NaN).
* **the slice**: the training loss on a plane through the final weights, ``theta + x*d1 + y*d2``.
  ``d1, d2`` are either two *filter-normalised* random directions (each filter of the direction
  rescaled to the norm of the same filter of the weights, so the picture does not depend on the
  weights' scale), or, when the run saved its path, the plane of the path's two largest principal
  components (loss-landscape's ``plot_trajectory``), with the path projected onto it.
  Batch norm, as loss-landscape's ``ignore='biasbn'``: the directions are zero on every
  one-dimensional parameter (biases, batch-norm scales and shifts), and the running statistics
  stay at their final values; the model is scored in eval mode (dropout off).

Everything is scored on a fixed subset of digits (``LandscapeSettings.samples`` training and as
many test digits, drawn with ``seed``), so the same model and seed give the same numbers. Long
computations report progress and can be cancelled between two evaluations.

Speed (``LandscapeSettings.for_model``): a picture is ~140 forward passes over the subset. The MLP
scores 1,000 digits in ~10 ms, so it gets 1,000 digits and an 11 x 11 slice. A CNN costs 30-100x
more per digit, so it gets 400 digits, a 9 x 9 slice and a 21-point line; and conv nets are scored
in channels-last memory order, in batches of ``SCORE_BATCH`` (max-pooling over NCHW tensors is
the slow part of a CPU forward pass here: 3-4x faster for cnn-bn, measured in
benchmarks/why_training.py), with weights written in place so the layout stays.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from core.data.mnist import MnistData, normalize
from core.errors import UserError
from core.training.evaluation import model_input
from core.training.models import build_model

Progress = Callable[[int, int], None]  # (evaluations done, evaluations in all)
StopAsked = Callable[[], bool]

SCORE_BATCH = 100  # digits a CNN forward pass: cache-sized (cnn-bn: 155 ms per 400 digits at
# 100, 230 at 200, 275 at 400); an MLP takes its 1,000 in one pass (fewer Python steps holding
# the GIL while the window waits for it)
FLAT_MODELS = ("mlp", "deep-sigmoid")  # fully connected: cheap to score, no channels-last

LINE_READING = (
    "How to read it: the loss along the straight road from the untrained weights (0) to the "
    "trained ones (1) and on past them. A valley at 1 means training stopped at a low point of "
    "this road; test loss above training loss is what the model learnt that does not carry over."
)
SLICE_READING = (
    "How to read it: the training loss on a slice through the trained weights (the centre), "
    "darker is lower. Wide, round rings mean a flat minimum: the weights can move and the loss "
    "barely changes, which tends to generalise; tight rings mean a sharp one. A bigger batch "
    "takes fewer, less noisy steps and tends to settle in a sharper, narrower valley."
)


class LandscapeCancelled(UserError):
    """The learner stopped the computation; nothing is returned."""


@dataclass
class LandscapeSettings:
    """What to compute. ``span`` is in units of the directions (1 = one weight's own norm per
    filter for random directions); ``samples`` digits of each split are scored."""

    line_points: int = 31  # alpha = 0, 0.05, ..., 1.5
    alpha_max: float = 1.5
    grid: int = 11
    span: float = 1.0
    samples: int = 1000
    seed: int = 0

    @classmethod
    def for_model(cls, model_name: str, **changes: float) -> LandscapeSettings:
        """The defaults that fit a learner's patience for ``model_name`` (see the module doc):
        a CNN scores 400 digits on a 9 x 9 slice and a 21-point line, an MLP 1,000 on 11 x 11."""
        if model_name in FLAT_MODELS:
            return cls(**changes)
        return cls(**{"grid": 9, "samples": 400, "line_points": 21, **changes})

    def validate(self) -> LandscapeSettings:
        if not 3 <= self.grid <= 101 or self.grid % 2 == 0:
            raise UserError(
                f"grid must be an odd number 3..101 (so its centre is the trained weights), "
                f"got {self.grid}"
            )
        if not 0 < self.span <= 100:
            raise UserError(f"span must be in (0, 100], got {self.span:g}")
        if not 11 <= self.line_points <= 1001:
            raise UserError(f"the line needs 11..1001 points, got {self.line_points}")
        if not 1.0 < self.alpha_max <= 5.0:
            raise UserError(f"alpha_max must be in (1, 5], got {self.alpha_max:g}")
        if self.samples < 10:
            raise UserError(f"score at least 10 digits, got {self.samples}")
        return self


@dataclass
class PathProjection:
    """The run's path on the plane of its two largest principal components.

    ``points`` are (x, y) per saved step, the final weights at (0, 0); ``explained`` the share of
    the path's variance each component carries (how faithful the flat picture is).
    """

    points: list[tuple[float, float]]
    explained: tuple[float, float]
    directions: list[torch.Tensor] = field(repr=False, default_factory=list)  # flat, float32


@dataclass
class LandscapeResult:
    line: list[tuple[float, float]]  # (alpha, training loss)
    line_test: list[tuple[float, float]]  # (alpha, test loss)
    grid_x: list[float]
    grid_y: list[float]
    grid_loss: list[list[float]]  # [row: y][column: x], centre = final weights
    directions: str  # "random (filter-normalised)" or "path (PCA)"
    path: PathProjection | None
    init_note: str  # where the alpha = 0 weights came from
    train_samples: int
    test_samples: int
    seconds: float

    @property
    def grid_size(self) -> int:
        return len(self.grid_x)

    def centre_loss(self) -> float:
        middle = len(self.grid_x) // 2
        return self.grid_loss[len(self.grid_y) // 2][middle]

    def to_json(self) -> dict:
        """The ``landscape --json`` contract: ``line`` [[alpha, loss]...], ``grid`` {size, loss}."""
        result = {
            "line": [[a, v] for a, v in self.line],
            "line_test": [[a, v] for a, v in self.line_test],
            "grid": {
                "size": self.grid_size,
                "x": self.grid_x,
                "y": self.grid_y,
                "loss": self.grid_loss,
                "centre_loss": self.centre_loss(),
                "min_loss": min(min(row) for row in self.grid_loss),
            },
            "directions": self.directions,
            "init": self.init_note,
            "train_samples": self.train_samples,
            "test_samples": self.test_samples,
            "seconds": self.seconds,
        }
        if self.path is not None:
            result["path"] = {
                "points": [list(p) for p in self.path.points],
                "explained": list(self.path.explained),
            }
        return result


# -- flat parameter vectors ------------------------------------------------------------------


def parameter_vector(model: nn.Module) -> torch.Tensor:
    """All parameters, flattened in ``model.parameters()`` order, float32 on the CPU (a copy)."""
    return torch.cat([p.detach().reshape(-1).float().cpu() for p in model.parameters()])


def flat_mask(model: nn.Module) -> torch.Tensor:
    """True where a flat parameter belongs to a matrix or a filter bank (dim > 1), False on biases
    and batch-norm scales/shifts: the entries loss-landscape's ``ignore='biasbn'`` leaves out."""
    parts = [torch.full((p.numel(),), p.dim() > 1) for p in model.parameters()]
    return torch.cat(parts)


def random_directions(model: nn.Module, seed: int) -> list[torch.Tensor]:
    """Two filter-normalised random directions (flat, float32), zero on 1-D parameters.

    For each parameter with dim > 1, each filter (slice along dim 0: a unit's incoming weights or
    a conv filter) of the Gaussian direction is scaled to the norm of the same filter of the
    weights (Li et al. section 4).
    """
    generator = torch.Generator().manual_seed(seed)
    directions = []
    for _ in range(2):
        parts = []
        for p in model.parameters():
            weights = p.detach().float().cpu()
            if weights.dim() <= 1:
                parts.append(torch.zeros(weights.numel()))
                continue
            d = torch.randn(weights.shape, generator=generator)
            w_norm = weights.reshape(weights.shape[0], -1).norm(dim=1)
            d_norm = d.reshape(d.shape[0], -1).norm(dim=1)
            scale = (w_norm / (d_norm + 1e-10)).reshape(-1, *([1] * (d.dim() - 1)))
            parts.append((d * scale).reshape(-1))
        directions.append(torch.cat(parts))
    return directions


def _load_vector(model: nn.Module, vector: torch.Tensor) -> None:
    """Write a flat vector into the parameters in place (``copy_`` keeps each tensor's memory
    format; ``vector_to_parameters`` would swap in contiguous NCHW tensors)."""
    offset = 0
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(vector[offset : offset + p.numel()].view_as(p))
            offset += p.numel()


# -- the path ---------------------------------------------------------------------------------


def project_path(
    snapshots: torch.Tensor, final: torch.Tensor, mask: torch.Tensor | None = None
) -> PathProjection:
    """Project saved parameter vectors (K, P) onto the plane of their two largest principal
    components, relative to ``final`` (at the origin), as loss-landscape's ``plot_trajectory``.

    ``mask`` (P,) zeroes entries left out of the directions (biases, batch norm). The components
    are orthonormal, so a point's coordinates are dot products with them.
    """
    if snapshots.dim() != 2 or snapshots.shape[0] < 3:
        raise UserError("the path needs at least 3 saved steps to have a plane")
    diffs = snapshots.double() - final.double().reshape(1, -1)
    if mask is not None:
        diffs = diffs * mask.double().reshape(1, -1)
    centred = diffs - diffs.mean(dim=0, keepdim=True)
    _, singular, vh = torch.linalg.svd(centred, full_matrices=False)
    variance = singular.square()
    total = float(variance.sum()) or 1.0
    d1, d2 = vh[0], vh[1]
    coords = diffs @ torch.stack([d1, d2], dim=1)
    return PathProjection(
        points=[(float(x), float(y)) for x, y in coords.tolist()],
        explained=(float(variance[0]) / total, float(variance[1]) / total),
        directions=[d1.float(), d2.float()],
    )


# -- scoring ----------------------------------------------------------------------------------


@dataclass
class _Subset:
    x: torch.Tensor
    y: torch.Tensor


def fixed_subsets(
    data: MnistData, model_name: str, samples: int, seed: int
) -> tuple[_Subset, _Subset]:
    """``samples`` training and ``samples`` test digits (fewer if the data has fewer), chosen with
    ``seed``: the same digits every time, so landscapes can be compared."""
    generator = torch.Generator().manual_seed(seed)

    def pick(images: torch.Tensor, labels: torch.Tensor) -> _Subset:
        count = min(samples, int(labels.shape[0]))
        rows = torch.randperm(int(labels.shape[0]), generator=generator)[:count].sort().values
        x = model_input(normalize(images[rows].cpu()), model_name).contiguous()
        if x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return _Subset(x, labels[rows].cpu())

    return pick(data.train_images, data.train_labels), pick(data.test_images, data.test_labels)


@torch.no_grad()
def mean_loss(model: nn.Module, subset: _Subset) -> float:
    """Mean negative log-likelihood in eval mode; log_softmax makes either head a log-probability."""
    device = next(model.parameters()).device
    total = torch.zeros((), dtype=torch.float64, device=device)
    batch = SCORE_BATCH if subset.x.dim() == 4 else max(SCORE_BATCH, 1000)  # images: a CNN
    for start in range(0, subset.y.shape[0], batch):
        out = model(subset.x[start : start + batch].to(device))
        y = subset.y[start : start + batch].to(device)
        total += F.nll_loss(F.log_softmax(out.float(), dim=1), y, reduction="sum")
    return float(total) / max(1, int(subset.y.shape[0]))  # one sync point an evaluation


class _Counter:
    def __init__(self, total: int, progress: Progress | None, stop: StopAsked | None) -> None:
        self.done, self.total, self.progress, self.stop = 0, total, progress, stop

    def tick(self) -> None:
        if self.stop is not None and self.stop():
            raise LandscapeCancelled("the landscape was cancelled")
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)


def _line(
    model: nn.Module,
    initial: dict[str, torch.Tensor],
    final: dict[str, torch.Tensor],
    alphas: list[float],
    subsets: tuple[_Subset, _Subset],
    counter: _Counter,
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Train and test loss at ``(1 - alpha) * initial + alpha * final`` for every float tensor."""
    train, test = [], []
    params = {name for name, _ in model.named_parameters()}
    for alpha in alphas:
        mixed = {
            k: v + (alpha if k in params else min(alpha, 1.0)) * (final[k] - v)
            if v.is_floating_point()
            else final[k]
            for k, v in initial.items()
        }
        model.load_state_dict(mixed)
        train.append((alpha, mean_loss(model, subsets[0])))
        test.append((alpha, mean_loss(model, subsets[1])))
        counter.tick()
    model.load_state_dict(final)
    return train, test


def _grid(
    model: nn.Module,
    centre: torch.Tensor,
    directions: list[torch.Tensor],
    xs: list[float],
    ys: list[float],
    subset: _Subset,
    counter: _Counter,
) -> list[list[float]]:
    rows = []
    for y in ys:
        row = []
        for x in xs:
            _load_vector(model, centre + x * directions[0] + y * directions[1])
            row.append(mean_loss(model, subset))
            counter.tick()
        rows.append(row)
    _load_vector(model, centre)
    return rows


def _axis(low: float, high: float, count: int) -> list[float]:
    return [low + (high - low) * i / (count - 1) for i in range(count)]


def initial_state_for(
    model_name: str, loss: str, seed: int | None, initial: dict[str, torch.Tensor] | None
) -> tuple[dict[str, torch.Tensor], str]:
    """The run's starting weights, or a fresh init when the model file has no record of them.

    The trainer builds a model right after ``torch.manual_seed(config.seed)``, so a fresh init
    under the run's own seed *is* its starting point when it started from scratch; when the seed
    is unknown, seed 1 (the default) is used and the note says so.
    """
    if initial is not None:
        return initial, "the run's recorded initial weights"
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed if seed is not None else 1)
        fresh = build_model(model_name, loss).state_dict()
    finally:
        torch.random.set_rng_state(state)
    if seed is None:
        return (
            fresh,
            "a fresh init under seed 1 (the model file records no seed or initial weights)",
        )
    return fresh, f"a fresh init under the run's seed {seed} (the trainer's own starting point)"


def _plane(
    model: nn.Module,
    centre: torch.Tensor,
    snapshots: torch.Tensor | None,
    settings: LandscapeSettings,
) -> tuple[list[torch.Tensor], str, PathProjection | None, list[float], list[float]]:
    """The slice's two directions, their name, the projected path (or None) and the axes."""
    n = settings.grid
    if snapshots is None:
        directions = random_directions(model, settings.seed)
        span = settings.span
        return (
            directions,
            "random (filter-normalised)",
            None,
            _axis(-span, span, n),
            _axis(-span, span, n),
        )
    path = project_path(snapshots, centre, flat_mask(model))
    reach_x = 1.25 * max(abs(p[0]) for p in path.points) or settings.span
    reach_y = 1.25 * max(abs(p[1]) for p in path.points) or settings.span
    xs, ys = _axis(-reach_x, reach_x, n), _axis(-reach_y, reach_y, n)
    return path.directions, "path (PCA)", path, xs, ys


def compute_landscape(
    model: nn.Module,
    model_name: str,
    data: MnistData,
    initial: dict[str, torch.Tensor],
    settings: LandscapeSettings | None = None,
    *,
    snapshots: torch.Tensor | None = None,
    init_note: str = "",
    progress: Progress | None = None,
    stop: StopAsked | None = None,
) -> LandscapeResult:
    """The line and the slice around ``model``'s weights (which are left as they were).

    ``snapshots`` (K, P), the run's saved parameter vectors, switch the slice to the path's own
    plane and add the projected path; the span then covers the path (with a margin).
    """
    settings = (settings or LandscapeSettings.for_model(model_name)).validate()
    started = time.perf_counter()
    model = model.eval()  # dropout off, batch norm on its running statistics
    if model_name not in FLAT_MODELS:
        model = model.to(memory_format=torch.channels_last)
    final_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    missing = set(final_state) - set(initial)
    if missing:
        raise UserError(f"the initial weights lack {', '.join(sorted(missing)[:3])}")
    subsets = fixed_subsets(data, model_name, settings.samples, settings.seed)
    n = settings.grid
    counter = _Counter(settings.line_points + n * n, progress, stop)
    alphas = sorted({round(a, 9) for a in _axis(0.0, settings.alpha_max, settings.line_points)})
    alphas = sorted(set(alphas) | {0.0, 1.0})
    counter.total = len(alphas) + n * n
    try:
        line, line_test = _line(model, initial, final_state, alphas, subsets, counter)
        centre = parameter_vector(model)
        directions, kind, path, xs, ys = _plane(model, centre, snapshots, settings)
        grid = _grid(model, centre, directions, xs, ys, subsets[0], counter)
    finally:
        model.load_state_dict(final_state)
        model.to(memory_format=torch.contiguous_format)  # left as it came, layout included
    return LandscapeResult(
        line=line,
        line_test=line_test,
        grid_x=xs,
        grid_y=ys,
        grid_loss=grid,
        directions=kind,
        path=path,
        init_note=init_note,
        train_samples=int(subsets[0].y.shape[0]),
        test_samples=int(subsets[1].y.shape[0]),
        seconds=time.perf_counter() - started,
    )
