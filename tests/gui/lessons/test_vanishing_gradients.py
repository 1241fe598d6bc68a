"""Lesson 5 played: the deep sigmoid MLP watched in the gradient-flow panel, then a ReLU MLP."""

from __future__ import annotations

from PySide6.QtCore import Qt


def test_vanishing_gradients(qtbot, player):
    player.start("05-vanishing-gradients")
    window = player.window
    inside, tab = window.inside_tab, window.training_tab
    assert window.tabs.currentWidget() is inside  # the setup's tab
    config = tab.config()
    assert config.model == "deep-sigmoid" and config.gradient_stats and config.preset == "vanishing"
    bar = inside.panels.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(2).center())
    assert inside.panels.currentWidget() is inside.training_panel
    # Start in the Training tab, then back to the inspector at once (as the step says).
    window.tabs.setCurrentWidget(tab)
    with qtbot.waitSignal(tab.runEnded, timeout=90_000):
        qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
        window.tabs.setCurrentWidget(inside)
    qtbot.waitUntil(lambda: not tab.is_running, timeout=30_000)
    assert inside.training_panel.reports > 0
    player.wait_done(2)
    window.tabs.setCurrentWidget(tab)
    tab.model_combo.setCurrentIndex(tab.model_combo.findData("mlp"))
    assert tab.config().gradient_stats
    player.train()
    player.wait_done(3)
    player.assert_all_done()
