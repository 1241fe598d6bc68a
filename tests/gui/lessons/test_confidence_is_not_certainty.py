"""Lesson 8 played: a crossed box flagged as not a digit, then the reliability diagram."""

from __future__ import annotations

from PySide6.QtCore import Qt

CROSSED_BOX = (
    [(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8), (0.2, 0.2)],
    [(0.2, 0.2), (0.8, 0.8)],
    [(0.8, 0.2), (0.2, 0.8)],
)


def test_confidence_is_not_certainty(qtbot, player):
    player.start("08-confidence-is-not-certainty")
    window = player.window
    draw, tab = window.draw_tab, window.training_tab
    assert window.tabs.currentWidget() is draw
    qtbot.waitUntil(lambda: not draw.ood_pending, timeout=60_000)
    for stroke in CROSSED_BOX:
        player.draw(draw.canvas, stroke)
    qtbot.waitUntil(lambda: not draw.prediction.is_empty)
    assert not draw.prediction.looks_like_digit
    player.wait_done(1)
    window.tabs.setCurrentWidget(tab)
    tab.epochs_spin.setValue(1)
    player.train()
    player.wait_done(2)
    tab.views.setCurrentWidget(tab.evaluation)
    bar = tab.evaluation.side_tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(1).center())
    assert tab.evaluation.side_tabs.currentWidget() is tab.evaluation.reliability
    player.wait_done(3)
    player.assert_all_done()
