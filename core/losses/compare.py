"""Both forms of a pair run with autograd on the same tensors: values, gradients, grad_fns.

:func:`compare` is what the tab, the ``loss`` CLI and the tests all call, so they show the same
numbers. When a form's result is not finite, :func:`find_overflow` walks the steps the form
computes (``LossPair.steps_*``) and names the first one that stopped being finite: the verdict then
says "exp(x) is inf in float32 at prediction[0][2] = 100", never "rounding".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch

from core.json_output import finite_or_none
from core.losses.forms import bce_of_sigmoid
from core.losses.options import CLASS, PROBABILITY, TOLERANCES, LossOptions
from core.losses.registry import LossPair, get_pair
from core.losses.tensor_text import format_number, where
from core.losses.validation import prepare_inputs

# BCELoss's backward divides by max(σ(1 − σ), 1e-12) (ATen Loss.cpp, EPSILON).
BCE_BACKWARD_FLOOR = 1e-12
MAX_SATURATION_NOTES = 3


@dataclass
class FormResult:
    """One form's outcome. ``value``: float, or a list for reduction "none"; ``grad`` is the
    gradient of the loss (of its sum for "none") with respect to the prediction."""

    label: str
    value: float | list[float]
    grad: list
    grad_fn: str


@dataclass
class SaturatedValue:
    """One prediction element where the composed form saturates: its place (``col`` 0 for a
    flat prediction) and the sentence saying what torch did there."""

    row: int
    col: int
    text: str


@dataclass
class LossComparison:
    """Everything the views show for one comparison. ``overflow`` is ``None``, or the sentence
    naming the step where a result stopped being finite."""

    pair: str
    options: LossOptions
    fused: FormResult
    composed: FormResult
    value_diff: float
    grad_diff: float
    agree: bool
    intermediates: dict[str, list]
    notes: list[str]
    prediction: list
    target: list
    overflow: str | None = None
    overflow_step: str | None = None
    saturated: list[SaturatedValue] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (non-finite numbers become null, with a note)."""
        return finite_or_none(asdict(self))


def target_tensor(spec: LossPair, t_list: list, dtype: torch.dtype) -> torch.Tensor:
    if spec.target_kind == CLASS:
        return torch.tensor(t_list, dtype=torch.long)
    return torch.tensor(t_list, dtype=dtype)


def _value(loss: torch.Tensor) -> float | list[float]:
    return loss.detach().tolist() if loss.dim() else float(loss.detach())


def _run_form(
    form: Any, label: str, x_list: list, t: torch.Tensor, options: LossOptions
) -> tuple[torch.Tensor, torch.Tensor, FormResult]:
    x = torch.tensor(x_list, dtype=options.torch_dtype, requires_grad=True)
    loss = form(x, t, options)
    grad_fn = type(loss.grad_fn).__name__ if loss.grad_fn is not None else "None"
    (grad,) = torch.autograd.grad(loss.sum(), x)
    return loss.detach(), grad, FormResult(label, _value(loss), grad.tolist(), grad_fn)


def compare(
    pair: str,
    prediction: torch.Tensor | list,
    target: torch.Tensor | list,
    options: LossOptions | None = None,
) -> LossComparison:
    """Run both forms of ``pair`` with autograd and report values, gradients and grad_fns.

    Raises ``InputError`` (a ``UserError``) for malformed tensors, shapes or options.
    """
    spec = get_pair(pair)
    options = (options or LossOptions()).validate()
    x_list, t_list = prepare_inputs(spec, prediction, target, options)
    t = target_tensor(spec, t_list, options.torch_dtype)
    fused_loss, fused_grad, fused = _run_form(spec.fused, spec.fused_label, x_list, t, options)
    composed_loss, composed_grad, composed = _run_form(
        spec.composed, spec.composed_label, x_list, t, options
    )
    rtol, atol = TOLERANCES[options.dtype]
    agree = bool(
        torch.allclose(fused_loss, composed_loss, rtol=rtol, atol=atol)
        and torch.allclose(fused_grad, composed_grad, rtol=rtol, atol=atol)
    )
    with torch.no_grad():
        x = torch.tensor(x_list, dtype=options.torch_dtype)
        intermediates = {name: v.tolist() for name, v in spec.intermediates(x).items()}
        found = find_overflow(spec, x, t, options, (fused_loss, fused_grad), "fused")
        found = found or find_overflow(
            spec, x, t, options, (composed_loss, composed_grad), "composed"
        )
        notes = _notes(spec, options, t_list)
        saturated = []
        if spec.composed is bce_of_sigmoid:
            saturated = bce_saturation(x, t, options.dtype, fused.grad, composed.grad)
            notes += saturation_notes(saturated)
    return LossComparison(
        pair=spec.name,
        options=options,
        fused=fused,
        composed=composed,
        value_diff=float((fused_loss.double() - composed_loss.double()).abs().max()),
        grad_diff=float((fused_grad.double() - composed_grad.double()).abs().max()),
        agree=agree,
        intermediates=intermediates,
        notes=notes,
        prediction=x_list,
        target=t_list,
        overflow=found[0] if found else None,
        overflow_step=found[1] if found else None,
        saturated=saturated,
    )


def _notes(spec: LossPair, options: LossOptions, t_list: list) -> list[str]:
    notes = [
        f"{spec.composed_label} cannot honour {name}: {why}"
        for name, why in spec.ignored_options(options).items()
    ]
    for name in sorted(options.active() - set(spec.options)):
        notes.append(f"{name} does not apply to {spec.name}; both forms ignore it")
    if spec.target_kind == PROBABILITY:
        for i, row in enumerate(t_list):
            total = sum(row)
            if abs(total - 1.0) > 1e-3:
                notes.append(f"target[{i}] sums to {total:.4g}, not 1 (allowed, but unusual)")
                break
    return notes


# ------------------------------------------------------------------------------ overflow
def _first_bad(tensor: torch.Tensor) -> tuple[tuple[int, ...], float]:
    bad = (~torch.isfinite(tensor)).nonzero()[0].tolist()
    return tuple(bad), float(tensor[tuple(bad)])


def _describe(bad: float) -> str:
    return "NaN" if math.isnan(bad) else ("inf" if bad > 0 else "−inf")


def _at_prediction(index: tuple[int, ...], x: torch.Tensor) -> str:
    """Where in the prediction a step's element comes from (same row, same column if any)."""
    if not index:
        return ""
    if len(index) == 2 and x.dim() == 2 and index[1] < x.shape[1]:
        row, col = index
        return f" at {where('prediction', row, col)} = {float(x[row, col]):g}"
    return f" in row {index[0]}"


def find_overflow(
    spec: LossPair,
    x: torch.Tensor,
    t: torch.Tensor,
    options: LossOptions,
    result: tuple[torch.Tensor, torch.Tensor],
    which: str,
) -> tuple[str, str] | None:
    """The first step of form ``which`` ("fused"/"composed") whose values are not finite: the
    sentence and the step's name; ``None`` when that form's value and gradient are finite."""
    loss, grad = result
    if bool(torch.isfinite(loss).all()) and bool(torch.isfinite(grad).all()):
        return None
    form = spec.fused if which == "fused" else spec.composed
    label = spec.fused_label if which == "fused" else spec.composed_label
    steps = dict((spec.steps_fused if which == "fused" else spec.steps_composed)(x))
    steps["a per-sample loss"] = form(x, t, replace(options, reduction="none"))
    steps[f"the loss (reduction {options.reduction})"] = loss
    for step, values in steps.items():
        if not bool(torch.isfinite(values).all()):
            index, bad = _first_bad(values)
            where_text = _at_prediction(index, x) if values.dim() in (1, 2) else ""
            sentence = (
                f"in {label}, {step} is {_describe(bad)} in {options.dtype}{where_text}"
                f"{_advice(step, options.dtype)}"
            )
            return sentence, step
    sentence = (
        f"in {label}, the value is finite but its gradient is not in {options.dtype}: "
        "backward overflowed"
    )
    return sentence, "the backward pass"


def _advice(step: str, dtype: str) -> str:
    limit = math.log(float(torch.finfo(torch.float32 if dtype == "float32" else torch.float64).max))
    if step.startswith("exp("):
        return (
            f" (exp overflows above {limit:.1f} in {dtype}; the fused form subtracts the row max)"
        )
    return ""


# ------------------------------------------------------------------------------ BCE saturation
def bce_saturation(
    x: torch.Tensor, t: torch.Tensor, dtype: str, fused_grad: list, composed_grad: list
) -> list[SaturatedValue]:
    """Why BCELoss(Sigmoid(x)) parts from BCEWithLogitsLoss, element by element, in words.

    Two mechanisms in torch: a sigmoid that rounds to exactly 0 or 1 makes log 0, which BCELoss
    clamps to −100 (gradient 0); and BCELoss's backward divides by max(σ(1 − σ), 1e-12), so where
    σ(1 − σ) is below 1e-12 the gradient is scaled down by σ(1 − σ) / 1e-12.
    """
    p = torch.sigmoid(x)
    flat_x, flat_p, flat_t = x.reshape(-1), p.reshape(-1), t.reshape(-1)
    width = x.shape[1] if x.dim() == 2 else 1
    fused_flat = torch.tensor(fused_grad, dtype=torch.float64).reshape(-1)
    composed_flat = torch.tensor(composed_grad, dtype=torch.float64).reshape(-1)
    rounded = ((flat_p == 1.0) & (flat_t < 1.0)) | ((flat_p == 0.0) & (flat_t > 0.0))
    p64 = flat_p.double()  # the product as the sentence computes it, in float64
    spread = p64 * (1.0 - p64)
    shrunk = (spread > 0.0) & (spread < BCE_BACKWARD_FLOOR)
    found: list[SaturatedValue] = []
    for k in (rounded | shrunk).nonzero().reshape(-1).tolist():  # only the saturated elements
        p_k = float(flat_p[k])
        row, col = divmod(k, width)
        cell = where("x", row, col) if x.dim() == 2 else where("x", k)
        lead = f"{cell} = {float(flat_x[k]):g}"
        grads = (
            f"{format_number(float(composed_flat[k]))} "
            f"(exact: {format_number(float(fused_flat[k]))})"
        )
        if bool(rounded[k]):
            text = (
                f"{lead}: Sigmoid rounds to exactly {p_k:g} in {dtype}; BCELoss clamps "
                f"log 0 = −inf to −100, so the gradient is {grads}"
            )
        else:
            factor = p_k * (1.0 - p_k) / BCE_BACKWARD_FLOOR
            text = (
                f"{lead}: σ(1 − σ) = {p_k * (1 - p_k):.2g} is below the 1e-12 BCELoss's "
                f"backward divides by at least, so the gradient shrinks ×{factor:.2g}: {grads}"
            )
        found.append(SaturatedValue(row, col, text))
    return found


def saturation_notes(saturated: list[SaturatedValue]) -> list[str]:
    """The first MAX_SATURATION_NOTES sentences, then how many more there are."""
    notes = [s.text for s in saturated[:MAX_SATURATION_NOTES]]
    if len(saturated) > MAX_SATURATION_NOTES:
        notes.append(f"… and {len(saturated) - MAX_SATURATION_NOTES} more saturated values")
    return notes
