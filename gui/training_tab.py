"""The Training tab: settings on the left, live curves and the evaluation on the right.

The tab only wires views to a ``TrainWorker`` running ``core.trainer.Trainer`` in a QThread; it
does no training work itself. A finished run's model becomes the app's current model through
``AppState`` (the Draw tab listens there).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import shiboken6
from PySide6.QtCore import QCoreApplication, QSettings, Qt, QThread, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
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

from core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from core.device import available_devices
from core.errors import UserError
from core.models import MODELS
from core.train_types import EpochEvent, RunEnded, RunStarted, TrainConfig
from gui.app_state import AppState
from gui.data_panel import DataPanel
from gui.evaluation_view import EvaluationView
from gui.train_worker import BatchBlock, TrainWorker, start_worker
from gui.training_plots import TrainingPlots

PROGRESS_INTERVAL_S = 0.5
LEFT_WIDTH = 380

LOSS_TIPS = {
    "nll": "NLLLoss on log-probabilities: the model ends in log_softmax (the seed's choice).",
    "ce": "CrossEntropyLoss on raw logits: log_softmax happens inside the loss.",
}
OPTIMIZER_TIPS = {
    "sgd": "Stochastic gradient descent: step = -lr x gradient, plus momentum x previous step.",
    "adam": "Adam: per-weight step sizes from running averages of the gradient and its square.",
}


def _format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class TrainingTab(QWidget):
    """Controls, Start/Pause/Stop, progress, live curves, evaluation, save and load."""

    runStarted = Signal(object)  # RunStarted, after the views took it
    runEnded = Signal(object)  # RunEnded, after the views took it

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
        self.last_result = None  # RunResult of the last run that produced one

        self.plots = TrainingPlots()
        self.plots.exportRequested.connect(self._export_csv_dialog)
        self.evaluation = EvaluationView()
        self.views = QTabWidget()
        self.views.addTab(self.plots, "Live curves")
        self.views.addTab(self.evaluation, "Evaluation")
        self.views.setTabToolTip(1, "Confusion matrix, per-digit accuracy and misclassified digits")

        self.data_panel = DataPanel()
        self.data_panel.datasetChanged.connect(self._on_dataset_changed)
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
        scroll.setFixedWidth(LEFT_WIDTH + 16)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(scroll)
        layout.addWidget(self.views, 1)

        self._restore_settings()
        self.state.modelChanged.connect(self._show_current_model)
        self._show_current_model(self.state.current_model)
        self._set_running(False)
        app = QCoreApplication.instance()
        if app is not None:  # quitting without closing the window must also stop the thread
            app.aboutToQuit.connect(self.shutdown)

    # ----------------------------------------------------------------- building
    def _build_settings(self) -> QGroupBox:
        box = QGroupBox("Model and training settings")
        grid = QGridLayout(box)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)

        def add(row: int, col: int, text: str, widget: QWidget, span: int = 1) -> None:
            label = QLabel(text)
            label.setBuddy(widget)
            label.setToolTip(widget.toolTip())
            grid.addWidget(label, row, col)
            grid.addWidget(widget, row, col + 1, 1, span)

        self.model_combo = QComboBox()
        for name, spec in MODELS.items():
            self.model_combo.addItem(spec.title, name)
            self.model_combo.setItemData(
                self.model_combo.count() - 1, spec.description, Qt.ItemDataRole.ToolTipRole
            )
        self.model_combo.setToolTip(
            "Which network to train. The MLP looks at all 784 pixels at once; the CNN slides\n"
            "small filters over the image, so it learns stroke shapes wherever they are."
        )
        add(0, 0, "&Model", self.model_combo, 3)

        self.loss_combo = QComboBox()
        for name in ("nll", "ce"):
            self.loss_combo.addItem(
                {"nll": "NLL on log_softmax", "ce": "Cross-entropy on logits"}[name], name
            )
            self.loss_combo.setItemData(
                self.loss_combo.count() - 1, LOSS_TIPS[name], Qt.ItemDataRole.ToolTipRole
            )
        self.loss_combo.setToolTip(
            "Both train the same way: CrossEntropyLoss(logits) equals NLLLoss(log_softmax(logits)).\n"
            "The choice decides whether the model's last layer applies log_softmax itself.\n"
            "The Loss playground's ce-nll pair shows the two side by side."
        )
        add(1, 0, "&Loss", self.loss_combo, 3)
        self.loss_link = QLabel("<a href='ce-nll'>Same numbers? Compare them in the playground</a>")
        self.loss_link.setToolTip("Opens the Loss playground on the CrossEntropy vs NLL pair.")
        self.loss_link.linkActivated.connect(self._open_playground)
        grid.addWidget(self.loss_link, 2, 1, 1, 3)

        self.optimizer_combo = QComboBox()
        for name in ("sgd", "adam"):
            self.optimizer_combo.addItem(name.upper() if name == "sgd" else "Adam", name)
            self.optimizer_combo.setItemData(
                self.optimizer_combo.count() - 1, OPTIMIZER_TIPS[name], Qt.ItemDataRole.ToolTipRole
            )
        self.optimizer_combo.setToolTip(
            "How the gradient turns into a weight update.\n" + "\n".join(OPTIMIZER_TIPS.values())
        )
        self.optimizer_combo.currentIndexChanged.connect(self._update_momentum_enabled)
        add(3, 0, "&Optimizer", self.optimizer_combo, 3)

        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setDecimals(5)
        self.lr_spin.setRange(0.00001, 10.0)
        self.lr_spin.setSingleStep(0.001)
        self.lr_spin.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.lr_spin.setToolTip(
            "Learning rate: how far each step moves the weights. Too small: the loss falls\n"
            "slowly. Too large: it jumps around or explodes (NaN). SGD: try 0.01-0.1; Adam: 0.001."
        )
        add(4, 0, "&lr", self.lr_spin)

        self.momentum_spin = QDoubleSpinBox()
        self.momentum_spin.setDecimals(2)
        self.momentum_spin.setRange(0.0, 0.99)
        self.momentum_spin.setSingleStep(0.05)
        self.momentum_spin.setToolTip(
            "SGD momentum: the share of the previous step carried into the next one (0 = plain\n"
            "SGD, 0.9 = usual). It smooths the noisy batch gradients. Adam ignores it."
        )
        add(4, 2, "Mo&mentum", self.momentum_spin)

        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 8192)
        self.batch_spin.setToolTip(
            "Digits per step. Larger batches give smoother gradients and more samples per\n"
            "second, but fewer steps per epoch (often needs a larger learning rate)."
        )
        add(5, 0, "&Batch", self.batch_spin)

        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 1000)
        self.epochs_spin.setToolTip(
            "Passes over the whole training set; the test set is scored after each."
        )
        add(5, 2, "&Epochs", self.epochs_spin)

        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 999_999)
        self.seed_spin.setToolTip(
            "Random seed for the initial weights and the batch order: the same seed on the\n"
            "same device gives the same curves, so two runs differ only by what you changed."
        )
        add(6, 0, "&Seed", self.seed_spin)

        self.device_combo = QComboBox()
        present = available_devices()
        self.device_combo.addItem(f"auto ({present[0]})", "auto")
        for name in ("cpu", "cuda", "mps"):
            self.device_combo.addItem(name if name in present else f"{name} (not present)", name)
            if name not in present:
                item = self.device_combo.model().item(self.device_combo.count() - 1)
                item.setEnabled(False)
        self.device_combo.setToolTip(
            "Where the arithmetic runs. auto picks a CUDA GPU, then Apple's MPS, then the CPU.\n"
            f"Present here: {', '.join(present)}."
        )
        add(6, 2, "&Device", self.device_combo)
        for combo in (self.model_combo, self.loss_combo, self.optimizer_combo, self.device_combo):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(6)
        self.settings_box = box
        return box

    def _build_run_box(self) -> QGroupBox:
        box = QGroupBox("Run")
        self.start_button = QPushButton("Start")
        self.start_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.start_button.setToolTip("Train a new model with these settings (Ctrl+Enter).")
        self.start_button.clicked.connect(self.start)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setShortcut(QKeySequence("Ctrl+P"))
        self.pause_button.setToolTip("Pause or resume after the current batch (Ctrl+P).")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setShortcut(QKeySequence("Ctrl+."))
        self.stop_button.setToolTip(
            "End the run after the current batch (Ctrl+.). The model is scored as it is."
        )
        self.stop_button.clicked.connect(self.stop)
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
        layout.addWidget(self.progress)
        layout.addWidget(self.eta_label)
        layout.addWidget(self.message)
        return box

    def _build_model_box(self) -> QGroupBox:
        box = QGroupBox("Current model (used by the Draw tab)")
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.save_button = QPushButton("Save model…")
        self.save_button.setShortcut(QKeySequence("Ctrl+S"))
        self.save_button.setToolTip("Save the current model to a file (Ctrl+S).")
        self.save_button.clicked.connect(self._save_dialog)
        self.load_button = QPushButton("Load model…")
        self.load_button.setShortcut(QKeySequence("Ctrl+O"))
        self.load_button.setToolTip(
            "Load a Digit Lab model file and make it the current model (Ctrl+O).\n"
            "Files are read weights-only: a file that would run code is refused."
        )
        self.load_button.clicked.connect(self._load_dialog)
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
        dataset, data_dir = self.data_panel.dataset_settings()
        return TrainConfig(
            model=self.model_combo.currentData(),
            loss=self.loss_combo.currentData(),
            optimizer=self.optimizer_combo.currentData(),
            lr=float(self.lr_spin.value()),
            momentum=float(self.momentum_spin.value()),
            batch_size=int(self.batch_spin.value()),
            epochs=int(self.epochs_spin.value()),
            seed=int(self.seed_spin.value()),
            device=self.device_combo.currentData(),
            dataset=dataset,
            data_dir=data_dir,
        )

    def set_config(self, config: TrainConfig) -> None:
        """Show ``config`` in the controls (values outside the limits are clamped)."""
        for combo, value in (
            (self.model_combo, config.model),
            (self.loss_combo, config.loss),
            (self.optimizer_combo, config.optimizer),
            (self.device_combo, config.device),
        ):
            index = combo.findData(value)
            item = combo.model().item(index) if index >= 0 else None
            if item is not None and item.isEnabled():
                combo.setCurrentIndex(index)
        self.lr_spin.setValue(config.lr)
        self.momentum_spin.setValue(config.momentum)
        self.batch_spin.setValue(config.batch_size)
        self.epochs_spin.setValue(config.epochs)
        self.seed_spin.setValue(config.seed)
        self._update_momentum_enabled()

    def _restore_settings(self) -> None:
        settings = QSettings()
        default = TrainConfig()
        values = {}
        for name, kind in (
            ("model", str),
            ("loss", str),
            ("optimizer", str),
            ("device", str),
            ("lr", float),
            ("momentum", float),
            ("batch_size", int),
            ("epochs", int),
            ("seed", int),
        ):
            try:
                values[name] = settings.value(f"training/{name}", getattr(default, name), type=kind)
            except (TypeError, ValueError):
                values[name] = getattr(default, name)
        self.set_config(TrainConfig(**values))
        smoothing = settings.value("training/smoothing", 60, type=int)
        self.plots.smoothing_slider.setValue(max(0, min(99, smoothing)))

    def save_settings(self) -> None:
        settings = QSettings()
        config = self.config()
        for name in ("model", "loss", "optimizer", "device", "lr", "momentum"):
            settings.setValue(f"training/{name}", getattr(config, name))
        for name in ("batch_size", "epochs", "seed"):
            settings.setValue(f"training/{name}", getattr(config, name))
        settings.setValue("training/smoothing", self.plots.smoothing_slider.value())

    def _update_momentum_enabled(self) -> None:
        self.momentum_spin.setEnabled(self.optimizer_combo.currentData() == "sgd")

    def _open_playground(self, pair: str) -> None:
        window = self.window()
        tabs = getattr(window, "tabs", None)
        loss_tab = getattr(window, "loss_tab", None)
        if tabs is None or loss_tab is None:
            return
        tabs.setCurrentWidget(loss_tab)
        select = getattr(loss_tab, "set_pair", None)
        if callable(select):
            select(pair)

    # --------------------------------------------------------------------- runs
    @property
    def is_running(self) -> bool:
        thread = self._thread
        return thread is not None and shiboken6.isValid(thread) and thread.isRunning()

    def start(self) -> bool:
        """Start a run with the controls' settings; False (with a message) if it cannot."""
        # A run in progress refuses; a run that already ended may still be finishing its thread.
        if self.is_running and (not self._run_over or not self._thread.wait(2000)):
            return False
        self._forget_thread()
        self._run_over = False
        try:
            config = self.config().validate()
        except UserError as exc:
            self.show_message(str(exc), error=True)
            return False
        self.save_settings()
        key = (config.dataset, config.data_dir)
        data = self._data if key == self._data_key else None
        worker = TrainWorker(config, data)
        self._pending_key = key
        worker.dataReady.connect(self._on_data_ready)  # a bound slot: delivered queued
        worker.runStarted.connect(self._on_run_started)
        worker.batchesReady.connect(self._on_batches)
        worker.epochEnded.connect(self._on_epoch)
        worker.runEnded.connect(self._on_run_ended)
        self._worker = worker
        self.show_message("Loading data…" if data is None else "Starting…")
        self.progress.setRange(0, 0)
        self.progress.setFormat("preparing…")
        self.eta_label.setText(" ")
        self._set_running(True)
        self._thread = start_worker(worker, self)
        return True

    def toggle_pause(self) -> None:
        worker = self._worker
        if worker is None or not self.is_running:
            return
        if self.pause_button.text() == "Pause":
            worker.pause()
            self.pause_button.setText("Resume")
            if self.plots.current is not None and self.plots.current.status == "running":
                self._show_last_step()  # progress updates are throttled: show where the run is
            self.progress.setFormat("paused at step %v of %m")
            self.show_message("Paused: training waits after the current batch.")
        else:
            worker.resume()
            self.pause_button.setText("Pause")
            self.progress.setFormat("step %v of %m")
            self.show_message("")

    @property
    def is_paused(self) -> bool:
        return self.is_running and self.pause_button.text() == "Resume"

    def stop(self) -> None:
        """Ask the run to stop after the current batch (returns at once)."""
        if self._worker is not None and self.is_running:
            self._worker.stop()
            self.stop_button.setEnabled(False)
            self.pause_button.setEnabled(False)
            self.show_message("Stopping after the current batch…")

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

    def _set_running(self, running: bool) -> None:
        self.settings_box.setEnabled(not running)
        self.data_panel.set_controls_enabled(not running)
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.load_button.setEnabled(not running)
        self.pause_button.setText("Pause")

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet("color: #b00020;" if error else "color: #333333;")
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
        if not self.is_paused:
            self.progress.setFormat("step %v of %m")
        self.show_message(
            f"Training {MODELS[event.config.model].title} on {event.dataset}, {event.device}."
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
        if run is not None and len(run.steps):
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
        self._set_running(False)
        result = ended.result
        if result is not None:
            self.last_result = result
            run = self.plots.current
            if result.evaluation is not None:
                images = None
                if self._data is not None:
                    images = self._data.test_images.cpu().numpy()
                title = f"Run #{run.number}" if run is not None else ""
                self.evaluation.show_result(result.evaluation, images, title)
        if ended.status == "finished":
            self.progress.setValue(self.progress.maximum())
            self.progress.setFormat("done: %m steps")
            accuracy = result.evaluation.accuracy if result and result.evaluation else None
            acc_text = f" Test accuracy {accuracy:.2%}." if accuracy is not None else ""
            self.show_message(f"Finished.{acc_text} This model is now the current model.")
            if result is not None and result.checkpoint is not None:
                self.state.set_current_model(result.checkpoint)
            device = self._last_started.device if self._last_started else "the device"
            self.state.show_status(f"Training finished on {device}.{acc_text}", 0)
        elif ended.status == "stopped" and self.progress.maximum() == 0:
            # Stopped while the data was still loading: no step ran, end the busy animation.
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("stopped before the first step")
            self.show_message("Stopped.")
            self.state.show_status("Training stopped.")
        elif ended.status == "stopped":
            self._show_last_step()
            self.progress.setFormat("stopped at step %v of %m")
            self.show_message(
                "Stopped. The partly trained model was scored (see Evaluation) but did not "
                "replace the current model."
                if result is not None and result.evaluation is not None
                else "Stopped."
            )
            self.state.show_status("Training stopped.")
        else:
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("failed")
            self.show_message(f"Training failed: {ended.reason}", error=True)
            self.state.show_status("Training failed.")
        self.eta_label.setText(" ")
        self.runEnded.emit(ended)

    # ------------------------------------------------------------ model files
    def _show_current_model(self, checkpoint: Checkpoint | None) -> None:
        if checkpoint is None:
            self.model_label.setText("No model yet: train one or load a file.")
        else:
            self.model_label.setText(checkpoint.summary())
        self.save_button.setEnabled(checkpoint is not None)

    def _file_message(self, text: str, *, error: bool = False) -> None:
        self.file_message.setStyleSheet("color: #b00020;" if error else "color: #1b5e20;")
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
            checkpoint = load_checkpoint(path)
        except UserError as exc:
            self._file_message(f"Not loaded: {exc}", error=True)
            return False
        self.state.set_current_model(checkpoint)
        self._file_message(f"Loaded {Path(path).name}.")
        return True

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save model", str(Path.home() / "digit-lab-model.pt"), "Model files (*.pt)"
        )
        if path:
            self.save_model_to(path)

    def _load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load model", str(Path.home()), "Model files (*.pt);;All files (*)"
        )
        if path:
            self.load_model_from(path)

    def _export_csv_dialog(self) -> None:
        if not self.plots.runs:
            self.show_message("No runs to export yet.", error=True)
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Export curves", str(Path.home() / "digit-lab-runs.csv"), "CSV (*.csv)"
        )
        if not path:
            return
        try:
            self.plots.export_csv(path)
        except OSError as exc:
            self.show_message(f"Could not write {path}: {exc.strerror or exc}", error=True)
            return
        self.show_message(f"Curves of {len(self.plots.runs)} run(s) saved to {path}.")
