"""Lesson 9 played: a confident digit drawn with the mouse, then flipped with the fewest pixels."""

from __future__ import annotations

from PySide6.QtCore import Qt

SEVEN = [(0.3, 0.25), (0.5, 0.25), (0.7, 0.25), (0.6, 0.45), (0.5, 0.65), (0.45, 0.8)]


def test_fool_the_model(qtbot, player):
    player.start("09-fool-the-model")
    draw = player.window.draw_tab
    assert player.window.tabs.currentWidget() is draw
    qtbot.waitUntil(lambda: not draw.ood_pending, timeout=60_000)
    player.draw(draw.canvas, SEVEN)
    qtbot.waitUntil(lambda: not draw.prediction.is_empty)
    assert draw.prediction.confidence >= 0.9 and draw.prediction.looks_like_digit
    player.wait_done(1)
    qtbot.mouseClick(draw.model_box.fool_button, Qt.MouseButton.LeftButton)
    dialog = draw.attack_dialog
    qtbot.waitUntil(lambda: dialog.result is not None and not dialog.is_running, timeout=120_000)
    assert len(player.done()) == 1  # the first search (PGD) is not the lesson's
    dialog.method_box.setCurrentIndex(dialog.method_box.findData("pixels"))
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: dialog.result.method == "pixels" and not dialog.is_running, timeout=120_000
    )
    assert dialog.result.flipped
    player.wait_done(3)
    player.assert_all_done()
    dialog.close()
