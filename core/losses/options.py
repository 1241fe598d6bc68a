"""What a comparison is asked to do: the options torch's losses take, checked once.

:meth:`LossOptions.validate` is the one place where an option a user typed is judged: a reduction
or dtype torch does not know, a smoothing outside [0, 1], an ignore index that does not fit in
torch's 64-bit ``long``, negative weights, and weights too large for the chosen dtype all become
one :class:`core.errors.InputError` sentence (the CLI prints it as ``error: ...``, the tab marks the
field).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from core.errors import InputError
from core.losses.tensor_text import INT64_MAX, INT64_MIN, validate_grid, where

REDUCTIONS = ("mean", "sum", "none")
DTYPES = {"float32": torch.float32, "float64": torch.float64}
# Tolerances for "the two forms agree", per dtype: (relative, absolute).
TOLERANCES = {"float32": (1e-4, 1e-5), "float64": (1e-9, 1e-12)}

CLASS, PROBABILITY, BINARY = "class", "probability", "binary"
DEFAULT_IGNORE_INDEX = -100


def largest(dtype: str) -> float:
    """The largest finite number ``dtype`` holds (3.4e38 for float32)."""
    return float(torch.finfo(DTYPES[dtype]).max)


def short_g(value: float) -> str:
    """``1e39`` rather than ``1e+39``: how a person writes a large number."""
    return f"{value:.3g}".replace("e+", "e")


def check_fits(
    value: float, dtype: str, *, field: str, row: int | None = None, col: int | None = None
) -> None:
    """Refuse a finite number that would become infinity when stored in ``dtype``.

    torch.tensor(1e39, dtype=torch.float32) is silently ``inf``; the learner then sees NaN
    results with no reason, so the value is refused where it was typed instead.
    """
    limit = largest(dtype)
    if abs(value) > limit:
        bigger = "float64" if dtype == "float32" else None
        advice = f": use {bigger}" if bigger else ""
        raise InputError(
            f"{where(field, row, col)} is {short_g(value)}, which does not fit in {dtype} "
            f"(largest {short_g(limit)}){advice}",
            field=field,
            row=row,
            col=col,
        )


def check_grid_fits(grid: list | float, dtype: str, field: str) -> None:
    """:func:`check_fits` for every element of a 0-, 1- or 2-D list, naming the first bad one."""
    if isinstance(grid, int | float):
        check_fits(grid, dtype, field=field)
        return
    for i, row in enumerate(grid):
        if isinstance(row, list):
            for j, value in enumerate(row):
                check_fits(value, dtype, field=field, row=i, col=j)
        else:
            check_fits(row, dtype, field=field, row=i)


@dataclass
class LossOptions:
    """Options torch's losses take; each pair uses those it supports and reports the rest.

    ``weight``: per-class weights (C,) for CE/NLL, per-column for BCE. ``pos_weight``: per-column
    weight of the positive term (BCEWithLogitsLoss only). ``dtype``: "float32" or "float64".
    """

    reduction: str = "mean"
    weight: Sequence[float] | None = None
    label_smoothing: float = 0.0
    ignore_index: int = DEFAULT_IGNORE_INDEX
    pos_weight: Sequence[float] | None = None
    dtype: str = "float32"

    def validate(self) -> LossOptions:
        """Check every option (see the module docstring); returns self with weights as floats."""
        if self.reduction not in REDUCTIONS:
            raise InputError(
                f"unknown reduction {self.reduction!r}; choose mean, sum or none",
                field="reduction",
            )
        if self.dtype not in DTYPES:
            raise InputError(
                f"unknown dtype {self.dtype!r}; choose float32 or float64", field="dtype"
            )
        smoothing = self.label_smoothing
        if not (isinstance(smoothing, int | float) and 0.0 <= smoothing <= 1.0):
            raise InputError(
                f"label smoothing must be between 0 and 1, got {smoothing}", field="label_smoothing"
            )
        self._validate_ignore_index()
        for name in ("weight", "pos_weight"):
            self._validate_weights(name)
        return self

    def _validate_ignore_index(self) -> None:
        index = self.ignore_index
        if isinstance(index, bool) or not isinstance(index, int):
            raise InputError(
                f"ignore index must be a whole number, got {index!r}", field="ignore_index"
            )
        if not INT64_MIN <= index <= INT64_MAX:
            raise InputError(
                f"ignore index {index} does not fit in a 64-bit integer (torch's long holds "
                f"{INT64_MIN} to {INT64_MAX})",
                field="ignore_index",
            )

    def _validate_weights(self, name: str) -> None:
        values = getattr(self, name)
        if values is None:
            return
        checked = validate_grid(list(values), field=name, max_ndim=1)
        if isinstance(checked, float):
            checked = [checked]
        for i, value in enumerate(checked):
            if value < 0:
                raise InputError(
                    f"{name}[{i}] is negative; weights must be >= 0", field=name, row=i
                )
            check_fits(value, self.dtype, field=name, row=i)
        setattr(self, name, [float(v) for v in checked])

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]

    def active(self) -> set[str]:
        """Names of the options set away from their defaults (reduction and dtype aside)."""
        active = set()
        if self.weight is not None:
            active.add("weight")
        if self.label_smoothing:
            active.add("label_smoothing")
        if self.ignore_index != DEFAULT_IGNORE_INDEX:
            active.add("ignore_index")
        if self.pos_weight is not None:
            active.add("pos_weight")
        return active
