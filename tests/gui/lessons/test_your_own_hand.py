"""Lesson 10 played: four drawings saved, the model fine-tuned on them, used and compared."""

from __future__ import annotations

from PySide6.QtCore import Qt

SEVEN = [(0.3, 0.25), (0.5, 0.25), (0.7, 0.25), (0.6, 0.45), (0.5, 0.65), (0.45, 0.8)]
ONE = [(0.5, 0.15), (0.5, 0.5), (0.5, 0.85)]


def test_your_own_hand(qtbot, player):
    player.start("10-your-own-hand")
    window = player.window
    draw = window.draw_tab
    bar = draw.own_digits_bar
    for stroke, shift in ((SEVEN, 0.0), (SEVEN, 0.05), (ONE, 0.0), (ONE, 0.08)):
        qtbot.mouseClick(draw.clear_button, Qt.MouseButton.LeftButton)
        player.draw(draw.canvas, [(x + shift, y) for x, y in stroke])
        qtbot.waitUntil(lambda: not draw.prediction.is_empty)
        bar.digit_box.setCurrentIndex(7 if stroke is SEVEN else 1)
        bar.digit_box.activated.emit(bar.digit_box.currentIndex())  # corrected by hand
        with qtbot.waitSignal(bar.saved):
            qtbot.mouseClick(bar.add_button, Qt.MouseButton.LeftButton)
    player.wait_done(1)
    qtbot.mouseClick(bar.open_button, Qt.MouseButton.LeftButton)
    dialog = window.own_digits_dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.epochs_box.setValue(1)
    qtbot.mouseClick(dialog.tune_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result is not None and not dialog.is_running, timeout=120_000)
    player.wait_done(2)
    dialog.close()
    banner = window.run_offer
    assert banner.isVisible() and banner.use_button.isEnabled()
    qtbot.mouseClick(banner.use_button, Qt.MouseButton.LeftButton)
    assert window.state.current_model is dialog.result.checkpoint
    qtbot.mouseClick(draw.model_box.compare_button, Qt.MouseButton.LeftButton)
    compare = draw.compare_dialog
    qtbot.waitUntil(lambda: compare.result is not None, timeout=90_000)
    player.wait_done(3)
    player.assert_all_done()
    compare.close()
