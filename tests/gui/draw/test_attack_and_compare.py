"""Fool the model, Side by side and Turn it: the Draw tab's dialogs over core.inference."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from core.storage.checkpoint import Checkpoint
from core.training.models import build_model
from gui.app_state import AppState
from gui.draw.draw_canvas import Stroke
from gui.draw.draw_tab import DrawTab

SEVEN = ((0.3, 0.25), (0.5, 0.25), (0.7, 0.25), (0.6, 0.45), (0.5, 0.65), (0.45, 0.8))


@pytest.fixture
def tab(qtbot):
    """A shown Draw tab on the bundled model, a 7 drawn on it."""
    state = AppState()
    assert state.use_bundled()
    widget = DrawTab(state)
    qtbot.addWidget(widget)
    widget.resize(1024, 660)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: not widget.ood_pending, timeout=120_000)
    widget.canvas.add_stroke(Stroke(SEVEN, 0.065))
    widget.update_now()
    yield widget
    widget.shutdown()


def test_fool_the_model_flips_the_drawing_and_puts_it_on_the_canvas(qtbot, tab, monkeypatch):
    import gui.draw.attack_panel as panel

    threads = []
    real = panel.attack

    def spy(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(panel, "attack", spy)
    before = tab.prediction.digit
    dialog = tab.show_attack()
    qtbot.addWidget(dialog)
    assert dialog.is_running
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=120_000)
    assert threads and threads[0] is not threading.main_thread()
    result = dialog.result
    assert result.digit == before and result.flipped
    assert result.adversarial_digit != before
    assert dialog.after_view.has_image and dialog.change_view.has_image
    np.testing.assert_allclose(dialog.after_chart.heights, result.adversarial_probabilities)
    assert "ε" in dialog.captions[1].text()
    assert dialog.explanation.text() == result.explanation
    assert "fragile" in dialog.fragile.text()
    assert dialog.put_button.isEnabled()
    dialog.put_button.click()
    # The tab reads the altered picture through its one preprocessing path: the fooled answer.
    assert tab.canvas.background is not None and not tab.canvas.strokes
    assert tab.prediction.digit == result.adversarial_digit
    tab.canvas.undo()
    tab.update_now()
    assert tab.prediction.digit == before


def test_fewest_pixels_to_a_chosen_digit(qtbot, tab):
    dialog = tab.show_attack()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.is_running, timeout=120_000)
    dialog.method_box.setCurrentIndex(dialog.method_box.findData("pixels"))
    dialog.target_box.setCurrentIndex(dialog.target_box.findData(3))
    dialog.result = None
    dialog.run_button.click()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=120_000)
    result = dialog.result
    assert result.method == "pixels" and result.target == 3
    if result.flipped:
        assert result.adversarial_digit == 3 and "dots" in dialog.captions[1].text()
    else:
        assert not dialog.put_button.isEnabled() and "Not fooled" in dialog.status.text()


def test_nothing_to_fool_is_said_in_place(qtbot, tab):
    tab.clear()
    dialog = tab.show_attack()
    qtbot.addWidget(dialog)
    assert not dialog.is_running
    assert "Draw a digit first" in dialog.status.text()


def _kept_mlp(state: AppState) -> str:
    torch.manual_seed(0)
    checkpoint = Checkpoint.from_model(
        build_model("mlp"), "mlp", "nll", dataset="unit-test data", metrics={"test_accuracy": 0.5}
    )
    return state.library.add(checkpoint, source="trained").name


def test_side_by_side_and_turn_it_with_a_model_from_the_library(qtbot, tab):
    other = _kept_mlp(tab.state)
    dialog = tab.show_compare()
    qtbot.addWidget(dialog)
    assert dialog.other_box.currentText() == other
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=120_000)
    pair, sweep = dialog.result
    first, second = dialog.columns
    assert first.title.text() == tab.state.current_name and second.title.text() == other
    assert first.answer.text() and second.answer.text()
    np.testing.assert_allclose(first.chart.heights, pair.readings[0].probabilities)
    assert first.saliency.has_image and second.saliency.has_image
    assert ("agree" in dialog.summary.text()) or ("disagree" in dialog.summary.text())
    assert dialog.digit_box.currentIndex() == sweep.digits[0]
    x, y = dialog.sweep_curves["rotated"][1].getData()
    np.testing.assert_allclose(x, sweep.angles)
    np.testing.assert_allclose(y, sweep.rotated[1][:, sweep.digits[0]])
    assert other in dialog.holds_label.text()
    dialog.digit_box.setCurrentIndex((sweep.digits[0] + 1) % 10)  # another digit's curves
    _x, y = dialog.sweep_curves["shifted_x"][0].getData()
    np.testing.assert_allclose(y, sweep.shifted_x[0][:, (sweep.digits[0] + 1) % 10])


def test_side_by_side_without_another_model_says_so(qtbot, tab):
    dialog = tab.show_compare()
    qtbot.addWidget(dialog)
    assert dialog.other_box.count() == 0
    assert "no other model yet" in dialog.status.text()
