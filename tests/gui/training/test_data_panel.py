from __future__ import annotations

from gui.training.data_panel import DataPanel


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

    monkeypatch.setattr("gui.training.data_panel.choose_dataset", choose)
    panel = DataPanel()
    qtbot.addWidget(panel)
    panel.use_sample()
    assert panel.dataset_settings() == ("sample", None) and calls[-1] == (True, None)


def test_a_cancelled_download_is_told_by_its_type_not_its_text(qtbot, monkeypatch):
    from core.data.mnist import DownloadCancelled

    def cancelled(data_dir=None, progress=None, should_cancel=None):  # noqa: ARG001
        raise DownloadCancelled("whatever the wording")

    monkeypatch.setattr("gui.training.data_panel.download_mnist", cancelled)
    panel = DataPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.start_download()
    qtbot.waitUntil(lambda: not panel.downloading and panel.message.isVisible())
    assert panel.message.text() == "Download cancelled; the dataset did not change."


def test_without_torchvision_another_dataset_says_so_in_place(qtbot, monkeypatch):
    monkeypatch.setattr("gui.training.data_panel.torchvision_installed", lambda: False)
    monkeypatch.setattr("core.optional.torchvision_problem", lambda: "not included in this build")
    panel = DataPanel()
    qtbot.addWidget(panel)
    panel.choose("kmnist")
    assert panel.dataset_settings() == ("kmnist", None)
    assert not panel.download_button.isEnabled() and panel.folder_button.isEnabled()
    assert panel.message.text() == (
        "Downloading KMNIST needs torchvision (not included in this build); put its files in "
        "a folder's KMNIST/raw and use Use folder…."
    )
    panel.choose("mnist")  # MNIST downloads without torchvision
    assert panel.download_button.isEnabled() and panel.download_button.text() == "Do&wnload MNIST"


def test_another_dataset_downloads_through_torchvision(qtbot, monkeypatch, tmp_path):
    calls = []

    def fetched(dataset, data_dir=None, progress=None, should_cancel=None):  # noqa: ARG001
        calls.append(dataset)
        progress(4, 4)
        return tmp_path

    monkeypatch.setattr("gui.training.data_panel.download_dataset", fetched)
    panel = DataPanel()
    qtbot.addWidget(panel)
    panel.choose("fashion-mnist")
    panel.start_download()
    qtbot.waitUntil(lambda: not panel.downloading and "downloaded" in panel.message.text())
    assert calls == ["fashion-mnist"]
    assert panel.message.text().startswith("Fashion-MNIST downloaded to")
