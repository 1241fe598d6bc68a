from __future__ import annotations

from gui.data_panel import DataPanel


def test_buttons_stay_disabled_during_a_run_whatever_refreshes(qtbot):
    panel = DataPanel()
    qtbot.addWidget(panel)
    assert panel.download_button.isEnabled()  # no MNIST in the test's data folder
    panel.set_controls_enabled(False)
    panel.set_loaded("bundled sample")  # e.g. a run's data loaded, or a download finishing
    panel.show_message("Download failed")
    assert not panel.download_button.isEnabled()
    assert not panel.folder_button.isEnabled()
    assert not panel.sample_button.isEnabled()
    panel.set_controls_enabled(True)
    assert panel.download_button.isEnabled() and panel.folder_button.isEnabled()
