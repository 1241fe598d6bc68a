"""A learning-rate finder, fastai's method (Leslie Smith's "LR range test").

A copy of the model is trained for about 100 batches while the learning rate grows exponentially
from ``start_lr`` to ``end_lr``; the loss of each batch is smoothed (an exponential moving average,
debiased as in fastai's ``Recorder``) and the test stops when the smoothed loss exceeds four times
its best, or becomes NaN: the rate has made training diverge. The model given is never changed.

The suggestion is fastai's **minimum** rule (``SuggestionMethod.Minimum``, the classic fastai v1
advice): the rate at the lowest smoothed loss, divided by 10 -- a rate that still learns fast but
is a decade away from the rates where the loss turns and blows up. fastai's **valley** (its newer
default, PR #3377) and the **steepest** descent are computed too and drawn for comparison, but not
suggested, because of what was measured on the bundled sample (one epoch at the suggestion vs one
epoch at the default settings, six configurations: MLP SGD, SGD batch 256, SGD without momentum,
MLP Adam, CNN SGD, CNN Adam): minimum/10 was never worse than the default (0.85 vs 0.83, 0.88 vs
0.87, 0.92 vs 0.82, 0.53 vs 0.50, 0.70 vs 0.45, 0.94 vs 0.92); valley was worse in five of six
(its longest falling stretch starts on the long flat plateau of tiny rates, 1e-7 to 1e-3 here,
and lands far too low); steepest was worse twice (on a noisy 100-point curve the steepest slope
jumps about, once into the blow-up).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from core.data.mnist import MnistData, normalize
from core.errors import UserError
from core.training.evaluation import loss_function, model_input
from core.training.models import build_model

Progress = Callable[[int, int], None]
StopAsked = Callable[[], bool]

READING = (
    "How to read it: each point is the (smoothed) training loss after one batch at that learning "
    "rate, the rate growing from left to right. Too small a rate and the loss barely moves; in "
    "the falling stretch the network learns fast; past the bottom it overshoots and blows up. "
    "The suggestion is the rate at the lowest point divided by 10 (fastai's 'minimum' rule)."
)


class LrFindCancelled(UserError):
    """The learner stopped the finder."""


@dataclass
class LrFindSettings:
    start_lr: float = 1e-7
    end_lr: float = 10.0
    iterations: int = 100
    smoothing: float = 0.98  # fastai's beta
    diverge_factor: float = 4.0  # stop once the smoothed loss exceeds 4x its best

    def validate(self) -> LrFindSettings:
        if not 0 < self.start_lr < self.end_lr:
            raise UserError("the finder needs 0 < start lr < end lr")
        if not 10 <= self.iterations <= 10_000:
            raise UserError(f"the finder needs 10..10000 batches, got {self.iterations}")
        return self


@dataclass
class LrFindResult:
    curve: list[tuple[float, float]]  # (lr, smoothed loss), one per batch, lr growing
    raw: list[float]  # each batch's own loss
    suggested_lr: float  # the minimum's rate / 10
    minimum_lr: float  # the rate at the lowest smoothed loss
    valley_lr: float
    steepest_lr: float
    diverged: bool  # stopped early because the loss blew up
    seconds: float

    def to_json(self) -> dict:
        return {
            "suggested_lr": self.suggested_lr,
            "suggestion": "minimum / 10 (fastai's 'minimum' rule)",
            "minimum_lr": self.minimum_lr,
            "valley_lr": self.valley_lr,
            "steepest_lr": self.steepest_lr,
            "curve": [[lr, loss] for lr, loss in self.curve],
            "points": len(self.curve),
            "decades": math.log10(self.curve[-1][0] / self.curve[0][0]) if self.curve else 0.0,
            "diverged": self.diverged,
            "seconds": self.seconds,
        }


def valley(lrs: list[float], losses: list[float]) -> int:
    """Index of fastai's valley suggestion: in the longest decreasing subsequence of ``losses``,
    its start plus a third of its length plus half of that again."""
    n = len(losses)
    if n < 2:
        return 0
    lds = [1] * n
    max_start = max_end = 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
        if lds[max_end] < lds[i]:
            max_end = i
            max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    return max(0, min(n - 1, max_start + int(sections) + int(sections / 2)))


def steepest(lrs: list[float], losses: list[float]) -> int:
    """Index where the loss falls fastest against log10(lr)."""
    if len(losses) < 3:
        return 0
    slopes = [
        (losses[i + 1] - losses[i - 1]) / (math.log10(lrs[i + 1]) - math.log10(lrs[i - 1]))
        for i in range(1, len(losses) - 1)
    ]
    return 1 + min(range(len(slopes)), key=slopes.__getitem__)


def suggestions(curve: list[tuple[float, float]], iterations: int) -> tuple[float, ...]:
    """(minimum / 10, minimum, valley, steepest) of a finder curve, skipping the first tenth and
    the last few points as fastai does (``lrs[num_it // 10 : -5]``): start-up and blow-up."""
    skip = iterations // 10
    body = curve[skip:-5] if len(curve) > skip + 10 else curve
    lrs = [lr for lr, _ in body]
    losses = [loss for _, loss in body]
    lowest = lrs[min(range(len(losses)), key=losses.__getitem__)]
    return lowest / 10, lowest, lrs[valley(lrs, losses)], lrs[steepest(lrs, losses)]


def find_lr(
    model: nn.Module,
    make_optimizer: Callable[[nn.Module], object],
    batches: Iterator[tuple[torch.Tensor, torch.Tensor]],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    settings: LrFindSettings | None = None,
    *,
    progress: Progress | None = None,
    stop: StopAsked | None = None,
) -> LrFindResult:
    """Run the range test on a deep copy of ``model``; ``batches`` yields (inputs, labels).

    ``make_optimizer(copy)`` builds the optimizer (anything ``set_learning_rate`` accepts).
    """
    from core.training.trainer import set_learning_rate  # the trainer imports the registry

    settings = (settings or LrFindSettings()).validate()
    started = time.perf_counter()
    trial = copy.deepcopy(model).train()
    optimizer = make_optimizer(trial)
    ratio = (settings.end_lr / settings.start_lr) ** (1 / (settings.iterations - 1))
    curve: list[tuple[float, float]] = []
    raw: list[float] = []
    average, best, diverged = 0.0, math.inf, False
    for i in range(settings.iterations):
        if stop is not None and stop():
            raise LrFindCancelled("the learning-rate finder was cancelled")
        x, y = next(batches)
        lr = settings.start_lr * ratio**i
        set_learning_rate(optimizer, lr)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(trial(x), y)
        loss.backward()
        optimizer.step()
        value = float(loss.detach())
        raw.append(value)
        average = settings.smoothing * average + (1 - settings.smoothing) * value
        smoothed = average / (1 - settings.smoothing ** (i + 1))
        if not math.isfinite(smoothed):
            diverged = True
            break
        curve.append((lr, smoothed))
        best = min(best, smoothed)
        if progress is not None:
            progress(i + 1, settings.iterations)
        if i > 0 and smoothed > settings.diverge_factor * best:
            diverged = True
            break
    if len(curve) < 10:
        raise UserError("the loss blew up at once: even the smallest learning rate diverged")
    suggested, lowest, valley_lr, steep = suggestions(curve, settings.iterations)
    seconds = time.perf_counter() - started
    return LrFindResult(curve, raw, suggested, lowest, valley_lr, steep, diverged, seconds)


def training_batches(
    data: MnistData, model_name: str, batch_size: int, seed: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Shuffled training batches for ever (a fresh order each pass), normalised as in training."""
    x = model_input(normalize(data.train_images.cpu()), model_name).contiguous()
    y = data.train_labels.cpu()
    generator = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(int(y.shape[0]), generator=generator)
        for start in range(0, len(order) - batch_size + 1, batch_size):
            rows = order[start : start + batch_size]
            yield x[rows], y[rows]


def find_lr_for_config(
    config,
    data: MnistData,
    settings: LrFindSettings | None = None,
    *,
    progress: Progress | None = None,
    stop: StopAsked | None = None,
) -> LrFindResult:
    """The finder for a run's settings (model, loss, optimizer, momentum, batch size, seed), on the
    CPU, from the run's own starting weights (the same seeded init the trainer would build)."""
    from core.training.trainer import make_optimizer

    config.validate()
    if data.train_samples < config.batch_size:
        raise UserError(f"{data.description} has fewer training digits than one batch")
    rng = torch.random.get_rng_state()
    try:
        torch.manual_seed(config.seed)
        model = build_model(config.model, config.loss)
    finally:
        torch.random.set_rng_state(rng)
    device = torch.device("cpu")
    return find_lr(
        model,
        lambda trial: make_optimizer(config, trial, device),
        training_batches(data, config.model, config.batch_size, config.seed),
        loss_function(config.loss),
        settings,
        progress=progress,
        stop=stop,
    )
