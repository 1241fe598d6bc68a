"""Lesson 6 played: the dead-relus preset kills a layer, a small learning rate does not."""

from __future__ import annotations


def test_dead_relus(qtbot, player):
    player.start("06-dead-relus")
    tab = player.window.training_tab
    config = tab.config()
    assert config.preset == "dead-relus" and config.lr == 0.5 and config.gradient_stats
    player.train()
    player.wait_done(2)
    tab.lr_spin.setValue(0.05)
    ended = player.train()
    assert ended.status == "finished" and ended.result.evaluation.accuracy >= 0.8
    player.wait_done(3)
    player.assert_all_done()
