"""A lesson's ``[setup]`` applied to the window through the tabs' public methods.

The keys are ``core.lessons.model.SETUP_KEYS`` (already checked by the loader against the app's
registries): the tab to show, the Loss playground's pair, tensors, ready-made case and dtype,
the Training tab's preset and settings. Each goes through the method a learner's click would
use (``set_pair``, ``load_preset``, ``set_config``), so the tabs' own words and checks follow.
A setup that cannot be applied now (a run is going) is said in one sentence, never raised.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gui.main_window import MainWindow

TAB_ATTRIBUTES = {
    "loss": "loss_tab",
    "training": "training_tab",
    "draw": "draw_tab",
    "inside": "inside_tab",
}


def apply_setup(window: MainWindow, setup: dict[str, Any]) -> str | None:
    """Apply ``setup``; None when done, else the sentence saying what could not be done."""
    problem = _playground(window, setup)
    problem = _training(window, setup) or problem
    tab = setup.get("tab")
    if tab in TAB_ATTRIBUTES:
        window.tabs.setCurrentWidget(getattr(window, TAB_ATTRIBUTES[tab]))
    return problem


def _playground(window: MainWindow, setup: dict[str, Any]) -> str | None:
    keys = ("pair", "prediction", "target", "loss_preset", "dtype")
    if not any(key in setup for key in keys):
        return None
    loss = window.loss_tab
    if "loss_preset" in setup:
        loss.load_preset(setup["loss_preset"])
    if "pair" in setup:
        loss.set_pair(setup["pair"])
    if "dtype" in setup:
        combo = loss.dtype_combo
        combo.setCurrentIndex(max(0, combo.findText(setup["dtype"])))
    if "prediction" in setup and "target" in setup:
        loss.set_example(setup["prediction"], setup["target"])
    return None


def _training(window: MainWindow, setup: dict[str, Any]) -> str | None:
    if "preset" not in setup and "settings" not in setup:
        return None
    from core.training.train_settings import apply_preset

    tab = window.training_tab
    if tab.phase != "idle":
        return "A run is going: the lesson's training settings are set once it ends (press Start again)."
    config = tab.config()
    if "preset" in setup:
        config = apply_preset(config, setup["preset"])
    settings = dict(setup.get("settings", {}))
    settings.pop("dataset", None)  # the data panel chooses the data; see below
    config = dataclasses.replace(config, **settings)
    tab.set_config(config)
    dataset = setup.get("settings", {}).get("dataset")
    if dataset == "sample" and not tab.data_panel.using_sample:
        tab.data_panel.use_sample()
    return None
