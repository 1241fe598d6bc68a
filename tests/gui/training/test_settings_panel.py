"""The settings box and the CPU speed run (issue 28): the preset is offered, says why it is
fast and what the seed's recipe took, and runs with its settings that have no control."""

from __future__ import annotations

from core.training.train_settings import PRESETS
from core.training.train_types import TrainConfig
from gui.training.settings_panel import SettingsPanel


def _panel(qtbot) -> SettingsPanel:
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    return panel


def test_the_cpu_speedrun_is_offered_and_says_why_it_is_fast(qtbot):
    panel = _panel(qtbot)
    combo = panel.control("preset")
    index = combo.findData("cpu-speedrun")
    assert index >= 0 and "CPU" in combo.itemText(index)
    combo.setCurrentIndex(index)
    note = panel.preset_note.text()
    assert not panel.preset_note.isHidden()
    assert "two epochs" in note and "seed" in note and " s for " in note  # why, and the comparison


def test_the_preset_runs_with_its_settings_that_have_no_control(qtbot):
    panel = _panel(qtbot)
    assert "label_smoothing" not in panel.controls and "adam_beta1" not in panel.controls
    combo = panel.control("preset")
    combo.setCurrentIndex(combo.findData("cpu-speedrun"))
    config = panel.config()
    assert all(getattr(config, k) == v for k, v in PRESETS["cpu-speedrun"].items())
    panel.control("lr").setValue(0.02)  # a hand change: "Custom", and the plain loss again
    config = panel.config()
    assert config.preset == "" and config.model == "cnn-fast"
    assert config.label_smoothing == TrainConfig().label_smoothing
    assert config.adam_beta1 == TrainConfig().adam_beta1
