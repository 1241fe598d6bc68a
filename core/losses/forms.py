"""The forms being compared: fused torch losses, their compositions, and what lies between.

Every form has the signature ``form(x, target, options) -> loss``. The *views* functions return
the intermediate tensors the playground shows ("softmax(x)", ...); the *steps* functions return the
same chain a form computes, in order, so that a result that is not finite can be traced to the
first step that overflowed (:func:`core.losses.compare.find_overflow`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from core.losses.options import LossOptions

LossForm = Callable[[torch.Tensor, torch.Tensor, LossOptions], torch.Tensor]
Views = Callable[[torch.Tensor], dict[str, torch.Tensor]]


def _tensor(values: Sequence[float] | None, like: torch.Tensor) -> torch.Tensor | None:
    return None if values is None else torch.tensor(values, dtype=like.dtype)


def _ce_kwargs(
    o: LossOptions, x: torch.Tensor, *, smoothing: bool = True, ignore: bool = True
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"weight": _tensor(o.weight, x), "reduction": o.reduction}
    if ignore:
        kwargs["ignore_index"] = o.ignore_index
    if smoothing:
        kwargs["label_smoothing"] = float(o.label_smoothing)
    return kwargs


# ------------------------------------------------------------------------------ fused and composed
def cross_entropy(x: torch.Tensor, y: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return nn.CrossEntropyLoss(**_ce_kwargs(o, x))(x, y)


def soft_cross_entropy_fused(x: torch.Tensor, t: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return nn.CrossEntropyLoss(**_ce_kwargs(o, x, ignore=False))(x, t)


def nll_of_log_softmax(x: torch.Tensor, y: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return nn.NLLLoss(**_ce_kwargs(o, x, smoothing=False))(nn.LogSoftmax(dim=1)(x), y)


def nll_of_raw(x: torch.Tensor, y: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return nn.NLLLoss(**_ce_kwargs(o, x, smoothing=False))(x, y)


def ce_of_softmax(x: torch.Tensor, y: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return nn.CrossEntropyLoss(**_ce_kwargs(o, x))(nn.Softmax(dim=1)(x), y)


def ce_of_log_softmax(x: torch.Tensor, y: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return nn.CrossEntropyLoss(**_ce_kwargs(o, x))(nn.LogSoftmax(dim=1)(x), y)


def naive_log_softmax(x: torch.Tensor) -> torch.Tensor:
    """``log(exp(x) / exp(x).sum())`` exactly as a textbook writes it: no max subtracted, so
    exp overflows to inf above about 88.7 in float32 (709.8 in float64) and inf / inf is NaN."""
    e = torch.exp(x)
    return torch.log(e / e.sum(dim=1, keepdim=True))


def nll_of_naive_softmax(x: torch.Tensor, y: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return nn.NLLLoss(**_ce_kwargs(o, x, smoothing=False))(naive_log_softmax(x), y)


def manual_cross_entropy(
    x: torch.Tensor,
    y: torch.Tensor,
    weight: torch.Tensor | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Cross-entropy written out: ``-(x[i, y_i] - logsumexp(x_i))``, plus torch's options."""
    n_classes = x.shape[1]
    log_p = x - torch.logsumexp(x, dim=1, keepdim=True)  # log-softmax by hand
    keep = y != ignore_index
    safe_y = torch.where(keep, y, 0)
    w = torch.ones(n_classes, dtype=x.dtype) if weight is None else weight
    w_y = w[safe_y] * keep  # weight of each row's true class; 0 for ignored rows
    nll = -log_p.gather(1, safe_y[:, None]).squeeze(1) * w_y
    smooth = -(log_p * w).sum(dim=1) * keep  # label smoothing spreads over all classes
    loss = (1 - label_smoothing) * nll + label_smoothing / n_classes * smooth
    if reduction == "mean":
        return loss.sum() / w_y.sum()
    if reduction == "sum":
        return loss.sum()
    return loss


def soft_cross_entropy(
    x: torch.Tensor,
    t: torch.Tensor,
    weight: torch.Tensor | None = None,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Cross-entropy against probability targets: ``-(t * LogSoftmax(x)).sum(1)``, reduced."""
    n_classes = x.shape[1]
    t = t * (1 - label_smoothing) + label_smoothing / n_classes
    w = 1.0 if weight is None else weight
    loss = -(t * w * nn.LogSoftmax(dim=1)(x)).sum(dim=1)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def manual(x: torch.Tensor, y: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return manual_cross_entropy(
        x, y, _tensor(o.weight, x), o.ignore_index, float(o.label_smoothing), o.reduction
    )


def soft(x: torch.Tensor, t: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return soft_cross_entropy(x, t, _tensor(o.weight, x), float(o.label_smoothing), o.reduction)


def bce_with_logits(x: torch.Tensor, t: torch.Tensor, o: LossOptions) -> torch.Tensor:
    loss = nn.BCEWithLogitsLoss(
        weight=_tensor(o.weight, x), pos_weight=_tensor(o.pos_weight, x), reduction=o.reduction
    )
    return loss(x, t)


def bce_of_sigmoid(x: torch.Tensor, t: torch.Tensor, o: LossOptions) -> torch.Tensor:
    return nn.BCELoss(weight=_tensor(o.weight, x), reduction=o.reduction)(nn.Sigmoid()(x), t)


# ------------------------------------------------------------------------------ views
def softmax_views(x: torch.Tensor) -> dict[str, torch.Tensor]:
    return {"softmax(x)": torch.softmax(x, 1), "log_softmax(x)": torch.log_softmax(x, 1)}


def double_softmax_views(x: torch.Tensor) -> dict[str, torch.Tensor]:
    p = torch.softmax(x, 1)
    return {
        "softmax(x)": p,
        "softmax(softmax(x))": torch.softmax(p, 1),
        "log_softmax(softmax(x))": torch.log_softmax(p, 1),
    }


def raw_nll_views(x: torch.Tensor) -> dict[str, torch.Tensor]:
    return {
        "log_softmax(x)": torch.log_softmax(x, 1),
        "softmax(x)": torch.softmax(x, 1),
        "x (used as log-probs)": x,
    }


def idempotent_views(x: torch.Tensor) -> dict[str, torch.Tensor]:
    log_p = torch.log_softmax(x, 1)
    return {
        "log_softmax(x)": log_p,
        "log_softmax(log_softmax(x))": torch.log_softmax(log_p, 1),
        "softmax(x)": torch.softmax(x, 1),
    }


def naive_views(x: torch.Tensor) -> dict[str, torch.Tensor]:
    e = torch.exp(x)
    return {
        "softmax(x)": torch.softmax(x, 1),
        "exp(x)": e,
        "log(exp(x) / exp(x).sum())": torch.log(e / e.sum(dim=1, keepdim=True)),
        "log_softmax(x)": torch.log_softmax(x, 1),
    }


def sigmoid_views(x: torch.Tensor) -> dict[str, torch.Tensor]:
    return {
        "sigmoid(x)": torch.sigmoid(x),
        "log sigmoid(x)": nn.functional.logsigmoid(x),
        "log(1 - sigmoid(x))": nn.functional.logsigmoid(-x),
    }


# ------------------------------------------------------------------------------ steps
def fused_softmax_steps(x: torch.Tensor) -> dict[str, torch.Tensor]:
    """What a fused log-softmax does inside: subtract the row max, then log-sum-exp."""
    shifted = x - x.max(dim=1, keepdim=True).values
    return {
        "x − max(x) (the row max subtracted inside log_softmax)": shifted,
        "logsumexp(x − max(x))": torch.logsumexp(shifted, dim=1),
        "log_softmax(x)": torch.log_softmax(x, 1),
    }


def naive_steps(x: torch.Tensor) -> dict[str, torch.Tensor]:
    e = torch.exp(x)
    total = e.sum(dim=1, keepdim=True)
    return {
        "exp(x)": e,
        "exp(x).sum(1)": total,
        "exp(x) / exp(x).sum(1)": e / total,
        "log(exp(x) / exp(x).sum(1))": torch.log(e / total),
    }


def softmax_then_fused_steps(x: torch.Tensor) -> dict[str, torch.Tensor]:
    return {"softmax(x)": torch.softmax(x, 1), **fused_softmax_steps(torch.softmax(x, 1))}


def sigmoid_steps(x: torch.Tensor) -> dict[str, torch.Tensor]:
    p = torch.sigmoid(x)
    return {
        "sigmoid(x)": p,
        "log(sigmoid(x))": torch.log(p),
        "log(1 − sigmoid(x))": torch.log(1 - p),
    }


def logits_bce_steps(x: torch.Tensor) -> dict[str, torch.Tensor]:
    return {
        "max(x, 0)": x.clamp(min=0),
        "log(1 + exp(−|x|))": torch.log1p(torch.exp(-x.abs())),
    }


def raw_steps(x: torch.Tensor) -> dict[str, torch.Tensor]:
    return {"x": x}
