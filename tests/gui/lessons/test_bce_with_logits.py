"""Lesson 2 (helper C's file) played: the stability slider past the parting point on the seed's
logits, then the large-logit preset where the gradients disagree."""

from __future__ import annotations


def test_bce_with_logits(qtbot, player):
    player.start("02-bce-with-logits")
    loss = player.window.loss_tab
    assert loss.pair_name == "bce-logits" and loss.state.inputs_are_seed
    slider = loss.scale_slider
    qtbot.waitUntil(lambda: loss.state.parting_scale is not None, timeout=30_000)
    slider.setValue(slider.maximum())  # dragged all the way right
    qtbot.waitUntil(lambda: loss.state.parted, timeout=10_000)
    player.wait_done(2)
    combo = loss.preset_combo
    index = combo.findData("Large logits: Sigmoid+BCE saturates")
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
    player.wait_done(3)
    player.assert_all_done()
