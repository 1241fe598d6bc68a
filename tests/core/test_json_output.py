from __future__ import annotations

import json

from core.json_output import dumps


def test_non_finite_numbers_become_null_and_output_is_strict_json():
    line = dumps(
        {"loss": float("nan"), "values": [1.5, float("inf")], "nested": {"x": -float("inf")}}
    )
    assert json.loads(line) == {"loss": None, "values": [1.5, None], "nested": {"x": None}}
    assert "NaN" not in line and "Infinity" not in line
