"""The Training tab driven like a user would, with the real trainer on the bundled sample."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import Qt

from core.data.mnist import DownloadCancelled
from core.errors import DataError
from core.storage.checkpoint import Checkpoint
from core.training.models import build_model
from gui import theme
from gui.app_state import AppState

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def tab(qtbot):
    from gui.training.training_tab import TrainingTab

    widget = TrainingTab(AppState())
    qtbot.addWidget(widget)
    widget.resize(1280, 760)
    widget.show()
    yield widget
    widget.shutdown()
    assert not widget.is_running


def _configure(tab, *, epochs: int, batch_size: int, model: str = "mlp") -> None:
    tab.model_combo.setCurrentIndex(tab.model_combo.findData(model))
    tab.epochs_spin.setValue(epochs)
    tab.batch_spin.setValue(batch_size)
    tab.lr_spin.setValue(0.05)
    tab.device_combo.setCurrentIndex(tab.device_combo.findData("cpu"))


def _wait_for_progress(qtbot, tab, above: int = 0) -> None:
    qtbot.waitUntil(
        lambda: tab.progress.value() > above and tab.plots.point_count() > 0, timeout=30_000
    )


def test_a_short_run_fills_curves_progress_evaluation_and_current_model(qtbot, tab):
    _configure(tab, epochs=2, batch_size=64)
    assert tab.data_panel.using_sample and tab.data_panel.note.isVisibleTo(tab)
    models, offers = [], []
    tab.state.modelChanged.connect(models.append)
    tab.state.runOffered.connect(offers.append)
    with qtbot.waitSignal(tab.runEnded, timeout=60_000) as ended_signal:
        assert tab.start()
        assert not tab.start_button.isEnabled() and tab.stop_button.isEnabled()
    ended = ended_signal.args[0]
    assert ended.status == "finished", ended.reason
    qtbot.waitUntil(lambda: not tab.is_running)
    run = tab.plots.current
    qtbot.waitUntil(lambda: tab.plots.point_count() == run.steps.size)  # the redraw timer ran
    assert run.steps.size == run.total_steps == 2 * run.steps_per_epoch  # a report per batch
    assert len(run.epochs) == 2 and run.status == "finished"
    assert tab.progress.value() == tab.progress.maximum() == run.total_steps
    x, y = tab.plots.curves_of(run)["accuracy"].getData()
    assert list(x) == [1.0, 2.0] and y[-1] > 70
    # The model is kept and offered, never swapped in silently; it is used once accepted.
    assert models == [] and offers[0].checkpoint is ended.result.checkpoint
    assert offers[0].entry is not None and tab.state.library.current_id() is None
    tab.state.accept_offer(offers[0])
    assert models == [ended.result.checkpoint] and tab.state.current_model is models[0]
    assert tab.state.library.current_id() == offers[0].entry.id
    assert "trained on" in tab.model_label.text()
    assert tab.evaluation.result is ended.result.evaluation
    qtbot.waitUntil(lambda: tab.evaluation.gallery_complete)  # filled in chunks
    qtbot.waitUntil(lambda: tab.evaluation.reliability.report is not None)  # then calibration
    assert "ECE" in tab.evaluation.reliability.title_text()
    assert tab.evaluation.gallery.count() == min(200, len(ended.result.evaluation.misclassified))
    assert tab.start_button.isEnabled() and not tab.stop_button.isEnabled()
    assert "data/folder" not in tab.data_panel.active_label.text()
    assert "4,000 train" in tab.data_panel.active_label.text()


def test_runs_are_kept_overlaid_and_exported(qtbot, tab, tmp_path):
    _configure(tab, epochs=1, batch_size=128)
    for lr in (0.05, 0.01):
        tab.lr_spin.setValue(lr)
        with qtbot.waitSignal(tab.runEnded, timeout=60_000):
            tab.start()
        qtbot.waitUntil(lambda: not tab.is_running)
    first, second = tab.plots.runs
    curves = tab.plots.curves_of
    assert tab.plots.colour_of(first) != tab.plots.colour_of(second)
    assert curves(first)["raw"].isVisible()
    assert tab.plots.run_table.rowCount() == 2
    assert tab.plots.run_table.item(1, 7).text().endswith("%")
    tab.plots.run_table.item(0, 0).setCheckState(
        tab.plots.run_table.item(0, 0).checkState().Unchecked
    )
    assert not curves(first)["raw"].isVisible() and curves(second)["smoothed"].isVisible()
    assert "Run #2 at step" in tab.plots.readout(tab.plots.loss_plot, 10)

    path = tab.run_state.history.export_csv(tmp_path / "runs.csv")  # what Export CSV… writes
    rows = list(csv.DictReader(path.open()))
    assert {r["run"] for r in rows} == {"1", "2"}
    epoch_rows = [r for r in rows if r["kind"] == "epoch"]
    assert len(epoch_rows) == 2 and all(0 < float(r["test_accuracy"]) <= 1 for r in epoch_rows)
    assert sum(r["kind"] == "batch" for r in rows) == first.steps.size + second.steps.size


def test_export_as_script_writes_the_selected_run_or_the_settings(qtbot, tab, tmp_path):
    _configure(tab, epochs=1, batch_size=128, model="cnn")
    with qtbot.waitSignal(tab.runEnded, timeout=120_000):
        tab.start()
    qtbot.waitUntil(lambda: not tab.is_running)
    _configure(tab, epochs=3, batch_size=32, model="mlp")  # the settings move on
    tab.plots.run_table.selectRow(0)
    assert tab.plots.selected_run() is tab.plots.runs[0]
    assert tab.export_script_to(tmp_path / "run1.py", tab.plots.selected_run())
    text = (tmp_path / "run1.py").read_text()
    assert "class SmallCNN" in text and "'batch_size': 128" in text and "run 1 of" in text
    compile(text, "run1.py", "exec")
    assert tab.export_script_to(tmp_path / "settings.py")  # none selected: the settings
    text = (tmp_path / "settings.py").read_text()
    assert "class SimpleNet" in text and "'batch_size': 32" in text and "'epochs': 3" in text
    assert "Script saved to" in tab.message.text()
    assert not tab.export_script_to(tmp_path)  # a folder: refused in place, in words
    assert "Could not export the script" in tab.message.text()


def test_augment_shows_a_strip_of_augmented_examples(qtbot, tab):
    strip = tab.augment_strip
    tab.augment_check.setChecked(False)
    assert not strip.isVisible()
    tab.augment_check.setChecked(True)
    assert strip.isVisible() and not strip.pixmap().isNull()
    first = strip.pixmap().toImage()
    assert first.width() == 8 * 28 * 2 and first.height() == 2 * 28 * 2
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton)  # new copies, same originals
    second = strip.pixmap().toImage()
    assert second != first and second.copy(0, 0, 448, 56) == first.copy(0, 0, 448, 56)
    tab.augment_check.setChecked(False)
    assert not strip.isVisible()


def test_smoothing_slider_recomputes_the_bold_curve(qtbot, tab):
    _configure(tab, epochs=1, batch_size=64)
    with qtbot.waitSignal(tab.runEnded, timeout=60_000):
        tab.start()
    run = tab.plots.current
    tab.plots.smoothing_slider.setValue(0)
    assert (run.smoothed.view == run.losses.view).all()
    tab.plots.smoothing_slider.setValue(95)
    assert run.smoothed.view.std() < run.losses.view.std()


def test_pause_holds_the_run_and_resume_continues(qtbot, tab):
    _configure(tab, epochs=100, batch_size=8)
    with qtbot.waitSignal(tab.runEnded, timeout=60_000) as ended_signal:
        tab.start()
        _wait_for_progress(qtbot, tab)
        assert "left" in tab.eta_label.text() and "samples/s" in tab.eta_label.text()
        tab.toggle_pause()
        assert tab.is_paused and tab.pause_button.text().replace("&", "") == "Resume"
        qtbot.wait(300)  # events already in flight arrive
        held = tab.progress.value()
        assert held == tab.plots.current.steps.view[-1]  # not a throttled, older step
        qtbot.wait(400)
        assert tab.progress.value() == held
        tab.toggle_pause()
        assert not tab.is_paused
        _wait_for_progress(qtbot, tab, above=held)
        tab.stop()
    assert ended_signal.args[0].status == "stopped"


def test_stop_mid_epoch_scores_the_model_and_keeps_the_current_one(qtbot, tab):
    _configure(tab, epochs=2, batch_size=1)  # 3,600 steps per epoch: seconds, even when busy
    offers = []
    tab.state.runOffered.connect(offers.append)
    with qtbot.waitSignal(tab.runEnded, timeout=60_000) as ended_signal:
        tab.start()
        _wait_for_progress(qtbot, tab)
        tab.stop()
        assert tab.phase == "stopping"
        assert not tab.stop_button.isEnabled() and not tab.pause_button.isEnabled()
    ended = ended_signal.args[0]
    assert ended.status == "stopped"
    run = tab.plots.current
    assert run.steps.view[-1] < run.steps_per_epoch  # mid-epoch
    assert run.status == "stopped"
    assert tab.state.current_model is None  # a stopped run does not replace the model...
    (offer,) = offers  # ...it is offered, not kept unasked: the banner asks (issue 23)
    assert offer.checkpoint is ended.result.checkpoint and offer.entry is None
    assert offer.status == "stopped" and tab.state.library.entries() == []
    # The model as it was is scored, shown in the Evaluation view and in the run list.
    assert ended.result is not None and ended.result.evaluation is not None
    assert tab.evaluation.result is ended.result.evaluation
    assert "stopped early" in tab.evaluation.summary.text()
    assert tab.plots.run_table.item(0, 6).text() == "stopped, scored"
    assert tab.plots.run_table.item(0, 7).text() == f"{ended.result.evaluation.accuracy:.2%}"
    qtbot.waitUntil(lambda: not tab.is_running)
    assert tab.start_button.isEnabled() and "Stopped" in tab.message.text()
    assert tab.phase == "idle"


def test_stop_before_the_first_step_ends_the_busy_bar(qtbot, tab):
    _configure(tab, epochs=1, batch_size=64)
    with qtbot.waitSignal(tab.runEnded, timeout=60_000) as ended_signal:
        tab.start()  # the worker is still loading data
        tab.stop()
    assert ended_signal.args[0].status == "stopped"
    assert tab.progress.maximum() > 0  # not the endless busy animation (range 0..0)
    qtbot.waitUntil(lambda: not tab.is_running)
    assert tab.start_button.isEnabled()


def test_shutdown_mid_training_stops_and_waits(qtbot, tab):
    _configure(tab, epochs=100, batch_size=8)
    tab.start()
    _wait_for_progress(qtbot, tab)
    thread = tab._thread
    tab.shutdown()
    assert not tab.is_running and thread.isFinished()


def test_closing_the_main_window_mid_training_stops_the_thread(qtbot):
    from gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    tab = window.training_tab
    _configure(tab, epochs=100, batch_size=8)
    tab.start()
    _wait_for_progress(qtbot, tab)
    thread = tab._thread
    window.close()
    assert thread.isFinished()


def test_loss_link_opens_the_matching_playground_pair(qtbot, main_window):
    main_window.tabs.setCurrentWidget(main_window.training_tab)
    main_window.training_tab.loss_link.linkActivated.emit("ce-nll")
    assert main_window.tabs.currentWidget() is main_window.loss_tab
    assert main_window.loss_tab.pair_name == "ce-nll"


def test_loss_link_is_a_signal_not_a_window_lookup(qtbot, tab):
    with qtbot.waitSignal(tab.openPlaygroundPair) as opened:
        tab.loss_link.linkActivated.emit("ce-nll")
    assert opened.args == ["ce-nll"]


def test_a_worker_error_is_shown_and_start_works_again(qtbot, tab, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for stem in ("train-images", "train-labels", "t10k-images", "t10k-labels"):
        kind = "idx3" if "images" in stem else "idx1"
        (raw / f"{stem}-{kind}-ubyte.gz").write_bytes(b"this is not gzip")
    assert tab.data_panel.use_folder(tmp_path)
    assert not tab.data_panel.note.isVisibleTo(tab)
    _configure(tab, epochs=1, batch_size=64)
    with qtbot.waitSignal(tab.runEnded, timeout=30_000) as ended_signal:
        tab.start()
    assert ended_signal.args[0].status == "failed"
    qtbot.waitUntil(lambda: not tab.is_running)
    assert tab.message.isVisibleTo(tab)
    assert (
        "Training failed" in tab.message.text() and "train-images-idx3-ubyte" in tab.message.text()
    )
    assert tab.start_button.isEnabled() and tab.progress.text() == "failed"
    # Back to the sample: the same button trains normally.
    tab.data_panel.use_sample()
    with qtbot.waitSignal(tab.runEnded, timeout=60_000) as ended_signal:
        assert tab.start()
    assert ended_signal.args[0].status == "finished"


def test_bad_settings_are_refused_in_place(qtbot, tab, monkeypatch):
    monkeypatch.setattr(tab, "config", lambda: _bad_config())
    assert not tab.start()
    assert "learning rate" in tab.message.text() and not tab.is_running


def _bad_config():
    from core.training.train_types import TrainConfig

    return TrainConfig(lr=-1)


def test_save_and_load_round_trip(qtbot, tab, tmp_path):
    assert not tab.save_button.isEnabled()
    checkpoint = Checkpoint.from_model(
        build_model("cnn", "ce"), "cnn", "ce", metrics={"test_accuracy": 0.5}, dataset="sample"
    )
    tab.state.set_current_model(checkpoint)
    assert tab.save_button.isEnabled() and "Small CNN" in tab.model_label.text()
    path = tmp_path / "model.pt"
    assert tab.save_model_to(path) and path.is_file()
    tab.state.set_current_model(Checkpoint.from_model(build_model("mlp"), "mlp", "nll"))
    assert tab.load_model_from(path)
    loaded = tab.state.current_model
    assert loaded.model_name == "cnn" and loaded.loss == "ce"
    for name, tensor in checkpoint.state_dict.items():
        assert torch.equal(loaded.state_dict[name], tensor)
    assert "Loaded model.pt" in tab.file_message.text()


def test_loading_a_bad_file_shows_the_error_in_place(qtbot, tab, tmp_path):
    bad = tmp_path / "notes.pt"
    bad.write_text("not a model")
    assert not tab.load_model_from(bad)
    assert "notes.pt" in tab.file_message.text() and tab.file_message.isVisibleTo(tab)
    assert tab.state.current_model is None
    assert not tab.save_model_to(tmp_path / "x.pt")  # nothing to save yet


def test_settings_are_remembered(qtbot):
    from gui.training.training_tab import TrainingTab

    first = TrainingTab(AppState())
    qtbot.addWidget(first)
    _configure(first, epochs=7, batch_size=256, model="cnn")
    first.optimizer_combo.setCurrentIndex(first.optimizer_combo.findData("adam"))
    first.seed_spin.setValue(42)
    first.plots.smoothing_slider.setValue(80)
    first.shutdown()
    second = TrainingTab(AppState())
    qtbot.addWidget(second)
    config = second.config()
    assert (config.model, config.epochs, config.batch_size, config.seed) == ("cnn", 7, 256, 42)
    assert config.optimizer == "adam" and not second.momentum_spin.isEnabled()
    assert second.plots.smoothing_slider.value() == 80


def test_restored_settings_are_clamped_and_never_crash_start_up(qtbot):
    from PySide6.QtCore import QSettings

    from core.training.train_settings import SETTINGS
    from gui.training.training_tab import TrainingTab

    settings = QSettings()
    for key, raw in {
        "training/epochs": "2147483648",  # a C int overflow if read with type=int
        "training/batch_size": "-5",
        "training/lr": "nan",
        "training/seed": "9" * 500,
        "training/model": "resnet",
        "training/momentum": ["0.5", "0.6"],
        "training/smoothing": "1e9",
        "training/loss_scale": "cubic",
    }.items():
        settings.setValue(key, raw)
    settings.sync()
    tab = TrainingTab(AppState())
    qtbot.addWidget(tab)
    config = tab.config()
    assert config.epochs == SETTINGS["epochs"].high and config.batch_size == 1
    assert config.lr == SETTINGS["lr"].default and config.model == SETTINGS["model"].default
    assert config.momentum == SETTINGS["momentum"].default
    assert config.seed == tab.seed_spin.maximum()
    assert tab.plots.smoothing_slider.value() == 99
    assert tab.plots.scale_combo.currentData() == "auto"
    config.validate()  # what the tab shows is a runnable configuration
    tab.shutdown()


def test_controls_come_from_the_settings_table(qtbot, tab):
    from core.training.train_settings import SETTINGS

    for name, widget in tab.controls.items():
        setting = SETTINGS[name]
        assert widget.toolTip().startswith(setting.tooltip.splitlines()[0])
        if setting.choices:
            assert [widget.itemData(i) for i in range(widget.count())] == list(setting.values)
        elif setting.kind is bool:
            assert widget.text() == setting.label  # the label's mnemonic works on the box
        else:
            assert widget.minimum() == setting.control_range[0]


def test_reset_settings_restores_the_defaults(qtbot, tab):
    from core.training.train_types import TrainConfig

    _configure(tab, epochs=9, batch_size=512, model="cnn")
    tab.optimizer_combo.setCurrentIndex(tab.optimizer_combo.findData("adam"))
    tab.plots.smoothing_slider.setValue(5)
    tab.plots.scale_combo.setCurrentIndex(tab.plots.scale_combo.findData("log"))
    tab.reset_button.click()
    default = TrainConfig()
    config = tab.config()
    for name in tab.controls:
        assert getattr(config, name) == getattr(default, name), name
    assert tab.momentum_spin.isEnabled() and tab.plots.smoothing_slider.value() == 60
    assert tab.plots.scale_combo.currentData() == "auto"


def test_a_preset_fills_the_controls_and_a_hand_change_makes_them_custom(qtbot, tab):
    from core.training.train_settings import PRESETS

    tab.preset_combo.setCurrentIndex(tab.preset_combo.findData("speedrun"))
    config = tab.config()
    assert config.preset == "speedrun"
    assert all(getattr(config, k) == v for k, v in PRESETS["speedrun"].items())
    tab.batch_spin.setValue(64)
    assert tab.config().preset == "" and tab.config().model == "cnn"  # the rest stays


def test_empty_plots_read_before_any_run(qtbot, tab):
    plots = tab.plots
    assert plots.placeholder.isVisible()
    _, (low, high) = plots.acc_plot.getPlotItem().viewRange()
    assert (low, high) == pytest.approx((0, 100), abs=1)  # percent, as the axis says
    _, (low, high) = plots.speed_plot.getPlotItem().viewRange()
    assert (low, high) == pytest.approx((2, 5))  # 10^2..10^5: a few decade labels, no pile-up


def _started(epochs=2, steps=10, lr=0.05):
    from core.training.train_types import RunStarted, TrainConfig

    config = TrainConfig(epochs=epochs, lr=lr, dataset="sample")
    return RunStarted(config, "cpu", "bundled sample", 640, 100, steps, steps * epochs)


def _batches(steps, losses):
    from core.training.run_history import BatchBlock
    from core.training.train_types import BatchEvent

    block = BatchBlock()
    for step, loss in zip(steps, losses, strict=True):
        block.add(BatchEvent(1, step, 20, loss, 5000.0, 0.01 * step))
    return block


def test_a_diverged_run_turns_the_loss_axis_to_log_and_gaps_are_named(qtbot, tab):
    plots = tab.plots
    plots.start_run(_started())
    plots.add_batches(_batches([1, 2, 3], [2.3, 1.2, 0.6]))
    plots.redraw()
    assert not plots.placeholder.isVisible()
    assert not plots.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()
    plots.start_run(_started(lr=10.0))
    plots.add_batches(_batches([1, 2, 3, 4], [2.3, 1e12, float("nan"), 1e31]))
    plots.redraw()
    assert plots.loss_is_log() and plots.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()
    assert plots.nonfinite_label.isVisibleTo(tab) and "run #2: 1" in plots.nonfinite_label.text()
    x, _ = plots.curves_of(plots.current)["raw"].getData()
    assert len(x) == 4  # the NaN point stays in the data; the line breaks there
    plots.scale_combo.setCurrentIndex(plots.scale_combo.findData("linear"))  # the toggle
    plots.redraw()
    assert not plots.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()
    plots.scale_combo.setCurrentIndex(plots.scale_combo.findData("auto"))
    plots.run_table.item(1, 0).setCheckState(plots.run_table.item(1, 0).checkState().Unchecked)
    plots.redraw()
    assert not plots.loss_is_log()  # only the readable run is shown


def test_run_list_toggles_from_the_keyboard(qtbot, tab):
    from PySide6.QtCore import Qt

    plots = tab.plots
    tab.views.setCurrentWidget(plots)
    run = plots.start_run(_started())
    table = plots.run_table
    table.setFocus()
    table.setCurrentCell(0, 0)
    qtbot.keyClick(table, Qt.Key.Key_Space)
    assert not run.visible and not plots.curves_of(run)["raw"].isVisible()


def test_every_button_can_be_reached_from_the_keyboard(qtbot, tab):
    from PySide6.QtWidgets import QPushButton

    for button in tab.findChildren(QPushButton):
        if not button.text():
            continue  # e.g. a combo box's arrow, a scroll bar
        has_key = not button.shortcut().isEmpty() or "&" in button.text()
        # Pause/Resume: Ctrl+P is a QShortcut of the tab, so that it outlives the text changes.
        has_key = has_key or (button is tab.pause_button and tab.pause_shortcut.isEnabled())
        assert has_key, f"{button.text()!r} has no shortcut or mnemonic"


def test_save_dialog_adds_the_extension_and_remembers_the_folder(qtbot, tab, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    tab.state.set_current_model(
        Checkpoint.from_model(build_model("mlp"), "mlp", "nll"), persist=False
    )
    asked = []

    def fake_save(parent, title, start, file_filter):  # noqa: ARG001
        asked.append(start)
        return str(tmp_path / "noext"), file_filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_save)
    tab._save_dialog()
    assert (tmp_path / "noext.pt").is_file() and not (tmp_path / "noext").exists()
    tab._save_dialog()
    assert Path(asked[1]).parent == tmp_path  # the second dialog opens where the first saved
    opened = []
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *args: (opened.append(args[2]), ("", ""))[1]
    )
    tab._load_dialog()
    assert Path(opened[0]) == tmp_path  # the same kind of file: the same folder


def test_only_present_devices_can_be_chosen(qtbot, tab):
    from core.device import available_devices

    model = tab.device_combo.model()
    for row in range(tab.device_combo.count()):
        name = tab.device_combo.itemData(row)
        assert model.item(row).isEnabled() == (name == "auto" or name in available_devices())


def test_gallery_click_enlarges_a_digit(qtbot, tab):
    _configure(tab, epochs=1, batch_size=64)
    with qtbot.waitSignal(tab.runEnded, timeout=60_000):
        tab.start()
    gallery = tab.evaluation.gallery
    qtbot.waitUntil(lambda: gallery.count() > 0)
    gallery.itemClicked.emit(gallery.item(0))
    dialog = tab.evaluation.dialog
    assert dialog is not None and dialog.isVisible()
    entry = gallery.item(0).data(0x0100)
    assert f"predicted <b style='color:{theme.ERROR}'>{entry.predicted}</b>" in " ".join(
        label.text() for label in dialog.findChildren(type(tab.message))
    )
    dialog.close()


def test_try_in_draw_sends_a_misclassified_digit_to_the_draw_tab(qtbot, main_window):
    import numpy as np

    tab = main_window.training_tab
    _configure(tab, epochs=1, batch_size=64)
    with qtbot.waitSignal(tab.runEnded, timeout=60_000) as ended:
        tab.start()
    gallery = tab.evaluation.gallery
    qtbot.waitUntil(lambda: gallery.count() > 0)
    assert not tab.evaluation.try_button.isEnabled()  # nothing selected yet
    gallery.setCurrentRow(0)
    entry = gallery.item(0).data(0x0100)
    with qtbot.waitSignal(tab.tryInDraw) as sent:
        tab.evaluation.try_button.click()
    image, label, offered = sent.args
    assert label == entry.true_label and image.shape == (28, 28) and image.dtype == np.uint8
    assert offered.name == "Run #1" and offered.checkpoint is ended.args[0].result.checkpoint
    assert np.array_equal(image, tab._data.test_images[entry.index].numpy())
    assert main_window.tabs.currentWidget() is main_window.draw_tab
    offer_bar = main_window.draw_tab.offer_bar
    assert offer_bar.isVisibleTo(main_window) and "Run #1" in offer_bar.label.text()


# ----------------------------------------------------------------- data panel


def test_offline_download_explains_and_keeps_the_sample(qtbot, tab, monkeypatch):
    def offline(data_dir=None, progress=None, should_cancel=None):  # noqa: ARG001
        raise DataError("could not download train-images-idx3-ubyte.gz (are you offline?)")

    monkeypatch.setattr("gui.training.data_panel.download_mnist", offline)
    panel = tab.data_panel
    panel.start_download()
    qtbot.waitUntil(lambda: panel.message.isVisibleTo(tab) and not panel.downloading)
    assert "offline" in panel.message.text() and not panel.progress_row.isVisibleTo(tab)
    assert panel.dataset_settings() == ("sample", None) and panel.note.isVisibleTo(tab)
    assert panel.download_button.isEnabled()


def test_download_progress_and_cancel(qtbot, tab, monkeypatch):
    def slow(data_dir=None, progress=None, should_cancel=None):  # noqa: ARG001
        for done in range(4):
            progress(done, 4)
            for _ in range(200):
                if should_cancel():
                    raise DownloadCancelled("download cancelled")
                time.sleep(0.01)
        return Path("unused")

    monkeypatch.setattr("gui.training.data_panel.download_mnist", slow)
    panel = tab.data_panel
    panel.start_download()
    assert panel.progress_row.isVisibleTo(tab)
    qtbot.waitUntil(lambda: panel.progress.maximum() == 4)
    panel.cancel_download()
    qtbot.waitUntil(lambda: not panel.downloading and not panel.progress_row.isVisibleTo(tab))
    assert "cancelled" in panel.message.text() and panel.using_sample


def test_use_folder_with_real_files_switches_to_mnist(qtbot, tab, tmp_path):
    from core.data.mnist import load_sample, write_idx_dataset

    sample = load_sample()
    write_idx_dataset(
        tmp_path, sample.train_images[:500], sample.train_labels[:500],
        sample.test_images[:100], sample.test_labels[:100],
    )  # fmt: skip
    panel = tab.data_panel
    assert not panel.use_folder(tmp_path / "nowhere") and "No MNIST files" in panel.message.text()
    assert panel.use_folder(tmp_path)
    assert panel.dataset_settings() == ("mnist", str(tmp_path))
    assert not panel.note.isVisibleTo(tab) and "Full MNIST" in panel.active_label.text()
    _configure(tab, epochs=1, batch_size=50)
    with qtbot.waitSignal(tab.runEnded, timeout=60_000) as ended_signal:
        tab.start()
    result = ended_signal.args[0].result
    assert result.train_samples == 500 - result.config.held_out_count(500)
    assert "500 train" in panel.active_label.text()
    # The folder is remembered for the next launch.
    from gui.training.data_panel import DataPanel

    again = DataPanel()
    qtbot.addWidget(again)
    assert again.dataset_settings() == ("mnist", str(tmp_path))


# ------------------------------------------------------------- clean process exit

EXIT_SCRIPT = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gui.app import configure_application
    from gui.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    configure_application(app)
    window = MainWindow()
    window.show()
    tab = window.training_tab
    tab.data_panel.use_sample()
    tab.epochs_spin.setValue(500)
    tab.batch_spin.setValue(8)
    assert tab.start()

    def check():
        if tab.progress.value() > 0:
            print("quitting mid-training at step", tab.progress.value(), flush=True)
            if sys.argv[1] == "close":  # the window's close button or File > Quit
                window.close()
                app.quit()
            else:  # the event loop ends with the window still open (no closeEvent)
                app.exit(0)
        else:
            QTimer.singleShot(20, check)

    QTimer.singleShot(20, check)
    code = app.exec()
    print("thread running after the event loop ended:", tab.is_running, flush=True)
    sys.exit(code)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["close", "exit"])
def test_quitting_mid_training_exits_cleanly(tmp_path, how):
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        DIGIT_LAB_DATA_DIR=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        PYTHONPATH=str(ROOT),
    )
    script = tmp_path / "quit_mid_training.py"
    script.write_text(EXIT_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), how],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "quitting mid-training" in done.stdout, done.stderr[-2000:]
    assert done.returncode == 0, done.stderr[-2000:]
    assert "thread running after the event loop ended: False" in done.stdout
    assert "QThread: Destroyed" not in done.stderr
    assert "Traceback" not in done.stderr


def test_a_fashion_mnist_run_names_its_classes_in_the_evaluation(qtbot, tab, tmp_path):
    """No real Fashion-MNIST offline: a synthetic folder in torchvision's layout stands in."""
    from core.data.datasets import FASHION_MNIST, checkpoint_class_names
    from core.data.mnist import write_idx_dataset
    from tests.helpers import synthetic

    write_idx_dataset(tmp_path, *synthetic(300, 100), dataset="fashion-mnist")
    panel = tab.data_panel
    panel.choose("fashion-mnist")
    assert "not downloaded yet" in panel.active_label.text()
    assert not panel.use_folder(tmp_path / "nowhere")
    assert "No Fashion-MNIST files" in panel.message.text()
    assert panel.use_folder(tmp_path)
    assert panel.dataset_settings() == ("fashion-mnist", str(tmp_path))
    assert not panel.sample_button.isVisibleTo(tab) and "Fashion-MNIST" in (
        panel.download_button.text()
    )
    _configure(tab, epochs=1, batch_size=50)
    with qtbot.waitSignal(tab.runEnded, timeout=60_000) as ended_signal:
        tab.start()
    result = ended_signal.args[0].result
    assert checkpoint_class_names(result.checkpoint) == FASHION_MNIST.class_names
    view = tab.evaluation
    axis = view.confusion_plot.getPlotItem().getAxis("left")
    assert [name for _, name in axis._tickLevels[0]] == list(FASHION_MNIST.class_names)
    bars = view.class_plot.getPlotItem().getAxis("bottom")
    assert [name.strip() for _, name in bars._tickLevels[0]] == list(FASHION_MNIST.short_names)
    assert "test garments" in view.summary.text()
    gallery = view.gallery
    qtbot.waitUntil(lambda: gallery.count() > 0)
    entry = gallery.item(0).data(0x0100)
    short = FASHION_MNIST.short_names
    assert gallery.item(0).text().startswith(f"{short[entry.true_label]} → ")
    gallery.itemClicked.emit(gallery.item(0))
    texts = " ".join(label.text() for label in view.dialog.findChildren(type(tab.message)))
    assert f"<b>{FASHION_MNIST.class_names[entry.true_label]} ({entry.true_label})</b>" in texts
    view.dialog.close()
    again = type(panel)()  # the choice is remembered for the next launch
    qtbot.addWidget(again)
    assert again.dataset_settings() == ("fashion-mnist", str(tmp_path))


# ------------------------------------------------- issue 23: promises kept, words follow state


def _press(qtbot, widget, key=None) -> None:
    qtbot.keyClick(widget, key or Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)


def test_ctrl_p_pauses_and_resumes_every_time_and_after_a_tab_switch(qtbot, main_window):
    from PySide6.QtWidgets import QApplication

    tab = main_window.training_tab
    main_window.tabs.setCurrentWidget(tab)
    main_window.show()
    main_window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is main_window)
    _configure(tab, epochs=100, batch_size=8)
    with qtbot.waitSignal(tab.runEnded, timeout=60_000):
        tab.start()
        _wait_for_progress(qtbot, tab)
        for expected in ("paused", "running", "paused", "running"):  # pressed again and again
            _press(qtbot, tab.views)
            assert tab.phase == expected
        assert tab.pause_button.text().replace("&", "") == "Pause"
        main_window.tabs.setCurrentWidget(main_window.draw_tab)
        main_window.tabs.setCurrentWidget(tab)
        _press(qtbot, main_window.tabs.tabBar())  # focus outside the tab: still its key
        assert tab.phase == "paused" and "Paused" in tab.message.text()
        _press(qtbot, tab.pause_button)
        assert tab.phase == "running"
        tab.stop()


def test_the_banner_follows_the_runs_and_the_answer(qtbot, main_window):
    tab, banner = main_window.training_tab, main_window.run_offer
    _configure(tab, epochs=1, batch_size=128)
    with qtbot.waitSignal(tab.runEnded, timeout=60_000):
        tab.start()
    qtbot.waitUntil(lambda: not tab.is_running)
    assert banner.isVisibleTo(main_window) and "Training finished" in banner.text.text()
    assert "banner above asks" in tab.message.text()
    banner.keep_button.click()  # answered: the sentence says so and stops asking
    assert not banner.isVisibleTo(main_window)
    assert "banner" not in tab.message.text() and "Kept in Models" in tab.message.text()
    kept = tab.state.library.entries()
    assert len(kept) == 1 and "(2)" not in kept[0].name

    tab.epochs_spin.setValue(50)
    tab.batch_spin.setValue(8)
    with qtbot.waitSignal(tab.runEnded, timeout=60_000):
        tab.start()
        _wait_for_progress(qtbot, tab)
        tab.stop()
    qtbot.waitUntil(lambda: not tab.is_running)
    assert "Training stopped early" in banner.text.text() and "finished" not in banner.text.text()
    assert len(tab.state.library.entries()) == 1  # a stopped run is not kept unasked
    with qtbot.waitSignal(tab.runEnded, timeout=60_000):
        tab.epochs_spin.setValue(1)
        tab.batch_spin.setValue(128)
        tab.start()
        assert not banner.isVisibleTo(main_window)  # a new run: the old banner goes
        assert "Stopped" not in tab.message.text()


def test_the_run_list_survives_a_restart_and_clear_empties_it(qtbot, tab):
    from gui.training.training_tab import TrainingTab

    _configure(tab, epochs=1, batch_size=128)
    with qtbot.waitSignal(tab.runEnded, timeout=60_000):
        tab.start()
    qtbot.waitUntil(lambda: not tab.is_running)
    run = tab.plots.current
    assert tab.exports.wait()  # saved in a worker: the window never waits for the disk
    again = TrainingTab(AppState())
    qtbot.addWidget(again)
    (back,) = again.plots.runs
    assert back.number == run.number and back.config == run.config
    assert again.plots.run_table.item(0, 7).text() == f"{run.accuracy:.2%}"
    assert (
        again.plots.curves_of(back)["raw"] is not None and not again.plots.placeholder.isVisible()
    )
    again.plots.clear_button.click()
    assert again.plots.runs == [] and again.plots.run_table.rowCount() == 0
    assert again.exports.wait()
    third = TrainingTab(AppState())
    qtbot.addWidget(third)
    assert third.plots.runs == []
    again.shutdown()
    third.shutdown()


def test_speed_axis_labels_never_overlap(qtbot, tab):
    axis = tab.plots.speed_plot.getAxis("left")
    assert axis.logMode
    label = axis._label_height()
    for height in (50, 90, 160, 400):  # a short plot at 1024x700 with the banner up, a tall one
        ((spacing, values),) = axis.tickValues(2, 7, height)
        assert all(float(v).is_integer() for v in values) and len(values) >= 2
        assert spacing * height / 5 >= 1.5 * label  # a label and a gap between two ticks
    assert axis.tickStrings([2, 3, 4, 5, 6], 1, 1) == ["100", "1k", "10k", "100k", "1M"]


def test_the_left_column_is_never_cut_and_run_buttons_stay_in_view(qtbot, tab):
    tab.views.setCurrentWidget(tab.evaluation)  # the widest view: matrix beside the plots
    assert tab.minimumSizeHint().width() <= 1010  # fits a 1024-wide window with its frame
    tab.resize(1024, 560)  # 1024x700 less the menu, the banner and the status bar
    qtbot.wait(50)
    settings = tab.controls_scroll.widget()
    assert tab.controls_scroll.viewport().width() >= settings.minimumSizeHint().width()
    for button in (tab.start_button, tab.stop_button, tab.save_button, tab.load_button):
        top_left = button.mapTo(tab, button.rect().topLeft())
        assert tab.rect().contains(top_left) and top_left.y() + button.height() <= tab.height()


def test_a_preset_says_what_it_is_for_under_its_box(qtbot, tab):
    tab.preset_combo.setCurrentIndex(tab.preset_combo.findData("speedrun"))
    note = tab.settings_box.preset_note
    assert note.isVisibleTo(tab) and "99%" in note.text() and "\n" not in note.text()
    tab.batch_spin.setValue(32)  # a hand change: Custom, nothing to explain
    assert tab.config().preset == "" and not note.isVisibleTo(tab)


def test_the_run_list_says_how_long_a_run_took_to_reach_99_percent(qtbot, tab):
    from core.training.train_types import EpochEvent

    plots = tab.plots
    plots.start_run(_started(epochs=2))
    plots.add_epoch(EpochEvent(1, 2, 0.2, 0.1, 0.985, 4.0))
    plots.add_epoch(EpochEvent(2, 2, 0.1, 0.05, 0.992, 3.5))
    assert plots.run_table.item(0, 7).text() == "99.20% (99% in 7.5 s)"


def test_a_learning_rate_changed_mid_run_is_marked_kept_and_exported(qtbot, tab, tmp_path):
    _configure(tab, epochs=100, batch_size=8)
    assert not tab.set_lr(0.001)  # no run to change
    with qtbot.waitSignal(tab.runEnded, timeout=60_000):
        tab.start()
        _wait_for_progress(qtbot, tab)
        control = tab.lr_control  # in the Run box, live while the run goes
        assert control.apply.isEnabled() and control.box.value() == 0.05
        control.box.setValue(0.001)
        control.apply.click()
        qtbot.waitUntil(lambda: bool(tab.plots.current.lr_changes), timeout=10_000)
        assert "0.001" in control.note.text()
        tab.toggle_pause()  # pausing and resuming redraw the controls: the new rate stays shown
        tab.toggle_pause()
        assert control.box.value() == 0.001
        tab.stop()
    run = tab.plots.current
    (change,) = run.lr_changes
    assert change.lr == 0.001 and change.previous == 0.05 and change.step >= 1
    marks = [k for k in tab.plots.curves_of(run) if k.startswith("lr-")]
    assert len(marks) == 1 and tab.plots.curves_of(run)[marks[0]].value() == change.step
    assert any(row[7] == "lr_change" for row in run_rows(tab))
    assert tab.export_script_to(tmp_path / "run.py", run)
    assert f"LR_STEPS = [({change.step}, 0.02" in (tmp_path / "run.py").read_text()
    qtbot.waitUntil(lambda: not tab.is_running)
    assert not tab.lr_control.apply.isEnabled()  # nothing to change between runs


def test_the_why_pages_sit_beside_the_curves_and_the_finder_is_one_click(qtbot, tab):
    titles = [tab.views.tabText(i) for i in range(tab.views.count())]
    assert titles[2:] == ["Learning rate", "Landscape", "Repeats"]
    assert tab.lr_control.parent() is tab.run_panel
    tab.settings_box.find_lr_link.linkActivated.emit("find")
    assert tab.views.currentWidget() is tab.lr_finder and tab.lr_finder.state.busy
    tab.lr_finder.jobs.stop()
    qtbot.waitUntil(lambda: not tab.lr_finder.state.busy, timeout=30_000)
    tab.lr_finder.useLearningRate.emit(0.0123)
    assert tab.config().lr == pytest.approx(0.0123, rel=1e-3) and "0.0123" in tab.message.text()


def run_rows(tab):
    return tab.run_state.history.csv_rows()


def test_every_alt_letter_in_view_has_one_meaning(qtbot, tab):
    from PySide6.QtWidgets import QAbstractButton, QLabel, QTabBar

    from gui.training.state import mnemonic_of

    def letters(container, *, bars=True):
        texts = [w.text() for w in container.findChildren(QAbstractButton)]
        texts += [w.text() for w in container.findChildren(QLabel) if w.buddy() is not None]
        if bars:
            texts += [
                b.tabText(i) for b in container.findChildren(QTabBar) for i in range(b.count())
            ]
        return [m for m in map(mnemonic_of, texts) if m]

    column = [tab.run_panel, tab.data_panel, tab.settings_box, tab.model_box]
    always = [m for box in column for m in letters(box)] + letters(tab.views.tabBar(), bars=False)
    assert len(always) == len(set(always)) and len(always) > 10
    for index in range(tab.views.count()):
        page = letters(tab.views.widget(index))
        assert not set(page) & set(always) and len(page) == len(set(page)), index
    assert not tab.evaluation.try_button.shortcut().isEmpty()  # moved off Alt+D: Ctrl+T kept
    # The README's keyboard table: Alt+S export as script, Alt+T reset settings.
    assert mnemonic_of(tab.plots.run_list.script_button.text()) == "s"
    assert mnemonic_of(tab.reset_button.text()) == "t"


def test_a_run_list_that_cannot_be_saved_is_said_in_the_tab(qtbot, tab, tmp_path):
    from core.training.train_types import RunEnded

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    tab.run_state.store = blocker / "runs.json"
    tab.plots.start_run(_started())
    tab.plots.end_run(RunEnded("stopped"))
    tab.exports.save_runs_later()
    assert tab.exports.wait()
    qtbot.waitUntil(lambda: "could not be saved" in tab.message.text())
    assert tab.message.isVisibleTo(tab)
