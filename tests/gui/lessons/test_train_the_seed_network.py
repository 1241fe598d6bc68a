"""Lesson 3 played: the seed's recipe to 90 % on the sample, then a mistake opened."""

from __future__ import annotations

from PySide6.QtCore import Qt


def test_train_the_seed_network(qtbot, player):
    player.start("03-train-the-seed-network")
    tab = player.window.training_tab
    assert player.window.tabs.currentWidget() is tab  # the setup showed the Training tab
    assert tab.config().epochs == 5 and tab.config().model == "mlp"
    ended = player.train()
    assert ended.status == "finished" and ended.result.evaluation.accuracy >= 0.9
    player.wait_done(2)
    tab.views.setCurrentWidget(tab.evaluation)
    gallery = tab.evaluation.gallery
    qtbot.waitUntil(lambda: gallery.count() > 0)
    rect = gallery.visualItemRect(gallery.item(0))
    qtbot.mouseClick(gallery.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert tab.evaluation.dialog is not None and tab.evaluation.dialog.isVisible()
    tab.evaluation.dialog.close()
    player.wait_done(3)
    player.assert_all_done()
