"""A comparison as a runnable PyTorch script, and loss values as text.

``pytorch_code`` is what "Copy as PyTorch code" puts on the clipboard: plain ``torch.nn`` calls
with the same tensors and options, so a learner can check every number outside the app (a test
runs the script and compares).
"""

from __future__ import annotations

from typing import Any

from core.losses.compare import LossComparison
from core.losses.options import CLASS, DEFAULT_IGNORE_INDEX, LossOptions
from core.losses.registry import PAIRS, LossPair
from core.losses.tensor_text import format_number


def _literal(values: Any) -> str:
    return repr(values)


def pytorch_code(comparison: LossComparison) -> str:
    """A runnable script reproducing ``comparison`` with plain PyTorch calls."""
    spec = PAIRS[comparison.pair]
    o = comparison.options
    dtype_arg = ", dtype=torch.float64" if o.dtype == "float64" else ""
    lines = [
        f"# Digit Lab loss playground: {spec.name} ({spec.title})",
        "import torch",
        "import torch.nn as nn",
        "",
    ]
    if spec.helpers:
        lines += [spec.helpers, ""]
    lines.append(
        f"x = torch.tensor({_literal(comparison.prediction)}{dtype_arg}, requires_grad=True)"
    )
    if spec.target_kind == CLASS:
        lines.append(f"y = torch.tensor({_literal(comparison.target)})")
    else:
        lines.append(f"t = torch.tensor({_literal(comparison.target)}{dtype_arg})")
    if o.weight is not None:
        lines.append(f"weight = torch.tensor({_literal(list(o.weight))}{dtype_arg})")
    if o.pos_weight is not None:
        lines.append(f"pos_weight = torch.tensor({_literal(list(o.pos_weight))}{dtype_arg})")
    kw = _code_kwargs(spec, o)
    lines += [
        "",
        f"fused = {spec.code_fused.format(**kw)}",
        f"composed = {spec.code_composed.format(**kw)}",
        "(grad_fused,) = torch.autograd.grad(fused.sum(), x)",
        "(grad_composed,) = torch.autograd.grad(composed.sum(), x)",
        "",
        f"print({spec.fused_label!r}, fused, type(fused.grad_fn).__name__)",
        f"print({spec.composed_label!r}, composed, type(composed.grad_fn).__name__)",
        "print('value difference', (fused - composed).abs().max().item())",
        "print('largest gradient difference', (grad_fused - grad_composed).abs().max().item())",
    ]
    return "\n".join(lines) + "\n"


def _code_kwargs(spec: LossPair, o: LossOptions) -> dict[str, str]:
    weight = "weight=weight" if o.weight is not None else ""
    ignore = f"ignore_index={o.ignore_index}" if o.ignore_index != DEFAULT_IGNORE_INDEX else ""
    smoothing = f"label_smoothing={float(o.label_smoothing)!r}" if o.label_smoothing else ""
    pos = "pos_weight=pos_weight" if o.pos_weight is not None else ""
    reduction = f"reduction={o.reduction!r}"

    def join(*parts: str) -> str:
        return ", ".join(p for p in parts if p)

    applies = set(spec.options)
    smoothing = smoothing if "label_smoothing" in applies else ""
    ignore = ignore if "ignore_index" in applies else ""
    pos = pos if "pos_weight" in applies else ""
    return {
        "ce": join(weight, ignore, smoothing, reduction),
        "soft": join(weight, smoothing, reduction),
        "nll": join(weight, ignore, reduction),
        "bce_logits": join(weight, pos, reduction),
        "bce": join(weight, reduction),
        "manual_call": "".join(", " + p for p in (weight, ignore, smoothing, reduction) if p),
        "soft_call": "".join(", " + p for p in (weight, smoothing, reduction) if p),
    }


def format_value(value: float | list) -> str:
    """A loss value (a number, or nested lists for reduction "none") with 4 decimals."""
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return format_number(value)
