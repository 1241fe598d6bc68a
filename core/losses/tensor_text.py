"""Tensors typed by a person: parsed as data (JSON or one number per cell), never evaluated.

Every problem becomes a :class:`core.errors.InputError` whose message says what is wrong and
where (``prediction[1][2]``, 0-based like torch indexing) and whose ``row``/``col`` let the GUI
mark the offending cell. Nothing else escapes: a property test feeds random text to these
functions and accepts only ``InputError``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from core.errors import InputError

Grid = list[float] | list[list[float]]

MAX_ELEMENTS = 100_000  # a typed tensor; anything bigger is a paste accident
MAX_TEXT = 2_000_000
# torch's class indices are int64 ("long"); Python's ints are unbounded.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def where(field: str, row: int | None = None, col: int | None = None) -> str:
    """``prediction[1][2]`` style location used in every message."""
    text = field
    if row is not None:
        text += f"[{row}]"
    if col is not None:
        text += f"[{col}]"
    return text


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _short(text: str, limit: int = 24) -> str:
    text = text.strip()
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def parse_number(
    text: str, *, field: str = "value", row: int | None = None, col: int | None = None
) -> float:
    """One cell of a grid: a finite decimal number such as ``0.25``, ``-3`` or ``1e-3``."""
    stripped = text.strip()
    loc = where(field, row, col)
    if not stripped:
        raise InputError(f"{loc} is empty; type a number", field=field, row=row, col=col)
    try:
        value = float(stripped)
    except (ValueError, OverflowError):
        raise InputError(
            f"{loc} is {_short(stripped)}, not a number", field=field, row=row, col=col
        ) from None
    if not math.isfinite(value):
        raise InputError(
            f"{loc} is {_short(stripped)}; NaN and infinity are not allowed",
            field=field,
            row=row,
            col=col,
        )
    return value


def parse_class_index(text: str, *, field: str = "target", row: int | None = None) -> int:
    """One class index cell: a whole number (``2`` or ``2.0``)."""
    value = parse_number(text, field=field, row=row)
    return as_class_index(value, field=field, row=row)


def as_class_index(
    value: float, *, field: str = "target", row: int | None = None, col: int | None = None
) -> int:
    """A float that must be a whole number that fits torch's int64, e.g. a class index."""
    if not float(value).is_integer():
        raise InputError(
            f"{where(field, row, col)} is {value:g}; a class index must be a whole number",
            field=field,
            row=row,
            col=col,
        )
    index = int(value)
    if not INT64_MIN <= index <= INT64_MAX:
        raise InputError(
            f"{where(field, row, col)} is {value:g}; a class index must fit in a 64-bit "
            "integer (torch's long)",
            field=field,
            row=row,
            col=col,
        )
    return index


class _NonFinite:
    """Stands in for JSON's NaN/Infinity so the error can say where it was."""

    def __init__(self, name: str) -> None:
        self.name = name


def parse_json_tensor(text: str, *, field: str = "tensor", max_ndim: int = 2) -> Grid | float:
    """A JSON number, list, or list of equal-length lists of finite numbers.

    ``NaN``/``Infinity`` (which Python's json accepts), booleans, strings, objects, ragged rows,
    empty lists and nesting deeper than ``max_ndim`` are rejected with their position.
    """
    if not isinstance(text, str):
        raise InputError(f"{field} must be text", field=field)
    if len(text) > MAX_TEXT:
        raise InputError(f"{field} is too long ({len(text)} characters)", field=field)
    if not text.strip():
        raise InputError(f"{field} is empty; give a JSON list such as [[0.1, 0.9]]", field=field)
    try:
        data = json.loads(text, parse_constant=_NonFinite)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{field} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            field=field,
        ) from None
    except (ValueError, RecursionError, OverflowError) as exc:
        message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InputError(f"{field} is not usable JSON: {message}", field=field) from None
    return validate_grid(data, field=field, max_ndim=max_ndim)


def parse_tensor_text(text: str, *, field: str = "tensor", max_ndim: int = 2) -> Grid | float:
    """A pasted tensor: JSON as the CLI takes it (``[[0.1, 2.0], [0.3, 0.4]]``), torch's own
    printout (``tensor([[0.4499, 0.8788]], requires_grad=True)``) or spreadsheet cells (one row
    per line, numbers separated by tabs, commas or spaces).

    JSON and torch's printout go through :func:`parse_json_tensor`, the CLI's parser, so a paste
    and ``--prediction`` accept and refuse the same text.
    """
    if not isinstance(text, str):
        raise InputError(f"{field} must be text", field=field)
    stripped = _without_torch_wrapper(text.strip())
    if stripped.startswith("[") or not stripped:
        return parse_json_tensor(stripped, field=field, max_ndim=max_ndim)
    if len(stripped) > MAX_TEXT:
        raise InputError(f"{field} is too long ({len(stripped)} characters)", field=field)
    lines = [line for line in stripped.splitlines() if line.strip()]
    rows = [
        [
            parse_number(token, field=field, row=i, col=j)
            for j, token in enumerate(line.replace(",", " ").split())
        ]
        for i, line in enumerate(lines)
    ]
    if len(rows) == 1:
        flat: list = rows[0]
        return validate_grid(flat[0] if len(flat) == 1 else flat, field=field, max_ndim=max_ndim)
    return validate_grid(rows, field=field, max_ndim=max_ndim)


def _without_torch_wrapper(text: str) -> str:
    """``tensor([[1., 2.]], requires_grad=True)`` -> ``[[1., 2.]]``; other text unchanged."""
    if not (text.startswith("tensor(") and text.endswith(")")):
        return text
    inner = text[len("tensor(") : -1].strip()
    if inner.startswith("["):
        return _json_numbers(inner[: inner.rfind("]") + 1])
    return _json_numbers(inner.split(",")[0])


def _json_numbers(text: str) -> str:
    """torch prints ``1.`` and ``-0.``, which JSON does not accept: add the missing zero."""
    out = []
    for i, char in enumerate(text):
        out.append(char)
        if char == "." and (i + 1 == len(text) or not text[i + 1].isdigit()):
            out.append("0")
    return "".join(out)


def format_tensor_text(values: Grid | float) -> str:
    """A tensor as JSON text that :func:`parse_tensor_text` and the CLI read back exactly."""
    return json.dumps(values)


def _number(value: Any, field: str, row: int | None, col: int | None) -> float:
    if isinstance(value, _NonFinite):
        raise InputError(
            f"{where(field, row, col)} is {value.name}; NaN and infinity are not allowed",
            field=field,
            row=row,
            col=col,
        )
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = {str: "text", dict: "an object", type(None): "null", bool: "true/false"}.get(
            type(value), type(value).__name__
        )
        if isinstance(value, list):
            kind = "a nested list"
        raise InputError(
            f"{where(field, row, col)} is {kind}, not a number", field=field, row=row, col=col
        )
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise InputError(
            f"{where(field, row, col)} is too large or not finite", field=field, row=row, col=col
        )
    return number


def validate_grid(data: Any, *, field: str = "tensor", max_ndim: int = 2) -> Grid | float:
    """Check already-parsed data (numbers, lists) and return it as floats.

    Returns a float (0-D), a list of floats (1-D) or a rectangular list of lists (2-D).
    """
    if not isinstance(data, list):
        return _number(data, field, None, None)
    if not data:
        raise InputError(f"{field} is an empty list; give at least one number", field=field)
    if len(data) > MAX_ELEMENTS:
        raise InputError(f"{field} has too many rows ({len(data)})", field=field)
    if not any(isinstance(item, list) for item in data):
        return [_number(item, field, i, None) for i, item in enumerate(data)]
    if max_ndim < 2:
        row = next(i for i, item in enumerate(data) if isinstance(item, list))
        raise InputError(
            f"{where(field, row)} is a list; {field} must be a flat list of numbers",
            field=field,
            row=row,
        )
    width: int | None = None
    rows: list[list[float]] = []
    total = 0
    for i, item in enumerate(data):
        if not isinstance(item, list):
            raise InputError(
                f"{where(field, i)} is a single number but the other rows are lists",
                field=field,
                row=i,
            )
        if not item:
            raise InputError(f"{where(field, i)} is an empty row", field=field, row=i)
        if width is None:
            width = len(item)
        elif len(item) != width:
            raise InputError(
                f"{where(field, i)} has {plural(len(item), 'value')} but row 0 has {width} "
                "(ragged rows)",
                field=field,
                row=i,
            )
        total += len(item)
        if total > MAX_ELEMENTS:
            raise InputError(f"{field} has more than {MAX_ELEMENTS} values", field=field)
        row_values = []
        for j, value in enumerate(item):
            if isinstance(value, list):
                raise InputError(
                    f"{where(field, i, j)} is a nested list; at most 2 dimensions (rows of "
                    "numbers) are supported",
                    field=field,
                    row=i,
                    col=j,
                )
            row_values.append(_number(value, field, i, j))
        rows.append(row_values)
    return rows


def format_number(value: float, digits: int = 4) -> str:
    """Short display form used by the table, the GUI and the generated code."""
    if value == 0:
        return "0"
    if math.isnan(value) or math.isinf(value):
        return str(value)
    magnitude = abs(value)
    if magnitude >= 1e5 or magnitude < 10 ** (-digits):
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}f}"
