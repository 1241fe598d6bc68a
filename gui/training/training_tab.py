"""The Training tab: settings on the left, live curves and the evaluation on the right.

The tab only wires views to a ``TrainWorker`` running the core trainer in a QThread; it does no
training work itself. Its controls are built from ``core.training.train_settings.SETTINGS`` (labels,
ranges, choices, tooltips, QSettings keys), so a setting is described in one place. Whether a
run is going, paused or stopping is asked of the worker's trainer, the one holder of that
state, and ``_render_controls`` draws the buttons from it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import shiboken6
from PySide6.QtCore import QCoreApplication, QSettings, Qt, QThread, Signal, SignalInstance
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.device import available_devices
from core.errors import UserError
from core.storage.atomic import write_text_atomic
from core.storage.checkpoint import Checkpoint, save_checkpoint
from core.training.models import MODELS
from core.training.run_history import DEFAULT_SMOOTHING, BatchBlock, RunRecord
from core.training.script_export import ExportedScript, export_script
from core.training.train_settings import (
    PRESET_NOTES,
    PRESETS,
    SETTINGS,
    Setting,
    apply_preset,
    coerce,
    restore_config,
    stored_values,
)
from core.training.train_types import EpochEvent, RunEnded, RunStarted, TrainConfig
from gui import theme
from gui.app_state import AppState
from gui.file_dialogs import ask_open_path, ask_save_path
from gui.training.augment_strip import AugmentStrip
from gui.training.data_panel import DataPanel
from gui.training.evaluation_view import EvaluationView
from gui.training.train_worker import TrainWorker, start_worker
from gui.training.training_plots import TrainingPlots

PROGRESS_INTERVAL_S = 0.5
LEFT_WIDTH = 380
WIDE_SETTINGS = ("model", "loss", "optimizer")  # a full row each; the others two per row
SMOOTHING_KEY = "training/smoothing"
LOSS_SCALE_KEY = "training/loss_scale"
PLAYGROUND_PAIR = "ce-nll"


def _format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _control_name(setting: Setting) -> str:
    """The attribute a setting's widget gets on the tab (``epochs_spin``, ``model_combo``)."""
    if setting.choices:
        return f"{setting.name}_combo"
    if setting.kind is bool:
        return f"{setting.name}_check"
    return {"batch_size": "batch_spin"}.get(setting.name, f"{setting.name}_spin")


def _make_control(setting: Setting) -> QWidget:
    """A combo box for a choice, a spin box for a number, a check box for a yes/no setting,
    ranged and explained by the table."""
    if setting.kind is bool:
        widget: QWidget = QCheckBox(setting.label)
    elif setting.choices:
        combo = QComboBox()
        for choice in setting.choices:
            combo.addItem(choice.title, choice.value)
            combo.setItemData(combo.count() - 1, choice.tooltip, Qt.ItemDataRole.ToolTipRole)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(6)
        widget = combo
    elif setting.kind is float:
        spin = QDoubleSpinBox()
        spin.setDecimals(setting.decimals)
        spin.setSingleStep(setting.step)
        if setting.name == "lr":
            spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        spin.setRange(*setting.control_range)
        widget = spin
    else:
        spin = QSpinBox()
        spin.setSingleStep(int(setting.step))
        low, high = setting.control_range
        spin.setRange(int(low), int(min(high, 2**31 - 1)))
        widget = spin
    widget.setToolTip(setting.tooltip)
    return widget


def _changed_signal(widget: QWidget) -> SignalInstance:
    """The signal a settings widget sends when the learner changes its value."""
    if isinstance(widget, QComboBox):
        return widget.currentIndexChanged
    if isinstance(widget, QCheckBox):
        return widget.toggled
    return widget.valueChanged


def _value_of(widget: QWidget, kind: type) -> object:
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    return kind(widget.value())


class TrainingTab(QWidget):
    """Controls, Start/Pause/Stop, progress, live curves, evaluation, save and load."""

    runStarted = Signal(object)  # RunStarted, after the views took it
    runEnded = Signal(object)  # RunEnded, after the views took it
    insideEvent = Signal(object)  # the worker's gradient-flow reports, for the inspector
    openPlaygroundPair = Signal(str)  # a LossPair name the learner wants to see in the playground
    tryInDraw = Signal(object, object)  # a test digit (28x28 uint8) and its true label

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self._thread: QThread | None = None
        self._worker: TrainWorker | None = None
        self._data = None  # the MnistData of the last run, reused when the dataset is unchanged
        self._data_key: tuple[str, str | None] | None = None
        self._pending_key: tuple[str, str | None] | None = None
        self._run_over = True  # the last run sent RunEnded (its thread may still be finishing)
        self._last_progress = 0.0
        self._last_started: RunStarted | None = None
        self._showing_config = False  # set_config is filling the controls

        self.plots = TrainingPlots()
        self.plots.exportRequested.connect(self._export_csv_dialog)
        self.plots.scriptRequested.connect(self._export_script_dialog)
        self.evaluation = EvaluationView()
        self.evaluation.tryInDraw.connect(self.tryInDraw)
        self.views = QTabWidget()
        self.views.addTab(self.plots, "Li&ve curves")
        self.views.addTab(self.evaluation, "Evaluatio&n")
        self.views.setTabToolTip(1, "Confusion matrix, per-digit accuracy and misclassified digits")
        self.data_panel = DataPanel()
        self.data_panel.datasetChanged.connect(self._on_dataset_changed)
        self._build_layout()

        self._restore_settings()
        self.state.modelChanged.connect(self._show_current_model)
        self._show_current_model(self.state.current_model)
        self._render_controls()
        app = QCoreApplication.instance()
        if app is not None:  # quitting without closing the window must also stop the thread
            app.aboutToQuit.connect(self.shutdown)

    # ----------------------------------------------------------------- building
    def _build_layout(self) -> None:
        controls = QWidget()
        controls_layout = QVBoxLayout(controls)
        controls_layout.setContentsMargins(0, 0, 4, 0)
        controls_layout.addWidget(self.data_panel)
        controls_layout.addWidget(self._build_settings())
        controls_layout.addWidget(self._build_run_box())
        controls_layout.addWidget(self._build_model_box())
        controls_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(controls)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Room for the scroll bar that short windows (1024x700) need, so nothing is cut.
        scroll.setFixedWidth(LEFT_WIDTH + scroll.verticalScrollBar().sizeHint().width() + 4)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(scroll)
        layout.addWidget(self.views, 1)

    def _build_settings(self) -> QGroupBox:
        """One control per remembered ``TrainConfig`` setting, in the table's order."""
        box = QGroupBox("Model and training settings")
        grid = QGridLayout(box)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.controls: dict[str, QWidget] = {}
        self._build_reset_button()
        row, col = 0, 0
        # Dataset and folder come from the data panel; settings without a key have no widget.
        shown = [s for s in SETTINGS.values() if s.settings_key is not None]
        for setting in sorted(shown, key=lambda s: s.name != "preset"):  # a preset comes first
            widget = _make_control(setting)
            self.controls[setting.name] = widget
            setattr(self, _control_name(setting), widget)
            wide = setting.name in WIDE_SETTINGS
            if wide and col:
                row, col = row + 1, 0
            if isinstance(widget, QCheckBox):
                grid.addWidget(widget, row, col, 1, 2)
            else:
                label = QLabel(setting.label)
                label.setBuddy(widget)
                label.setToolTip(setting.tooltip)
                grid.addWidget(label, row, col)
                grid.addWidget(widget, row, col + 1, 1, 3 if wide else 1)
            if setting.name == "loss":
                row += 1
                grid.addWidget(self._build_playground_link(), row, 1, 1, 3)
            if setting.name == "preset":  # "start from": the way back to the defaults beside it
                grid.addWidget(self.reset_button, row, 2, 1, 2, Qt.AlignmentFlag.AlignRight)
                row, col = row + 1, 0
                continue
            row, col = (row + 1, 0) if wide or col else (row, 2)
        self._mark_absent_devices()
        self.optimizer_combo.currentIndexChanged.connect(self._update_momentum_enabled)
        for name, widget in self.controls.items():
            if name == "preset":
                widget.currentIndexChanged.connect(self._apply_preset)
            else:
                _changed_signal(widget).connect(self._leave_preset_if_changed)
        self.augment_strip = AugmentStrip()
        grid.addWidget(self.augment_strip, row + 1, 0, 1, 4)
        self.augment_check.toggled.connect(self._show_augment_strip)
        self._show_augment_strip(self.augment_check.isChecked())
        self.settings_box = box
        return box

    def _show_augment_strip(self, on: bool) -> None:
        if on:
            self.augment_strip.show_examples()
        else:
            self.augment_strip.hide()

    def _build_reset_button(self) -> None:
        self.reset_button = QPushButton("Rese&t settings")
        self.reset_button.setToolTip(
            "Put every setting here back to its default: the seed notebook's recipe\n"
            "(MLP, NLL loss, SGD lr 0.01 momentum 0.9, batch 64, 5 epochs)."
        )
        self.reset_button.clicked.connect(self.reset_settings)

    def _build_playground_link(self) -> QLabel:
        self.loss_link = QLabel(
            f"<a href='{PLAYGROUND_PAIR}'>Same numbers? Compare them in the playground</a>"
        )
        self.loss_link.setToolTip("Opens the Loss playground on the CrossEntropy vs NLL pair.")
        self.loss_link.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.loss_link.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.loss_link.linkActivated.connect(self.openPlaygroundPair)
        return self.loss_link

    def _mark_absent_devices(self) -> None:
        """Devices this machine lacks stay listed (so the learner knows they exist), disabled."""
        present = available_devices()
        combo = self.device_combo
        for row in range(combo.count()):
            name = combo.itemData(row)
            if name == "auto":
                combo.setItemText(row, f"auto ({present[0]})")
            elif name not in present:
                combo.setItemText(row, f"{name} (not present)")
                combo.model().item(row).setEnabled(False)
        combo.setToolTip(f"{SETTINGS['device'].tooltip}\nPresent here: {', '.join(present)}.")

    def _build_run_box(self) -> QGroupBox:
        box = QGroupBox("Run")
        self.start_button = self._button("Start", "Ctrl+Return", self.start)
        self.start_button.setToolTip("Train a new model with these settings (Ctrl+Enter).")
        self.pause_button = self._button("Pause", "Ctrl+P", self.toggle_pause)
        self.stop_button = self._button("Stop", "Ctrl+.", self.stop)
        self.stop_button.setToolTip(
            "End the run after the current batch (Ctrl+.). The model is scored as it is,\n"
            "listed with the runs and kept in Models; it replaces the current model only if\n"
            "you choose it."
        )
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.progress.setToolTip("Training steps done; the time left excludes evaluation.")
        self.eta_label = QLabel(" ")
        self.eta_label.setObjectName("etaLabel")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setVisible(False)
        layout = QVBoxLayout(box)
        layout.addLayout(buttons)
        for widget in (self.progress, self.eta_label, self.message):
            layout.addWidget(widget)
        return box

    def _button(self, text: str, shortcut: str, slot: Callable[[], object]) -> QPushButton:
        button = QPushButton(text)
        button.setShortcut(QKeySequence(shortcut))
        button.clicked.connect(slot)
        return button

    def _build_model_box(self) -> QGroupBox:
        box = QGroupBox("Current model (used by the Draw tab)")
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.save_button = self._button("Save model…", "Ctrl+S", self._save_dialog)
        self.save_button.setToolTip(
            'Save the current model to a file (Ctrl+S); ".pt" is added when missing.'
        )
        self.load_button = self._button("Load model…", "Ctrl+O", self._load_dialog)
        self.load_button.setToolTip(
            "Load a Digit Lab model file and make it the current model (Ctrl+O).\n"
            "Files are read weights-only: a file that would run code is refused."
        )
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.load_button)
        self.file_message = QLabel()
        self.file_message.setWordWrap(True)
        self.file_message.setVisible(False)
        layout = QVBoxLayout(box)
        layout.addWidget(self.model_label)
        layout.addLayout(buttons)
        layout.addWidget(self.file_message)
        return box

    # ----------------------------------------------------------------- settings
    def config(self) -> TrainConfig:
        """The ``TrainConfig`` the controls describe (dataset from the data panel)."""
        values = {name: _value_of(w, SETTINGS[name].kind) for name, w in self.controls.items()}
        dataset, data_dir = self.data_panel.dataset_settings()
        return TrainConfig(**values, dataset=dataset, data_dir=data_dir)

    def set_config(self, config: TrainConfig) -> None:
        """Show ``config`` in the controls (values outside the limits are clamped)."""
        self._showing_config = True
        try:
            for name, widget in self.controls.items():
                value = getattr(config, name)
                if isinstance(widget, QComboBox):
                    index = widget.findData(value)
                    item = widget.model().item(index) if index >= 0 else None
                    if item is not None and item.isEnabled():
                        widget.setCurrentIndex(index)
                elif isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
                else:
                    widget.setValue(value)
        finally:
            self._showing_config = False
        self._update_momentum_enabled()

    def _apply_preset(self) -> None:
        """Choosing a preset puts its settings in the controls (and says what it is for)."""
        name = self.preset_combo.currentData()
        if self._showing_config or not name:
            return
        self.set_config(apply_preset(self.config(), name))
        note = PRESET_NOTES.get(name)
        self.show_message(f"{self.preset_combo.currentText()}: {note}." if note else "")

    def _leave_preset_if_changed(self) -> None:
        """A setting changed by hand that the preset fixes makes the settings "Custom"."""
        name = self.preset_combo.currentData()
        if self._showing_config or not name:
            return
        config = self.config()
        if any(getattr(config, key) != value for key, value in PRESETS[name].items()):
            self.preset_combo.setCurrentIndex(self.preset_combo.findData(""))

    def _restore_settings(self) -> None:
        """Last session's settings, each clamped by the table (a hand-edited file cannot crash)."""
        settings = QSettings()
        stored = {
            key: settings.value(key)
            for key in stored_values(TrainConfig())
            if settings.contains(key)
        }
        self.set_config(restore_config(stored))
        smoothing = coerce(settings.value(SMOOTHING_KEY), int, 60, 0, 99)
        self.plots.smoothing_slider.setValue(smoothing)
        scale = coerce(
            settings.value(LOSS_SCALE_KEY), str, "auto", choices=("auto", "linear", "log")
        )
        self.plots.scale_combo.setCurrentIndex(self.plots.scale_combo.findData(scale))

    def save_settings(self) -> None:
        settings = QSettings()
        for key, value in stored_values(self.config()).items():
            settings.setValue(key, value)
        settings.setValue(SMOOTHING_KEY, self.plots.smoothing_slider.value())
        settings.setValue(LOSS_SCALE_KEY, self.plots.scale_combo.currentData())

    def reset_settings(self) -> None:
        """Every setting back to ``TrainConfig``'s defaults, the curves' options too; saved."""
        self.set_config(TrainConfig())
        self.plots.smoothing_slider.setValue(int(round(DEFAULT_SMOOTHING * 100)))
        self.plots.scale_combo.setCurrentIndex(self.plots.scale_combo.findData("auto"))
        self.save_settings()
        self.show_message("Settings reset to the defaults (the seed notebook's recipe).")

    def _update_momentum_enabled(self) -> None:
        self.momentum_spin.setEnabled(self.optimizer_combo.currentData() == "sgd")

    # --------------------------------------------------------------------- runs
    @property
    def is_running(self) -> bool:
        thread = self._thread
        return thread is not None and shiboken6.isValid(thread) and thread.isRunning()

    @property
    def phase(self) -> str:
        """ "idle", "running", "paused" or "stopping", asked of the run's trainer."""
        worker = self._worker
        if worker is None or self._run_over:
            return "idle"
        if worker.is_stopping:
            return "stopping"
        return "paused" if worker.is_paused else "running"

    @property
    def is_paused(self) -> bool:
        return self.phase == "paused"

    def start(self) -> bool:
        """Start a run with the controls' settings; False (with a message) if it cannot."""
        # A run in progress refuses; a run that already ended may still be finishing its thread.
        if self.is_running and (not self._run_over or not self._thread.wait(2000)):
            return False
        self._forget_thread()
        try:
            config = self.config().validate()
        except UserError as exc:
            self.show_message(str(exc), error=True)
            return False
        self.save_settings()
        key = (config.dataset, config.data_dir)
        data = self._data if key == self._data_key else None
        worker = TrainWorker(config, data, keep=self.state.keep)
        self._pending_key = key
        worker.dataReady.connect(self._on_data_ready)  # a bound slot: delivered queued
        worker.runStarted.connect(self._on_run_started)
        worker.batchesReady.connect(self._on_batches)
        worker.epochEnded.connect(self._on_epoch)
        worker.runEnded.connect(self._on_run_ended)
        worker.calibrationReady.connect(self.evaluation.show_calibration)
        worker.insideEvent.connect(self.insideEvent)
        self._worker, self._run_over = worker, False
        self.show_message("Loading data…" if data is None else "Starting…")
        self.progress.setRange(0, 0)
        self.progress.setFormat("preparing…")
        self.eta_label.setText(" ")
        self._render_controls()
        self._thread = start_worker(worker, self)
        return True

    def toggle_pause(self) -> None:
        """Pause a running run after its current batch, or resume a paused one."""
        phase, worker = self.phase, self._worker
        if phase == "running":
            worker.pause()
            self._show_last_step()  # progress updates are throttled: show where the run is
            self.show_message("Paused: training waits after the current batch.")
        elif phase == "paused":
            worker.resume()
            self.show_message("")
        self._render_controls()

    def stop(self) -> None:
        """Ask the run to stop after the current batch (returns at once)."""
        if self.phase in ("running", "paused"):
            self._worker.stop()
            self.show_message("Stopping after the current batch…")
            self._render_controls()

    def shutdown(self) -> None:
        """Stop any run and wait for its thread: the window may close only after this."""
        self.data_panel.shutdown()
        thread = self._thread
        if self._worker is not None and self.is_running:
            self._worker.stop()
        if thread is not None and shiboken6.isValid(thread):
            thread.wait()
        self._forget_thread()
        self.save_settings()

    def _forget_thread(self) -> None:
        self._thread = None
        self._worker = None

    def _render_controls(self) -> None:
        """Buttons, settings and progress text drawn from ``phase`` (the only run state)."""
        phase = self.phase
        idle = phase == "idle"
        self.settings_box.setEnabled(idle)
        self.data_panel.set_controls_enabled(idle)
        self.start_button.setEnabled(idle)
        self.load_button.setEnabled(idle)
        self.pause_button.setEnabled(phase in ("running", "paused"))
        self.stop_button.setEnabled(phase in ("running", "paused"))
        self.pause_button.setText("Resume" if phase == "paused" else "Pause")
        self.pause_button.setToolTip(
            "Continue training (Ctrl+P)."
            if phase == "paused"
            else "Pause after the current batch; Resume continues (Ctrl+P)."
        )
        if self.progress.maximum() > 0 and phase in ("running", "paused"):
            paused = phase == "paused"
            self.progress.setFormat("paused at step %v of %m" if paused else "step %v of %m")

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet(theme.text_style(theme.ERROR if error else theme.INK))
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # -------------------------------------------------------- worker signals
    def _on_data_ready(self, data) -> None:  # noqa: ANN001
        self._data, self._data_key = data, self._pending_key
        self.data_panel.set_loaded(data.description)

    def _on_dataset_changed(self) -> None:
        self._data, self._data_key = None, None

    def _on_run_started(self, event: RunStarted) -> None:
        self._last_started = event
        self.plots.start_run(event)
        self.progress.setRange(0, max(1, event.total_steps))
        self.progress.setValue(0)
        self._render_controls()
        note = f" {event.note}" if event.note else ""
        self.show_message(
            f"Training {MODELS[event.config.model].title} on {event.dataset}, {event.device}.{note}"
        )
        self.state.show_status(f"Training on {event.device} — {event.dataset}", 0)
        self.runStarted.emit(event)

    def _on_batches(self, block: BatchBlock) -> None:
        self.plots.add_batches(block)
        last = block.last
        if last is None:
            return
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_INTERVAL_S and not self.is_paused:
            return
        # QProgressBar.setValue repaints at once (holding the GIL); 2 updates a second suffice.
        self._last_progress = now
        self.progress.setValue(last.step)
        left = last.seconds / max(1, last.step) * (last.total_steps - last.step)
        self.eta_label.setText(
            f"Epoch {last.epoch}: {last.samples_per_second:,.0f} samples/s, "
            f"about {_format_seconds(left)} left"
        )

    def _show_last_step(self) -> None:
        """Progress to the newest step the curves hold (live progress updates are throttled)."""
        run = self.plots.current
        if run is not None and run.status == "running" and len(run.steps):
            self.progress.setValue(int(run.steps.view[-1]))

    def _on_epoch(self, event: EpochEvent) -> None:
        self.plots.add_epoch(event)
        loss_text = f"{event.test_loss:.4f}" if math.isfinite(event.test_loss) else "not a number"
        self.show_message(
            f"Epoch {event.epoch}/{event.epochs}: test accuracy {event.test_accuracy:.2%}, "
            f"test loss {loss_text} ({event.seconds:.1f} s)."
        )

    def _on_run_ended(self, ended: RunEnded) -> None:
        self._run_over = True
        self.plots.end_run(ended)
        self._render_controls()
        self._show_evaluation(ended)
        if ended.status == "finished":
            self._ended_finished(ended)
        elif ended.status == "stopped":
            self._ended_stopped(ended)
        else:
            self._end_progress("failed")
            self.show_message(f"Training failed: {ended.reason}", error=True)
            self.state.show_status("Training failed.")
        self.eta_label.setText(" ")
        self.runEnded.emit(ended)

    def _show_evaluation(self, ended: RunEnded) -> None:
        """The scored model of a finished or stopped run, in the Evaluation view."""
        result = ended.result
        if result is None or result.evaluation is None:
            return
        images = self._data.test_images.cpu().numpy() if self._data is not None else None
        run = self.plots.current
        title = f"Run #{run.number}" if run is not None else ""
        if ended.status == "stopped":
            title += " (stopped early)"
        self.evaluation.show_result(result.evaluation, images, title, result.config.dataset)

    def _end_progress(self, text: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat(text)

    def _ended_finished(self, ended: RunEnded) -> None:
        result = ended.result
        self.progress.setValue(self.progress.maximum())
        self.progress.setFormat("done: %m steps")
        accuracy = result.evaluation.accuracy if result and result.evaluation else None
        acc_text = f" Test accuracy {accuracy:.2%}." if accuracy is not None else ""
        self.show_message(
            f"Finished.{acc_text} Kept in Models…; the banner above asks whether the Draw tab "
            "should use it."
        )
        if result is not None and result.checkpoint is not None:
            self.state.offer_run(result.checkpoint, self._kept())  # offered, never swapped in
        device = self._last_started.device if self._last_started else "the device"
        self.state.show_status(f"Training finished on {device}.{acc_text}", 0)

    def _ended_stopped(self, ended: RunEnded) -> None:
        result = ended.result
        if self.progress.maximum() == 0:
            # Stopped while the data was still loading: no step ran, end the busy animation.
            self._end_progress("stopped before the first step")
            self.show_message("Stopped.")
        else:
            self._show_last_step()
            self.progress.setFormat("stopped at step %v of %m")
            scored = result is not None and result.evaluation is not None
            self.show_message(
                f"Stopped. The partly trained model scored {result.evaluation.accuracy:.2%} "
                "(see Evaluation and the run list). It is kept in Models…; the banner above "
                "asks whether the Draw tab should use it."
                if scored
                else "Stopped."
            )
            if scored and result.checkpoint is not None:
                self.state.offer_run(result.checkpoint, self._kept())  # usable, never swapped in
        self.state.show_status("Training stopped.")

    def _kept(self):  # noqa: ANN202 - gui.app_state.Kept, or None: keep it now
        return self._worker.kept if self._worker is not None else None

    # ------------------------------------------------------------ model files
    def _show_current_model(self, checkpoint: Checkpoint | None) -> None:
        if checkpoint is None:
            self.model_label.setText("No model yet: train one or load a file.")
        else:
            self.model_label.setText(checkpoint.summary())
        self.save_button.setEnabled(checkpoint is not None)

    def _file_message(self, text: str, *, error: bool = False) -> None:
        self.file_message.setStyleSheet(theme.text_style(theme.ERROR if error else theme.OK))
        self.file_message.setText(text)
        self.file_message.setVisible(bool(text))

    def save_model_to(self, path: str | Path) -> bool:
        checkpoint = self.state.current_model
        if checkpoint is None:
            self._file_message("There is no model to save yet.", error=True)
            return False
        try:
            saved = save_checkpoint(checkpoint, path)
        except (OSError, UserError) as exc:
            self._file_message(f"Could not save {path}: {exc}", error=True)
            return False
        self._file_message(f"Saved to {saved}.")
        return True

    def load_model_from(self, path: str | Path) -> bool:
        try:
            self.state.load_model_file(path)
        except UserError as exc:
            self._file_message(f"Not loaded: {exc}", error=True)
            return False
        self._file_message(f"Loaded {Path(path).name}.")
        return True

    def _save_dialog(self) -> None:
        path = ask_save_path(
            self, "model", "Save model", "digit-lab-model.pt", ".pt", "Model files (*.pt)"
        )
        if path is not None:
            self.save_model_to(path)

    def _load_dialog(self) -> None:
        path = ask_open_path(self, "model", "Load model", "Model files (*.pt);;All files (*)")
        if path is not None:
            self.load_model_from(path)

    def export_script_to(self, path: str | Path, run: RunRecord | None = None) -> bool:
        """Write ``run`` (or the current settings) as a standalone script; say so in place."""
        script = self._script_for(run)
        return script is not None and self._write_script(path, script)

    def _script_for(self, run: RunRecord | None) -> ExportedScript | None:
        config, origin = (
            (self.config(), "the Training tab's settings")
            if run is None
            else (run.config, f"run {run.number} of the Training tab ({run.label})")
        )
        try:
            return export_script(config, origin=origin)
        except UserError as exc:
            self.show_message(f"Could not export the script: {exc}", error=True)
            return None

    def _write_script(self, path: str | Path, script: ExportedScript) -> bool:
        try:
            write_text_atomic(path, script.text)
        except (OSError, UserError) as exc:
            self.show_message(f"Could not export the script: {exc}", error=True)
            return False
        name = Path(path).name
        self.show_message(
            f"Script saved to {path}: run it with 'python {name}' or 'torchrun "
            f"--nproc_per_node=N {name}'."
        )
        return True

    def _export_script_dialog(self, run: RunRecord | None) -> None:
        script = self._script_for(run)  # made once: its name suggests the file, then it is written
        if script is None:
            return
        path = ask_save_path(
            self, "script", "Export as script", script.suggested_name, ".py", "Python (*.py)"
        )
        if path is not None:
            self._write_script(path, script)

    def _export_csv_dialog(self) -> None:
        if not self.plots.runs:
            self.show_message("No runs to export yet.", error=True)
            return
        path = ask_save_path(
            self, "curves", "Export curves", "digit-lab-runs.csv", ".csv", "CSV (*.csv)"
        )
        if path is None:
            return
        try:
            self.plots.export_csv(path)
        except OSError as exc:
            self.show_message(f"Could not write {path}: {exc.strerror or exc}", error=True)
            return
        self.show_message(f"Curves of {len(self.plots.runs)} run(s) saved to {path}.")
