"""Prediction and target checked against what a pair needs, before torch sees them.

:func:`prepare_inputs` is the one gate: every problem becomes an ``InputError`` naming the element
(``target[2]``, ``prediction[0][1]``) so the GUI can mark the cell and the CLI print one line.
Values that are finite in Python but would become infinity in the chosen dtype are refused here
too (``1e39`` in float32), instead of turning silently into NaN results.
"""

from __future__ import annotations

from typing import Any

import torch

from core.errors import InputError
from core.losses.options import BINARY, CLASS, PROBABILITY, LossOptions, check_grid_fits
from core.losses.registry import LossPair
from core.losses.tensor_text import as_class_index, plural, validate_grid


def as_list(value: torch.Tensor | list | float, field: str) -> Any:
    """A tensor or nested list as checked plain floats (at most 2-D)."""
    if isinstance(value, torch.Tensor):
        if value.dim() > 2:
            raise InputError(
                f"{field} has {value.dim()} dimensions; at most 2 are supported", field=field
            )
        value = value.detach().cpu().tolist()
    return validate_grid(value, field=field)


def shape_text(shape: tuple[int, ...]) -> str:
    return "scalar" if not shape else "×".join(str(s) for s in shape)


def prepare_inputs(
    pair: LossPair, prediction: Any, target: Any, options: LossOptions
) -> tuple[list, list]:
    """Check prediction and target against what the pair needs; return them as plain lists."""
    x = as_list(prediction, "prediction")
    if isinstance(x, float):
        raise InputError(
            "prediction is a single number; give a list of rows, e.g. [[0.2, 0.8]]",
            field="prediction",
        )
    check_grid_fits(x, options.dtype, "prediction")
    t = as_list(target, "target")
    shape = (len(x), len(x[0])) if isinstance(x[0], list) else (len(x),)
    if pair.target_kind in (CLASS, PROBABILITY):
        _check_class_grid(shape)
    _check_option_shapes(pair, shape, options)
    if pair.target_kind == CLASS:
        return x, _class_targets(pair, t, shape, options)
    _check_probability_targets(t, shape)
    return x, t


def _check_class_grid(shape: tuple[int, ...]) -> None:
    if len(shape) != 2:
        raise InputError(
            f"prediction must be a grid of logits, one row per sample (N×C); got a flat "
            f"list of {shape[0]} — wrap it in [ ] for one sample",
            field="prediction",
        )
    if shape[1] < 2:
        raise InputError(
            "prediction has 1 column; a classification needs at least 2 classes (columns)",
            field="prediction",
            col=0,
        )


def _class_targets(
    pair: LossPair, t: Any, shape: tuple[int, ...], options: LossOptions
) -> list[int]:
    n, classes = shape
    if isinstance(t, float):
        t = [t]
    if isinstance(t[0], list):
        raise InputError(
            f"target must be one class index per row, a flat list of "
            f"{plural(n, 'whole number')}; got a {len(t)}×{len(t[0])} grid (probability "
            "targets are the ce-soft pair)",
            field="target",
        )
    if len(t) != n:
        raise InputError(
            f"target has {len(t)} class {'index' if len(t) == 1 else 'indices'} but "
            f"prediction has {plural(n, 'row')}",
            field="target",
            row=min(len(t), n) if len(t) > n else None,
        )
    uses_ignore = "ignore_index" in pair.options
    checked = []
    for i, value in enumerate(t):
        index = as_class_index(value, field="target", row=i)
        if not (0 <= index < classes) and not (uses_ignore and index == options.ignore_index):
            raise InputError(
                f"target[{i}] is class {index}, out of range: prediction has {classes} "
                f"classes, so use 0..{classes - 1}",
                field="target",
                row=i,
            )
        checked.append(index)
    _check_mean_is_defined(checked, uses_ignore, options)
    return checked


def _check_mean_is_defined(checked: list[int], uses_ignore: bool, options: LossOptions) -> None:
    if options.reduction != "mean":
        return
    kept = [v for v in checked if not (uses_ignore and v == options.ignore_index)]
    if not kept:
        raise InputError(
            f"every target equals ignore_index {options.ignore_index}, so the "
            "mean over no rows is undefined",
            field="target",
            row=0,
        )
    if options.weight is not None and sum(options.weight[v] for v in kept) == 0:
        raise InputError(
            "the weights of the target classes sum to 0, so the weighted mean is undefined",
            field="weight",
        )


def _check_probability_targets(t: Any, shape: tuple[int, ...]) -> None:
    t_shape = (
        () if isinstance(t, float) else (len(t), len(t[0])) if isinstance(t[0], list) else (len(t),)
    )
    if t_shape != shape:
        raise InputError(
            f"target has shape {shape_text(t_shape)} but must match the prediction's "
            f"{shape_text(shape)}",
            field="target",
        )
    for i, row in enumerate(t):
        for j, value in enumerate(row if isinstance(row, list) else [row]):
            if not 0.0 <= value <= 1.0:
                col = j if isinstance(row, list) else None
                loc = f"target[{i}]" + (f"[{j}]" if col is not None else "")
                raise InputError(
                    f"{loc} is {value:g}; targets must be probabilities between 0 and 1",
                    field="target",
                    row=i,
                    col=col,
                )


def _check_option_shapes(pair: LossPair, shape: tuple[int, ...], o: LossOptions) -> None:
    columns = shape[-1]
    for name in ("weight", "pos_weight"):
        values = getattr(o, name)
        if values is None or name not in pair.options:
            continue
        allowed = {columns} if pair.target_kind != BINARY else {1, columns}
        if len(values) not in allowed:
            raise InputError(
                f"{name} has {len(values)} values but the prediction has {columns} "
                f"{'classes' if pair.target_kind != BINARY else 'columns'}",
                field=name,
            )
