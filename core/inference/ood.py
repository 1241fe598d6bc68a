"""Is this a digit? An out-of-distribution score for every answer, and its threshold.

A classifier's softmax always sums to one, so a dot or a scribble still gets "0, 99.8 % sure"
(Hendrycks & Gimpel, ICLR 2017: the maximum softmax probability is a weak detector). Measured
here with ``benchmarks/draw_robustness.py --ood`` on the bundled CNN (ROC AUC between 500 unseen
test digits and 600 generated drawings): the energy ``-logsumexp(logits)`` (Liu et al., NeurIPS
2020) 0.916, catching blobs, bars and scribbles but few dots or letters; the Mahalanobis distance
to the nearest class mean under one shared covariance (Lee et al., NeurIPS 2018) 0.881 in the
penultimate layer, 0.848 at the first dense layer's input, catching letters but no dots; on the
input pixels 0.884, catching dots. Summed in units of their spread on real digits, energy +
first-dense-layer + pixel distances separate best (0.970) and flag the most drawings at the same
rate of real digits: ``DEFAULT_METHOD``.

Outlier exposure changes the picture (Hendrycks, Mazeika & Dietterich, ICLR 2019): the bundled
model (``tools/train_default_model.py``) trained with stroked non-digits
(``core.data.non_digits``) and a uniform target, so its own output already says "none of the
ten" — its energy alone separates real digits from letters drawn in designs and a pen it never
saw at ROC AUC ~0.997, while the Mahalanobis parts fall to 0.4-0.6 (its features for letters
now sit near the digits' on purpose) and would only dilute the score. That model therefore
stores ``method="energy"``; models trained in the app without non-digits (``fit_ood`` at the
end of a run) keep ``DEFAULT_METHOD``, which is what works for them.

Contract: ``fit_ood(model, images)`` fits the statistics on real digits (MNIST polarity, as the
datasets store them) and picks the threshold on a held-out quarter of them so that
``flag_rate`` (5 %) of real digits are flagged. ``OodStats`` travels with a model as plain data
(``to_payload`` / ``from_payload``: floats, strings and CPU tensors, loadable weights-only) and
scores a batch from ``model_outputs``. A score above ``threshold`` means "this does not look
like a digit to the model".
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from core.errors import CheckpointError, UserError

if TYPE_CHECKING:
    from core.storage.checkpoint import Checkpoint

# method -> (uses the energy, what the Mahalanobis distances read: "input" the model's 28x28
# input, "first" the first dense layer's input, "last" the output layer's input)
METHODS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "energy": (True, ()),
    "mahalanobis-penultimate": (False, ("last",)),
    "mahalanobis-dense-input": (False, ("first",)),
    "energy+mahalanobis": (True, ("first",)),
    "mahalanobis-pixels": (False, ("input",)),
    "energy+mahalanobis+pixels": (True, ("first", "input")),
}
DEFAULT_METHOD = "energy+mahalanobis+pixels"
FLAG_RATE = 0.05  # share of held-out real digits flagged: the threshold is their 95th percentile
# Every HOLDOUT_EVERY-th digit picks the threshold instead of fitting the statistics: the
# threshold must come from digits the statistics have not seen, or it is too tight for new ones.
HOLDOUT_EVERY = 4
PROJECTED = 64  # main directions kept for the Mahalanobis distance (1,568 conv features: too many)
SHRINKAGE = 0.05  # covariance shrinkage towards its diagonal
PAYLOAD_VERSION = 2


@dataclass
class ModelOutputs:
    """What one forward pass gives the detector: raw logits and two layers' inputs (CPU)."""

    logits: torch.Tensor  # (N, 10), before any log_softmax head
    first: torch.Tensor  # input of the first dense layer (N, D0)
    last: torch.Tensor  # input of the output layer: the penultimate features (N, D1)
    input: torch.Tensor  # the model's input, flattened (N, 784)

    def rows(self, mask: np.ndarray) -> ModelOutputs:
        index = torch.from_numpy(np.flatnonzero(mask))
        return ModelOutputs(*(getattr(self, name)[index] for name in OUTPUT_FIELDS))


OUTPUT_FIELDS = ("logits", "first", "last", "input")


def output_layer(model: nn.Module) -> nn.Linear:
    """The layer whose output is the logits (before any ``log_softmax`` head)."""
    return _dense_layers(model)[1]


def _dense_layers(model: nn.Module) -> tuple[nn.Linear, nn.Linear]:
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError("the model has no dense output layer to read features from")
    return linears[0], linears[-1]


@torch.inference_mode()
def model_outputs(model: nn.Module, batch: torch.Tensor, chunk: int = 1024) -> ModelOutputs:
    """Run ``model`` once on normalised inputs (N, 1, 28, 28) and keep what the detector reads.

    The logits are taken at the output layer, before a ``log_softmax`` head, so the energy means
    something for ``nll`` models too (``logsumexp(log_softmax(x))`` is always 0).
    """
    first, last = _dense_layers(model)
    device = last.weight.device
    captured: dict[str, torch.Tensor] = {}

    def keep(name: str, with_output: bool):  # noqa: ANN202
        def hook(_m: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
            captured[name] = inputs[0]
            if with_output:
                captured["logits"] = output

        return hook

    handles = [first.register_forward_hook(keep("first", False))]
    handles.append(last.register_forward_hook(keep("last", True)))
    parts: dict[str, list[torch.Tensor]] = {name: [] for name in OUTPUT_FIELDS}
    try:
        for start in range(0, len(batch), chunk):
            captured["input"] = batch[start : start + chunk]
            model(captured["input"].to(device, dtype=torch.float32))
            for name, values in parts.items():
                values.append(torch.flatten(captured[name], 1).float().cpu())
    finally:
        for handle in handles:
            handle.remove()
    if not parts["logits"]:
        empty = torch.zeros((0, 1))
        return ModelOutputs(torch.zeros((0, last.out_features)), empty, empty, empty)
    return ModelOutputs(*(torch.cat(parts[name]) for name in OUTPUT_FIELDS))


def energy(logits: torch.Tensor) -> np.ndarray:
    """``-logsumexp(logits)``: low (very negative) for inputs the model knows well."""
    return (-torch.logsumexp(logits.double(), dim=1)).numpy()


def _main_directions(centred: np.ndarray, width: int) -> np.ndarray:
    """The ``width`` leading principal directions (D, width) of centred rows.

    A randomised SVD (Halko et al.; ``torch.svd_lowrank``) with a fixed seed: the same answer
    every time, and several times cheaper than the eigenvectors of a 1,568 x 1,568 covariance.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        _, _, v = torch.svd_lowrank(torch.from_numpy(centred), q=width + 8, niter=3, M=None)
    return v[:, :width].numpy()


@dataclass(frozen=True)
class Mahalanobis:
    """Distance to the nearest class mean, after projecting on the main directions."""

    layer: str  # a field of ModelOutputs: "input" | "first" | "last"
    centre: np.ndarray  # (D,)
    basis: np.ndarray  # (D, K)
    class_means: np.ndarray  # (10, K)
    precision: np.ndarray  # (K, K)

    def distance(self, outputs: ModelOutputs) -> np.ndarray:
        # In torch, not numpy: on a busy 2-core machine numpy's BLAS threads and torch's fight
        # over the cores between the model and this step (the CNN's answer went from 1 to 10 ms).
        centre, basis, means, precision = self._tensors()
        x = (getattr(outputs, self.layer).double() - centre) @ basis
        diff = x[:, None, :] - means[None, :, :]
        squared = torch.einsum("ncd,de,nce->nc", diff, precision, diff)
        return torch.sqrt(squared.min(dim=1).values.clamp_min(0.0)).numpy()

    def _tensors(self) -> tuple[torch.Tensor, ...]:
        cached = self.__dict__.get("_as_tensors")
        if cached is None:
            cached = tuple(torch.from_numpy(np.asarray(getattr(self, n))) for n in ARRAYS)
            object.__setattr__(self, "_as_tensors", cached)  # frozen: a cache, not state
        return cached

    @classmethod
    def fit(cls, layer: str, outputs: ModelOutputs, labels: np.ndarray) -> Mahalanobis:
        x = getattr(outputs, layer).double().numpy()
        centre = x.mean(axis=0)
        width = min(PROJECTED, x.shape[1])
        full = width == x.shape[1]
        basis = np.eye(width) if full else _main_directions(x - centre, width)
        z = (x - centre) @ basis
        classes = outputs.logits.shape[1]
        means = np.zeros((classes, width))
        residual = np.zeros_like(z)
        for cls_ in range(classes):
            rows = labels == cls_
            if rows.any():
                means[cls_] = z[rows].mean(axis=0)
                residual[rows] = z[rows] - means[cls_]
        covariance = residual.T @ residual / max(len(z) - 1, 1)
        diagonal = np.diag(np.diag(covariance)) + 1e-6 * np.eye(width)
        shrunk = (1.0 - SHRINKAGE) * covariance + SHRINKAGE * diagonal
        return cls(layer, centre, basis, means, np.linalg.pinv(shrunk, hermitian=True))


@dataclass(frozen=True)
class OodStats:
    """What "looks like a digit" means for one model; scores above ``threshold`` are flagged.

    The score is the sum of the parts ``method`` uses (energy, Mahalanobis distance), each in
    units of its spread on held-out real digits (``scales``: (mean, std) per part), so the parts
    weigh the same. ``fitted_on`` digits fitted the statistics, ``held_out`` chose the threshold.
    """

    method: str
    threshold: float
    scales: tuple[tuple[float, float], ...] = ()
    mahalanobis: tuple[Mahalanobis, ...] = ()
    fitted_on: int = 0
    held_out: int = 0
    source: str = ""

    def parts(self, outputs: ModelOutputs) -> list[np.ndarray]:
        values = [energy(outputs.logits)] if METHODS[self.method][0] else []
        return values + [maha.distance(outputs) for maha in self.mahalanobis]

    def score(self, outputs: ModelOutputs) -> np.ndarray:
        """One score per row; higher is less digit-like; above ``threshold``: not a digit."""
        z = [
            (values - mean) / std
            for values, (mean, std) in zip(self.parts(outputs), self.scales, strict=True)
        ]
        return np.sum(z, axis=0) if z else np.zeros(len(outputs.logits))

    def looks_like_digit(self, scores: np.ndarray) -> np.ndarray:
        return np.asarray(scores) <= self.threshold

    def to_payload(self) -> dict:
        """Plain data for a checkpoint (floats, strings, CPU float32 tensors; weights-only safe)."""
        payload: dict = {
            "version": PAYLOAD_VERSION,
            "method": self.method,
            "threshold": float(self.threshold),
            "scales": [[float(m), float(s)] for m, s in self.scales],
            "fitted_on": int(self.fitted_on),
            "held_out": int(self.held_out),
            "source": self.source,
        }
        payload["mahalanobis"] = [
            {"layer": maha.layer}
            | {name: torch.from_numpy(getattr(maha, name).astype(np.float32)) for name in ARRAYS}
            for maha in self.mahalanobis
        ]
        return payload

    @classmethod
    def from_payload(cls, payload: object) -> OodStats:
        """Validate stored statistics; anything malformed is a ``CheckpointError``."""
        bad = CheckpointError("the model's 'is this a digit' statistics are malformed")
        if not isinstance(payload, dict) or payload.get("method") not in METHODS:
            raise bad
        method = str(payload["method"])
        threshold, scales = payload.get("threshold"), payload.get("scales")
        uses_energy, layers = METHODS[method]
        try:
            scales_ = tuple((float(m), float(s)) for m, s in scales)
        except (TypeError, ValueError):
            raise bad from None
        numbers = [threshold, *(v for pair in scales_ for v in pair)]
        if (
            len(scales_) != int(uses_energy) + len(layers)
            or not all(isinstance(v, int | float) and np.isfinite(v) for v in numbers)
            or not all(s > 0 for _, s in scales_)
        ):
            raise bad
        stored = payload.get("mahalanobis") or []
        if not isinstance(stored, list | tuple) or len(stored) != len(layers):
            raise bad
        maha = tuple(
            _mahalanobis_from_payload(p, layer) for p, layer in zip(stored, layers, strict=True)
        )
        return cls(
            method,
            float(threshold),
            scales_,
            maha,
            int(payload.get("fitted_on") or 0),
            int(payload.get("held_out") or 0),
            str(payload.get("source") or ""),
        )


ARRAYS = ("centre", "basis", "class_means", "precision")


def _mahalanobis_from_payload(payload: object, layer: str) -> Mahalanobis:
    bad = CheckpointError("the model's class means or covariance are malformed")
    if not isinstance(payload, dict) or payload.get("layer") != layer:
        raise bad
    try:
        arrays = [np.asarray(payload[name], dtype=np.float64) for name in ARRAYS]
    except (KeyError, TypeError, ValueError, RuntimeError):
        raise bad from None
    centre, basis, means, precision = arrays
    width = basis.shape[1] if basis.ndim == 2 else -1
    if (
        centre.ndim != 1
        or basis.shape != (len(centre), width)
        or means.ndim != 2
        or means.shape[1] != width
        or precision.shape != (width, width)
        or not all(np.isfinite(a).all() for a in arrays)
    ):
        raise bad
    return Mahalanobis(layer, centre, basis, means, precision)


def digit_inputs(
    images: torch.Tensor | np.ndarray | Sequence[np.ndarray],
    normalization: tuple[float, float],
) -> tuple[torch.Tensor, np.ndarray]:
    """Real digits (N, 28, 28; MNIST polarity) through the app's one preprocessing.

    The Draw tab and ``classify`` crop, fit and centre every picture; fitting on the same path
    keeps the threshold honest for what the app really feeds the model. Returns the inputs and
    the indices of the digits kept (blank ones are skipped).
    """
    from core.inference.preprocess import canvas_to_input

    arrays = images.numpy() if isinstance(images, torch.Tensor) else images
    tensors, kept = [], []
    for index, image in enumerate(arrays):
        item = canvas_to_input(np.asarray(image), normalization=normalization)
        if item.tensor is not None:
            tensors.append(item.tensor)
            kept.append(index)
    if not tensors:
        raise ValueError("no usable digits to fit the 'is this a digit' statistics on")
    return torch.stack(tensors), np.asarray(kept, dtype=np.int64)


def fit_ood(
    model: nn.Module,
    images: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray | None = None,
    *,
    normalization: tuple[float, float] = (0.1307, 0.3081),
    method: str = DEFAULT_METHOD,
    flag_rate: float = FLAG_RATE,
    threshold_images: torch.Tensor | np.ndarray | None = None,
    source: str = "",
) -> OodStats:
    """Fit "is this a digit" statistics for ``model`` on real digits it should accept.

    ``images``: (N >= 40, 28, 28) real digits as the datasets store them (ink high, uint8 or
    0..1), best held out from training (ENGINE passes a slice at the end of a run: digits the
    model learnt from look more familiar than new ones, so the threshold comes out too tight).
    ``labels`` give the class means when passed, else the model's own answers. Three quarters
    fit the statistics; the other quarter sets the threshold at its ``1 - flag_rate`` quantile.
    ``threshold_images``: other real digits that set the threshold instead (then every digit in
    ``images`` fits the statistics); the fallback passes test digits the model never learnt from.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    inputs, kept = digit_inputs(images, normalization)
    if len(inputs) < 10 * HOLDOUT_EVERY:
        raise ValueError(f"need at least {10 * HOLDOUT_EVERY} digits, got {len(inputs)}")
    outputs = _outputs_in_eval(model, inputs)
    if labels is None:
        label_array = outputs.logits.argmax(dim=1).numpy()
    else:
        label_array = np.asarray(labels, dtype=np.int64)[kept]
    held = np.zeros(len(inputs), dtype=bool)
    if threshold_images is None:
        held[::HOLDOUT_EVERY] = True
    fit_rows = outputs.rows(~held)
    maha = tuple(
        Mahalanobis.fit(layer, fit_rows, label_array[~held]) for layer in METHODS[method][1]
    )
    if threshold_images is None:
        chooser = outputs.rows(held)
    else:
        chooser = _outputs_in_eval(model, digit_inputs(threshold_images, normalization)[0])
    parts = OodStats(method, 0.0, (), maha).parts(chooser)
    scales = tuple((float(v.mean()), float(v.std()) or 1.0) for v in parts)
    scores = OodStats(method, 0.0, scales, maha).score(chooser)
    threshold = float(np.quantile(scores, 1.0 - flag_rate))
    return OodStats(method, threshold, scales, maha, int((~held).sum()), len(scores), source)


def _outputs_in_eval(model: nn.Module, inputs: torch.Tensor) -> ModelOutputs:
    was_training = model.training
    model.eval()
    try:
        return model_outputs(model, inputs)
    finally:
        model.train(was_training)


# ------------------------------------------------------------------ statistics for a checkpoint
# The bundled model learnt from the very digits the fallback fits on, and they look more familiar
# to it than new digits do: a threshold set on them flags 6.5 % of new digits instead of 5 %. So
# the fallback sets its threshold on the even-numbered half of the sample's test digits (never
# trained on); the odd-numbered half stays unseen, to check the rate (tests, benchmark).
THRESHOLD_DIGITS = slice(0, None, 2)
FALLBACK_FIT_DIGITS = 2000  # of the 4,000: about 200 per class, and half the fitting time
CHECK_DIGITS = slice(1, None, 2)
_cache: dict[str, OodStats | None] = {}
log = logging.getLogger(__name__)


def fingerprint(checkpoint: Checkpoint) -> str:
    """A short hash of a model's weights and settings: the key of its cached statistics."""
    digest = hashlib.sha1(f"{checkpoint.model_name}/{checkpoint.loss}".encode())
    digest.update(repr(tuple(checkpoint.normalization)).encode())
    for name in sorted(checkpoint.state_dict):
        digest.update(name.encode())
        digest.update(checkpoint.state_dict[name].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:20]


def _sidecar(key: str) -> Path:
    from core.resources import user_data_dir

    return user_data_dir() / "cache" / f"ood-{PAYLOAD_VERSION}-{key}.pt"


def _read_sidecar(path: Path) -> OodStats | None:
    import io
    import os

    from core.storage.safe_read import LIMITS, read_regular

    if not os.path.lexists(path):
        return None
    try:  # through the safe reader: a FIFO or /dev/zero planted in the cache is never read
        raw = read_regular(path, LIMITS["json"], "cached statistics")
        return OodStats.from_payload(
            torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
        )
    except Exception as exc:  # a damaged cache is refitted, never trusted and never fatal
        log.warning("ignoring the cached 'is this a digit' statistics %s: %s", path.name, exc)
        return None


def _write_sidecar(path: Path, stats: OodStats) -> None:
    from core.storage.atomic import atomic_path

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            torch.save(stats.to_payload(), tmp)
    except (OSError, RuntimeError) as exc:  # a read-only data folder only costs a refit
        log.warning("could not cache the 'is this a digit' statistics: %s", exc)


def ood_stats_for(checkpoint: Checkpoint, model: nn.Module | None = None) -> OodStats | None:
    """The checkpoint's own statistics (``ood`` field or ``metrics["ood"]``), else a fallback.

    The fallback is fitted once on the bundled sample's training digits and kept in a sidecar
    in the user data folder (``cache/ood-*.pt``, keyed by the weights' hash), so the GUI and the
    CLI fit it once per model. None when no digits are available to fit on.
    """
    payload = getattr(checkpoint, "ood", None) or checkpoint.metrics.get("ood")
    if payload:
        try:
            return OodStats.from_payload(payload)
        except CheckpointError as exc:
            log.warning("refitting: %s", exc)
    key = fingerprint(checkpoint)
    if key in _cache:
        return _cache[key]
    path = _sidecar(key)
    stats = _read_sidecar(path)
    if stats is None:
        stats = _fit_on_sample(checkpoint, model)
        if stats is not None:
            _write_sidecar(path, stats)
    _cache[key] = stats
    return stats


def _fit_on_sample(checkpoint: Checkpoint, model: nn.Module | None) -> OodStats | None:
    from core.data.mnist import load_sample

    try:
        sample = load_sample()
    except UserError as exc:
        log.warning("no 'is this a digit' check: %s", exc)
        return None
    return fit_ood(
        model if model is not None else checkpoint.build(),
        sample.train_images[:FALLBACK_FIT_DIGITS],
        sample.train_labels[:FALLBACK_FIT_DIGITS],
        normalization=checkpoint.normalization,
        threshold_images=sample.test_images[THRESHOLD_DIGITS],
        source="bundled sample: its training digits; threshold on half its test digits",
    )


# ------------------------------------------------------------------ probe drawings (not digits)
CANVAS = 280
PEN = 18  # the Draw tab's default pen, in pixels of its 280x280 canvas
PROBE_KINDS = ("dot", "blob", "bar", "scribble", "filled shape", "letter or symbol")
# Letters and symbols drawn as strokes in unit coordinates; only shapes no digit resembles
# (no O, I, S, Z, B, G, q, l, which are 0, 1, 5, 2, 8, 6, 9, 1 to anyone).
GLYPHS: dict[str, tuple[tuple[tuple[float, float], ...], ...]] = {
    "A": (((0.1, 0.9), (0.5, 0.1), (0.9, 0.9)), ((0.28, 0.55), (0.72, 0.55))),
    "H": (((0.15, 0.1), (0.15, 0.9)), ((0.85, 0.1), (0.85, 0.9)), ((0.15, 0.5), (0.85, 0.5))),
    "K": (((0.2, 0.1), (0.2, 0.9)), ((0.85, 0.1), (0.2, 0.55)), ((0.4, 0.42), (0.85, 0.9))),
    "M": (((0.1, 0.9), (0.1, 0.1), (0.5, 0.6), (0.9, 0.1), (0.9, 0.9)),),
    "W": (((0.05, 0.1), (0.28, 0.9), (0.5, 0.35), (0.72, 0.9), (0.95, 0.1)),),
    "X": (((0.1, 0.1), (0.9, 0.9)), ((0.9, 0.1), (0.1, 0.9))),
    "E": (((0.8, 0.1), (0.2, 0.1), (0.2, 0.9), (0.8, 0.9)), ((0.2, 0.5), (0.7, 0.5))),
    "F": (((0.8, 0.1), (0.2, 0.1), (0.2, 0.9)), ((0.2, 0.5), (0.7, 0.5))),
    "N": (((0.15, 0.9), (0.15, 0.1), (0.85, 0.9), (0.85, 0.1)),),
    "+": (((0.5, 0.1), (0.5, 0.9)), ((0.1, 0.5), (0.9, 0.5))),
    "#": (
        ((0.35, 0.1), (0.3, 0.9)),
        ((0.7, 0.1), (0.65, 0.9)),
        ((0.1, 0.35), (0.9, 0.35)),
        ((0.1, 0.65), (0.9, 0.65)),
    ),
    "*": (((0.5, 0.1), (0.5, 0.9)), ((0.15, 0.3), (0.85, 0.7)), ((0.85, 0.3), (0.15, 0.7))),
    "=": (((0.1, 0.38), (0.9, 0.38)), ((0.1, 0.62), (0.9, 0.62))),
    "T": (((0.1, 0.1), (0.9, 0.1)), ((0.5, 0.1), (0.5, 0.9))),
    "Y": (((0.1, 0.1), (0.5, 0.5), (0.9, 0.1)), ((0.5, 0.5), (0.5, 0.9))),
    "V": (((0.1, 0.1), (0.5, 0.9), (0.9, 0.1)),),
}


def _paper() -> tuple[object, object]:
    from PIL import Image, ImageDraw

    image = Image.new("L", (CANVAS, CANVAS), 255)
    return image, ImageDraw.Draw(image)


def _polyline(draw: object, points: Sequence[tuple[float, float]], width: int) -> None:
    """A pen stroke with round caps and joints, as the canvas draws it."""
    pts = [(float(x), float(y)) for x, y in points]
    if len(pts) > 1:
        draw.line(pts, fill=0, width=width, joint="curve")
    radius = width / 2.0
    for x, y in (pts[0], pts[-1]):
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=0)


def _probe(kind: str, rng: np.random.Generator) -> np.ndarray:
    """One 280x280 dark-on-white drawing of ``kind``, randomly placed, sized and tilted."""
    image, draw = _paper()
    cx, cy = rng.uniform(80, 200, 2)
    if kind == "dot":
        r = rng.uniform(4, 22)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=0)
    elif kind == "blob":
        for _ in range(int(rng.integers(2, 6))):
            x, y = cx + rng.normal(0, 18, 2)
            r = rng.uniform(15, 45)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=0)
    elif kind == "bar":
        # Bars lying down or leaning, thin to thick; an upright thin bar is a "1" and not a probe.
        angle = np.deg2rad(rng.uniform(-35, 35) + (0 if rng.random() < 0.8 else 90))
        length, width = rng.uniform(80, 220), int(rng.uniform(12, 60))
        if abs(np.cos(angle)) < 0.5 and width < 45:
            width = int(rng.uniform(45, 70))  # upright bars only when too fat for a 1
        dx, dy = np.cos(angle) * length / 2, np.sin(angle) * length / 2
        _polyline(draw, [(cx - dx, cy - dy), (cx + dx, cy + dy)], width)
    elif kind == "scribble":
        steps = int(rng.integers(12, 40))
        walk = np.cumsum(rng.normal(0, 28, (steps, 2)), axis=0) + (cx, cy)
        _polyline(draw, np.clip(walk, 10, CANVAS - 10).tolist(), int(rng.uniform(10, 24)))
    elif kind == "filled shape":
        size = rng.uniform(40, 110)
        shape = rng.integers(0, 4)
        if shape == 0:
            draw.ellipse((cx - size, cy - size * 0.8, cx + size, cy + size * 0.8), fill=0)
        elif shape == 1:
            draw.rectangle((cx - size, cy - size, cx + size, cy + size), fill=0)
        else:
            corners = 3 if shape == 2 else 10
            turn = rng.uniform(0, 2 * np.pi)
            radii = [size if i % 2 == 0 or corners == 3 else size * 0.45 for i in range(corners)]
            points = [
                (
                    cx + r * np.cos(turn + 2 * np.pi * i / corners),
                    cy + r * np.sin(turn + 2 * np.pi * i / corners),
                )
                for i, r in enumerate(radii)
            ]
            draw.polygon(points, fill=0)
    else:
        glyph = GLYPHS[list(GLYPHS)[int(rng.integers(len(GLYPHS)))]]
        size, tilt = rng.uniform(110, 200), np.deg2rad(rng.normal(0, 8))
        rotation = np.array([[np.cos(tilt), -np.sin(tilt)], [np.sin(tilt), np.cos(tilt)]])
        width = int(rng.uniform(12, 24))
        for stroke in glyph:
            unit = (np.asarray(stroke) - 0.5 + rng.normal(0, 0.02, (len(stroke), 2))) @ rotation.T
            _polyline(draw, (unit * size + (140, 140)).tolist(), width)
    return np.asarray(image, dtype=np.uint8).copy()


def probe_drawings(per_kind: int, seed: int = 0) -> dict[str, list[np.ndarray]]:
    """Non-digit drawings for measuring the detector: ``per_kind`` of each of ``PROBE_KINDS``.

    Each is a 280x280 canvas picture (dark ink on white), as the Draw tab renders a drawing.
    """
    rng = np.random.default_rng(seed)
    return {kind: [_probe(kind, rng) for _ in range(per_kind)] for kind in PROBE_KINDS}
