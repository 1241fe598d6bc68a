"""Lesson 1 (helper C's file) played: the seed's 1.6802 twice, the naive form parted at large
logits, and agreeing again in float64."""

from __future__ import annotations

from PySide6.QtCore import Qt


def choose(combo, data) -> None:  # noqa: ANN001
    """Pick ``data`` in ``combo`` as a learner does (the index, then the activation)."""
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_seed_losses(qtbot, player):
    player.start("01-seed-losses")
    loss = player.window.loss_tab
    assert player.window.tabs.currentWidget() is loss and loss.pair_name == "ce-nll"
    qtbot.mouseClick(loss.seed_button, Qt.MouseButton.LeftButton)
    player.wait_done(2)
    choose(loss.pair_combo, "ce-naive")
    choose(loss.preset_combo, "Large logits: naive softmax overflows")
    assert loss.pair_name == "ce-naive"
    player.wait_done(3)
    loss.dtype_combo.setCurrentIndex(loss.dtype_combo.findText("float64"))
    player.wait_done(4)
    player.assert_all_done()
