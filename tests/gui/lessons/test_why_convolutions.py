"""Lesson 7 played: an MLP trained and kept, then read beside the bundled CNN and turned."""

from __future__ import annotations

from PySide6.QtCore import Qt

SEVEN = [(0.3, 0.25), (0.5, 0.25), (0.7, 0.25), (0.6, 0.45), (0.5, 0.65), (0.45, 0.8)]


def test_why_convolutions(qtbot, player):
    player.start("07-why-convolutions")
    window = player.window
    ended = player.train()
    assert ended.status == "finished" and ended.result.config.model == "mlp"
    player.wait_done(1)
    banner = window.run_offer
    if banner.isVisible() and banner.keep_button.isVisible() and banner.keep_button.isEnabled():
        qtbot.mouseClick(banner.keep_button, Qt.MouseButton.LeftButton)
    assert any(entry.model_kind == "mlp" for entry in window.state.library.entries())
    draw = window.draw_tab
    window.tabs.setCurrentWidget(draw)
    player.draw(draw.canvas, SEVEN)
    qtbot.mouseClick(draw.model_box.compare_button, Qt.MouseButton.LeftButton)
    dialog = draw.compare_dialog
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=90_000)
    player.wait_done(2)
    bar = dialog.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(1).center())
    player.wait_done(3)
    player.assert_all_done()
    dialog.close()
