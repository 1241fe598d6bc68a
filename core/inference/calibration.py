"""Calibration: does "90 % sure" mean right 9 times in 10? Measured, drawn and fixed.

Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks", ICML 2017) divides
the logits by one scalar T fitted on held-out data by minimising the negative log-likelihood. It
cannot change a single answer (argmax is unchanged), only how sure the answers are. The
expected calibration error (ECE) uses 15 equal-width confidence bins, the paper's measure:
``sum_b (n_b / N) * |accuracy_b - confidence_b|``.

Contract: ``fit_temperature(logits, labels) -> float`` (the trainer calls it on its held-out
slice; ``Checkpoint.temperature`` stores it), ``reliability(probabilities, labels)`` gives the
bins a reliability diagram draws and the ECE, and ``calibration_report`` gives both, before and
after T, for a model's outputs on a test set (``core.training.evaluation.log_probabilities`` computes them;
``evaluate --json`` prints its ``ece`` and ``temperature``). Nothing here imports Qt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from core.storage.checkpoint import TEMPERATURE_RANGE

ECE_BINS = 15
_GOLDEN = (math.sqrt(5) - 1) / 2


@dataclass
class ReliabilityBins:
    """Equal-width confidence bins: what a reliability diagram draws, and the ECE they give.

    ``confidence[b]`` and ``accuracy[b]`` are NaN for an empty bin (``count[b] == 0``).
    """

    edges: list[float]  # bins + 1 values from 0 to 1
    confidence: list[float]  # mean confidence of the answers in each bin
    accuracy: list[float]  # share of those answers that were right
    count: list[int]
    ece: float  # expected calibration error, 0..1

    @property
    def samples(self) -> int:
        return int(sum(self.count))


@dataclass
class CalibrationReport:
    """A model's calibration on one set of digits, before and after its temperature."""

    temperature: float
    before: ReliabilityBins  # T = 1
    after: ReliabilityBins  # with ``temperature``
    nll_before: float
    nll_after: float


def _as_tensor(values: torch.Tensor | np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(values, np.ndarray):
        values = torch.from_numpy(np.ascontiguousarray(values))
    return values.detach().to("cpu", dtype=dtype)


def _nll(logits: torch.Tensor, labels: torch.Tensor, temperature: float) -> float:
    return float(torch.nn.functional.cross_entropy(logits / temperature, labels))


def fit_temperature(
    logits: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray, iterations: int = 80
) -> float:
    """The temperature T minimising the mean NLL of ``softmax(logits / T)`` on ``labels``.

    A golden-section search over 1/T: the NLL is convex in 1/T (log-sum-exp of a linear function
    minus a linear one), so the search finds the minimum without the tuning LBFGS needs, and is
    deterministic. ``logits`` may be log-probabilities (an ``nll`` head): softmax ignores the
    per-row constant. T is kept within ``TEMPERATURE_RANGE``; no data gives 1.0.
    """
    z = _as_tensor(logits, torch.float64)
    y = _as_tensor(labels, torch.int64)
    if z.ndim != 2 or y.shape != (z.shape[0],):
        raise ValueError(
            f"need logits (N, C) and labels (N,), got {tuple(z.shape)} and {tuple(y.shape)}"
        )
    if z.shape[0] == 0 or not torch.isfinite(z).all():
        return 1.0
    low, high = 1.0 / TEMPERATURE_RANGE[1], 1.0 / TEMPERATURE_RANGE[0]  # bounds on 1/T
    a = high - _GOLDEN * (high - low)
    b = low + _GOLDEN * (high - low)
    fa, fb = _nll(z, y, 1 / a), _nll(z, y, 1 / b)
    for _ in range(iterations):
        if fa < fb:
            high, b, fb = b, a, fa
            a = high - _GOLDEN * (high - low)
            fa = _nll(z, y, 1 / a)
        else:
            low, a, fa = a, b, fb
            b = low + _GOLDEN * (high - low)
            fb = _nll(z, y, 1 / b)
    return float(1.0 / ((low + high) / 2))


def reliability(
    probabilities: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray,
    bins: int = ECE_BINS,
) -> ReliabilityBins:
    """Bin each answer by its confidence (the top probability); accuracy and ECE per bin.

    A confidence of exactly 1.0 falls in the last bin, 0 < c <= 1/bins in the first (bins are
    closed on the right, as in Guo et al.).
    """
    p = _as_tensor(probabilities, torch.float64)
    y = _as_tensor(labels, torch.int64)
    confidence, predicted = p.max(dim=1) if len(p) else (torch.zeros(0), torch.zeros(0))
    correct = (predicted.to(torch.int64) == y).to(torch.float64)
    index = torch.clamp(torch.ceil(confidence.double() * bins).to(torch.int64) - 1, 0, bins - 1)
    count = torch.bincount(index, minlength=bins).to(torch.float64)
    conf_sum = torch.zeros(bins, dtype=torch.float64).index_add_(0, index, confidence.double())
    right_sum = torch.zeros(bins, dtype=torch.float64).index_add_(0, index, correct)
    filled = count > 0
    mean_conf = torch.where(filled, conf_sum / count.clamp(min=1), torch.nan)
    mean_acc = torch.where(filled, right_sum / count.clamp(min=1), torch.nan)
    total = float(count.sum())
    gaps = torch.where(filled, (mean_acc - mean_conf).abs() * count, 0.0)
    ece = float(gaps.sum()) / total if total else 0.0
    return ReliabilityBins(
        edges=[i / bins for i in range(bins + 1)],
        confidence=mean_conf.tolist(),
        accuracy=mean_acc.tolist(),
        count=[int(c) for c in count.tolist()],
        ece=ece,
    )


def expected_calibration_error(
    probabilities: torch.Tensor | np.ndarray,
    labels: torch.Tensor | np.ndarray,
    bins: int = ECE_BINS,
) -> float:
    """ECE with ``bins`` equal-width bins (15 by default), 0..1."""
    return reliability(probabilities, labels, bins).ece


def calibration_report(
    logits: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray, temperature: float
) -> CalibrationReport:
    """Reliability and NLL of ``logits`` at T = 1 and at ``temperature``."""
    z = _as_tensor(logits, torch.float64)
    y = _as_tensor(labels, torch.int64)
    return CalibrationReport(
        temperature=float(temperature),
        before=reliability(torch.softmax(z, dim=1), y),
        after=reliability(torch.softmax(z / temperature, dim=1), y),
        nll_before=_nll(z, y, 1.0) if len(z) else 0.0,
        nll_after=_nll(z, y, temperature) if len(z) else 0.0,
    )
