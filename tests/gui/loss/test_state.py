"""The playground's state without Qt: inputs → comparison, the slider's scale, the words."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.errors import InputError
from core.losses import PRESETS, SEED_EXAMPLES, LossOptions, compare
from gui.loss.state import (
    PlaygroundState,
    pasted_rows,
    scaled,
    slider_position,
    slider_scale,
)
from tests.helpers import ROOT

SEED_X, SEED_Y = SEED_EXAMPLES["ce-nll"]
BCE_X, BCE_Y = SEED_EXAMPLES["bce-logits"]


@pytest.fixture
def state():
    state = PlaygroundState("ce-nll")
    state.set_inputs(SEED_X, SEED_Y, LossOptions())
    return state


def test_importing_the_state_loads_no_qt():
    code = "import sys, gui.loss.state; print(any(m.startswith('PySide6') for m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_inputs_give_the_comparison_and_the_sweep(state):
    assert state.verdict == "agree" and state.fused_value == pytest.approx(1.6802, abs=1e-4)
    assert state.composed_value == state.fused_value
    assert state.sweep is not None and state.sweep.pair == "ce-nll"
    assert state.error is None and state.inputs_are_seed
    assert state.parting_scale is None and not state.parted


def test_listeners_hear_every_change(state):
    heard = []
    state.subscribe(lambda s: heard.append(s.scale))
    state.set_scale(10)
    state.set_inputs(SEED_X, [0, 1, 3], LossOptions())
    state.set_error(InputError("bad", field="prediction"))
    assert heard == [10.0, 10.0, 10.0]


def test_the_scale_recompares_values_and_gradients(state):
    state.set_scale(10.0)
    expected = compare("ce-nll", scaled(SEED_X, 10.0), SEED_Y)
    assert state.comparison.fused.value == expected.fused.value
    assert state.comparison.fused.grad == expected.fused.grad
    assert state.comparison.prediction[0][0] == pytest.approx(SEED_X[0][0] * 10)
    assert state.prediction == SEED_X  # the input as typed stays
    assert state.scaled_note == "at s = 10"
    state.set_scale(5000)
    assert state.scale == 1000.0
    state.set_scale(0.1)
    assert state.scale == 1.0 and state.scaled_note == ""


def test_bce_parts_past_the_sweeps_parting_scale():
    state = PlaygroundState("bce-logits")
    state.set_inputs(BCE_X, BCE_Y, LossOptions())
    parting = state.parting_scale
    assert parting is not None and 10 < parting < 100  # σ(0.6341 s) rounds to 1 near s ≈ 26
    assert not state.parted and state.verdict == "agree"
    state.set_scale(parting)
    assert state.parted
    state.set_scale(1000)
    assert state.parted and state.verdict == "differ"
    assert state.fused_value != pytest.approx(state.composed_value, rel=1e-3)
    state.set_inputs(BCE_X, BCE_Y, LossOptions(dtype="float64"))
    assert state.parting_scale is None or state.parting_scale > parting


def test_an_error_keeps_the_last_valid_comparison(state):
    before = state.comparison
    state.set_inputs(SEED_X, [0, 1, 9], LossOptions())  # class 9 of 5
    assert state.error is not None and "out of range" in str(state.error)
    assert state.comparison is before
    state.set_error(InputError("not a number", field="prediction", row=0, col=0))
    assert state.comparison is before and not state.inputs_are_seed and state.caption == ""


def test_the_lesson_caption_goes_when_the_input_changes(state):
    state.set_inputs(SEED_X, SEED_Y, LossOptions(), lesson="1.6802 for both forms")
    assert state.caption == "1.6802 for both forms"
    state.set_scale(3)
    assert state.caption == "At s = 1: 1.6802 for both forms"
    state.set_scale(1)
    edited = [row[:] for row in SEED_X]
    edited[0][4] = 3.5
    state.set_inputs(edited, SEED_Y, LossOptions())
    assert state.caption == "" and not state.inputs_are_seed
    state.set_inputs(SEED_X, SEED_Y, LossOptions())
    assert state.caption == "1.6802 for both forms"  # back to the lesson's own input


def test_every_preset_verdict_matches_compare():
    for preset in PRESETS.values():
        state = PlaygroundState(preset.pair)
        state.set_inputs(preset.prediction, preset.target, LossOptions())
        expected = compare(preset.pair, preset.prediction, preset.target)
        assert state.verdict == ("agree" if expected.agree else "differ"), preset.title


def test_slider_positions_are_a_log_scale():
    assert slider_position(1.0, 100) == 0 and slider_position(1000.0, 100) == 300
    assert slider_scale(100, 100) == pytest.approx(10.0)
    assert slider_scale(slider_position(25.0, 100), 100) == pytest.approx(25.0, rel=0.012)


def test_pasted_tensors_become_grid_rows_or_a_said_error():
    most = (64, 20)
    assert pasted_rows("class", "target", [[1], [0]], most) == [1, 0]
    assert pasted_rows("binary", "prediction", [0.1, 0.2], most) == [[0.1], [0.2]]
    assert pasted_rows("class", "prediction", [0.1, 0.2], most) == [[0.1, 0.2]]
    assert pasted_rows("probability", "target", [0.3, 0.7], most) == [[0.3], [0.7]]
    with pytest.raises(InputError, match="one index per row"):
        pasted_rows("class", "target", [[1, 0]], most)
    with pytest.raises(InputError, match="at most 64×20"):
        pasted_rows("class", "prediction", [[0.0] * 21], most)
