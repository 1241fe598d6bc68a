"""Strict JSON for the CLI and for results: NaN or infinity (a diverged run) becomes null."""

from __future__ import annotations

import json
import math
from typing import Any


def finite_or_none(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None, through dicts and lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(item) for item in value]
    return value


def dumps(value: Any) -> str:
    """One line of standard JSON (``json.dumps`` alone would print the non-standard ``NaN``)."""
    return json.dumps(finite_or_none(value), allow_nan=False)
