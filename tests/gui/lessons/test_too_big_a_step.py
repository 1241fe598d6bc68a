"""Lesson 4 played: a learning rate of 5 blows the run up, then the finder's rate trains."""

from __future__ import annotations

from PySide6.QtCore import Qt


def test_too_big_a_step(qtbot, player):
    player.start("04-too-big-a-step")
    tab = player.window.training_tab
    assert tab.config().epochs == 1
    tab.lr_spin.setValue(5.0)
    ended = player.train()
    assert ended.status == "failed" and "diverged" in ended.reason
    player.wait_done(2)
    tab.views.setCurrentWidget(tab.lr_finder)
    finder = tab.lr_finder
    qtbot.mouseClick(finder.find_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: finder.state.result is not None and finder.use_button.isEnabled(), timeout=90_000
    )
    player.wait_done(3)
    qtbot.mouseClick(finder.use_button, Qt.MouseButton.LeftButton)
    suggested = finder.state.result.suggested_lr
    assert abs(tab.lr_spin.value() - suggested) <= 0.1 * suggested
    ended = player.train()
    assert ended.status == "finished"
    player.wait_done(4)
    player.assert_all_done()
