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


def test_dataset_choice_comes_from_core(qtbot, tmp_path, monkeypatch):
    calls = []

    def choose(use_sample, folder):
        calls.append((use_sample, folder))
        return "sample", None

    monkeypatch.setattr("gui.data_panel.choose_dataset", choose)
    panel = DataPanel()
    qtbot.addWidget(panel)
    panel.use_sample()
    assert panel.dataset_settings() == ("sample", None) and calls[-1] == (True, None)


def test_a_cancelled_download_is_told_by_its_type_not_its_text(qtbot, monkeypatch):
    from core.data import DownloadCancelled

    def cancelled(data_dir=None, progress=None, should_cancel=None):  # noqa: ARG001
        raise DownloadCancelled("whatever the wording")

    monkeypatch.setattr("gui.data_panel.download_mnist", cancelled)
    panel = DataPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.start_download()
    qtbot.waitUntil(lambda: not panel.downloading and panel.message.isVisible())
    assert panel.message.text() == "Download cancelled; the dataset did not change."
