"""The Training tab: settings on the left, live curves and the evaluation on the right.

A thin view over ``gui.training.state.TrainingState`` (the runs, the run going now, what its
model became, every sentence about it): the tab wires its panels (``SettingsPanel``,
``RunPanel``, ``ModelBox``, ``TrainingPlots``, ``EvaluationView``, ``DataPanel``) to a
``TrainWorker`` running the core trainer in a QThread, and does no training work itself.
Whether a run is going, paused or stopping is asked of the worker's trainer through the state,
and the panels draw it. The run list is saved in the data folder and restored at start.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings, Qt, QThread, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QHBoxLayout, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from core.errors import UserError
from core.training.run_history import DEFAULT_SMOOTHING, BatchBlock, RunRecord
from core.training.train_settings import coerce, restore_config, stored_values
from core.training.train_types import EpochEvent, LrChanged, RunEnded, RunStarted, TrainConfig
from gui.app_state import AppState, Kept
from gui.draw.state import OfferedModel
from gui.training.data_panel import DataPanel
from gui.training.evaluation_view import EvaluationView
from gui.training.exports import TabExports
from gui.training.run_panel import ModelBox, RunPanel
from gui.training.settings_panel import SettingsPanel, control_name, make_mnemonics_unique
from gui.training.state import TrainingState, keeps_unasked
from gui.training.train_worker import TrainWorker
from gui.training.training_plots import TrainingPlots
from gui.training.why_pages import WhyPages
from gui.workers import SHUTDOWN_WAIT_MS, is_running, start_worker, wait_for

LEFT_WIDTH = 380
SMOOTHING_KEY = "training/smoothing"
LOSS_SCALE_KEY = "training/loss_scale"
FINISHING_WAIT_MS = 2_000  # Start after a run: its thread is only sending its last signals


class TrainingTab(QWidget):
    """Controls, Start/Pause/Stop, progress, live curves, evaluation, save and load."""

    runStarted = Signal(object)  # RunStarted, after the views took it
    runEnded = Signal(object)  # RunEnded, after the views took it
    insideEvent = Signal(object)  # the worker's gradient-flow reports, for the inspector
    openPlaygroundPair = Signal(str)  # a LossPair name the learner wants to see in the playground
    # a test digit (28x28 uint8), its true label, and the model whose mistake it is
    # (gui.draw.state.OfferedModel: the run shown in Evaluation; None when unknown)
    tryInDraw = Signal(object, object, object)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.run_state = TrainingState()
        self._thread: QThread | None = None
        self._worker: TrainWorker | None = None
        self._data = None  # the MnistData of the last run, reused when the dataset is unchanged
        self._data_key: tuple[str, str | None] | None = None
        self._pending_key: tuple[str, str | None] | None = None
        self._offer = None  # the AppState RunOffer of the last run, while the banner asks
        self._evaluated: OfferedModel | None = None  # the model whose result Evaluation shows

        self._build_views()
        self._build_layout()
        left = (self.run_panel, self.data_panel, self.settings_box, self.model_box)
        promised = (self.plots.run_list.script_button, self.reset_button)  # README: Alt+S, Alt+T
        make_mnemonics_unique(list(left), self.views, promised)  # one meaning per Alt+letter
        self.pause_shortcut = QShortcut(QKeySequence("Ctrl+P"), self)
        self.pause_shortcut.activated.connect(self.toggle_pause)
        self._restore_settings()
        self._restore_runs()
        self.state.offerAnswered.connect(self._on_offer_answered)
        self._render_controls()
        app = QCoreApplication.instance()
        if app is not None:  # quitting without closing the window must also stop the thread
            app.aboutToQuit.connect(self.shutdown)

    # ----------------------------------------------------------------- building
    def _build_views(self) -> None:
        self.plots = TrainingPlots(self.run_state.history)
        state = self.run_state
        self.exports = TabExports(
            self,
            state.history,
            self.config,
            self.show_message,
            lambda: state.save_runs() or state.store_problem,  # runs on the saving thread
        )
        self.plots.exportRequested.connect(self.exports.csv_dialog)
        self.plots.scriptRequested.connect(self.exports.script_dialog)
        self.plots.clearRequested.connect(self.clear_finished_runs)
        self.evaluation = EvaluationView()
        self.evaluation.tryInDraw.connect(self._try_in_draw)
        self.views = QTabWidget()
        self.views.addTab(self.plots, "Li&ve curves")
        self.views.addTab(self.evaluation, "Evaluatio&n")
        self.views.setTabToolTip(1, "Confusion matrix, per-digit accuracy and misclassified digits")
        self.why = WhyPages(self)  # issue 26: lr finder, landscape, repeats, live lr control
        self.lr_finder, self.landscape = self.why.lr_finder, self.why.landscape
        self.repeats, self.lr_control = self.why.repeats, self.why.lr_control
        self.lr_control.lrRequested.connect(self.set_lr)
        self.data_panel = DataPanel()
        self.data_panel.datasetChanged.connect(self._on_dataset_changed)
        self.settings_box = SettingsPanel()
        self.settings_box.openPlaygroundPair.connect(self.openPlaygroundPair)
        self.settings_box.resetRequested.connect(self.reset_settings)
        self.settings_box.presetChosen.connect(self.show_message)
        self.settings_box.findLrRequested.connect(self.why.find_learning_rate)
        self.controls = self.settings_box.controls
        for name, widget in self.controls.items():  # tab.epochs_spin, tab.model_combo, ...
            setattr(self, control_name(_setting(name)), widget)
        self.reset_button = self.settings_box.reset_button
        self.loss_link = self.settings_box.loss_link
        self.augment_strip = self.settings_box.augment_strip
        self.run_panel = RunPanel(self.run_state, self.start, self.toggle_pause, self.stop)
        self.run_panel.layout().insertWidget(1, self.lr_control)  # under Start/Pause/Stop
        for name in ("start_button", "pause_button", "stop_button", "progress", "eta_label"):
            setattr(self, name, getattr(self.run_panel, name))
        self.message = self.run_panel.message
        self.model_box = ModelBox(self.state)
        for name in ("model_label", "save_button", "load_button", "file_message"):
            setattr(self, name, getattr(self.model_box, name))
        self.save_model_to = self.model_box.save_model_to
        self.load_model_from = self.model_box.load_model_from
        self._save_dialog = self.model_box.save_dialog
        self._load_dialog = self.model_box.load_dialog

    def _build_layout(self) -> None:
        """Left: the Run box on top and the model box at the bottom, always in view (Start,
        the progress and Save/Load stay inside the window at 1024x700 with the banner up,
        issue 22); between them the data and settings, which scroll when the window is short.
        Right: the curves and the evaluation."""
        settings = QWidget()
        settings_layout = QVBoxLayout(settings)
        settings_layout.setContentsMargins(0, 0, 4, 0)
        settings_layout.addWidget(self.data_panel)
        settings_layout.addWidget(self.settings_box)
        settings_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(settings)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.controls_scroll = scroll
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.run_panel)
        left_layout.addWidget(scroll, 1)
        left_layout.addWidget(self.model_box)
        # As wide as the widest box needs, plus the scroll bar short windows show: never cut.
        bar = scroll.verticalScrollBar().sizeHint().width()
        left.setFixedWidth(max(LEFT_WIDTH, settings.minimumSizeHint().width()) + bar + 4)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(left)
        layout.addWidget(self.views, 1)

    # ----------------------------------------------------------------- settings
    def config(self) -> TrainConfig:
        """The ``TrainConfig`` the controls describe (dataset from the data panel)."""
        dataset, data_dir = self.data_panel.dataset_settings()
        return self.settings_box.config(dataset, data_dir)

    def set_config(self, config: TrainConfig) -> None:
        """Show ``config`` in the controls (values outside the limits are clamped)."""
        self.settings_box.set_config(config)

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

    # --------------------------------------------------------------------- runs
    def _restore_runs(self) -> None:
        """Last session's run list, drawn as it was (issue 23: runs persist)."""
        if self.run_state.restore_runs():
            self.plots.show_history()
        if self.run_state.store_problem:
            self.show_message(f"Earlier runs: {self.run_state.store_problem}.", error=True)

    def clear_finished_runs(self) -> None:
        """Forget the finished runs, on screen and in the saved list."""
        self.plots.forget_runs(self.run_state.clear_finished())
        self.exports.save_runs_later()

    @property
    def is_running(self) -> bool:
        return is_running(self._thread)

    @property
    def phase(self) -> str:
        """ "idle", "running", "paused" or "stopping", asked of the run's trainer."""
        return self.run_state.phase

    @property
    def is_paused(self) -> bool:
        return self.phase == "paused"

    def start(self) -> bool:
        """Start a run with the controls' settings; False (with a message) if it cannot."""
        # A run in progress refuses; a run that already ended may still be finishing its thread.
        if self.is_running and (
            not self.run_state.run_over or not wait_for(self._thread, FINISHING_WAIT_MS)
        ):
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
        worker = TrainWorker(config, data, keep=self._keep_if_it_beats)
        self._pending_key = key
        worker.dataReady.connect(self._on_data_ready)  # a bound slot: delivered queued
        worker.runStarted.connect(self._on_run_started)
        worker.batchesReady.connect(self._on_batches)
        worker.epochEnded.connect(self._on_epoch)
        worker.lrChanged.connect(self._on_lr_changed)
        worker.runEnded.connect(self._on_run_ended)
        worker.calibrationReady.connect(self.evaluation.show_calibration)
        worker.insideEvent.connect(self.insideEvent)
        self._worker = worker
        self.run_state.begin(worker, data_cached=data is not None)
        self.lr_control.set_running(True, config.lr)  # a new run starts from its own rate
        self._withdraw_offer()  # a new run: the last run's banner and words are gone
        self.run_panel.preparing()
        self._render_controls()
        self.run_panel.show_run_message()
        self._thread = start_worker(worker, self, name="training-thread")
        return True

    def toggle_pause(self) -> None:
        """Pause a running run after its current batch, or resume a paused one (Ctrl+P)."""
        if self.run_state.toggle_pause() == "paused":
            self.run_panel.show_last_step(self.plots.current)  # progress updates are throttled
        self._render_controls()
        self.run_panel.show_run_message()

    def stop(self) -> None:
        """Ask the run to stop after the current batch (returns at once)."""
        if self.run_state.stop():
            self._render_controls()
            self.run_panel.show_run_message()

    def shutdown(self) -> None:
        """Stop any run and wait for its thread: the window may close only after this."""
        self.data_panel.shutdown()
        self.why.shutdown()
        self.exports.wait()
        thread = self._thread
        if self._worker is not None and self.is_running:
            self._worker.stop()
        if not wait_for(thread, SHUTDOWN_WAIT_MS):  # a batch is seconds at most: it is stuck
            self.show_message("The training thread did not stop in time.", error=True)
        self._forget_thread()
        self.save_settings()

    def _forget_thread(self) -> None:
        self._thread = None
        self._worker = None
        self.run_state.forget_control()

    def _render_controls(self) -> None:
        """Buttons, settings and progress text drawn from the state's phase."""
        idle = self.run_state.phase == "idle"
        self.settings_box.setEnabled(idle)
        self.data_panel.set_controls_enabled(idle)
        self.load_button.setEnabled(idle)
        self.lr_control.set_running(self.run_state.can_pause)  # the rate it shows stays
        self.run_panel.render()

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.run_panel.show_message(text, error=error)

    # -------------------------------------------------------- worker signals
    def _on_data_ready(self, data) -> None:  # noqa: ANN001
        self._data, self._data_key = data, self._pending_key
        self.data_panel.set_loaded(data.description)

    def _on_dataset_changed(self) -> None:
        self._data, self._data_key = None, None

    def _on_run_started(self, event: RunStarted) -> None:
        self.plots.show_run(self.run_state.run_started(event))
        self.run_panel.started(event.total_steps)
        self._render_controls()
        self.run_panel.show_run_message()
        self.state.show_status(f"Training on {event.device} — {event.dataset}", 0)
        self.runStarted.emit(event)

    def _on_batches(self, block: BatchBlock) -> None:
        self.plots.batches_added(self.run_state.history.add_batches(block))
        self.run_panel.batches(block)

    def _on_epoch(self, event: EpochEvent) -> None:
        self.plots.run_changed(self.run_state.epoch_ended(event))
        self.run_panel.show_run_message()

    def set_lr(self, lr: float) -> bool:
        """Change the running run's learning rate from its next step (False: no run)."""
        if self._worker is None or not self.run_state.can_pause:
            return False
        self._worker.set_lr(lr)
        return True

    def _on_lr_changed(self, event: LrChanged) -> None:
        """The new rate took effect: kept with the run, marked on its curves."""
        self.plots.mark_lr_change(self.run_state.history.add_lr_change(event), event)
        self.lr_control.changed(event.lr, event.step)

    def _on_run_ended(self, ended: RunEnded) -> None:
        run = self.run_state.run_ended(ended)
        self.plots.run_changed(run)
        self._render_controls()
        self._show_evaluation(ended, run)
        self.run_panel.ended(ended.status, run)
        self._offer_model(ended)
        self.exports.save_runs_later()
        self.run_panel.show_run_message()
        self.state.show_status(
            self.run_state.status_line(), 0 if ended.status == "finished" else 5000
        )
        self.runEnded.emit(ended)

    def _show_evaluation(self, ended: RunEnded, run: RunRecord | None) -> None:
        """The scored model of a finished or stopped run, in the Evaluation view."""
        result = ended.result
        if result is None or result.evaluation is None:
            return
        images = self._data.test_images.cpu().numpy() if self._data is not None else None
        title = f"Run #{run.number}" if run is not None else ""
        self._evaluated = (
            OfferedModel(result.checkpoint, title or "the evaluated run")
            if result.checkpoint is not None
            else None
        )
        if ended.status == "stopped":
            title += " (stopped early)"
        self.evaluation.show_result(result.evaluation, images, title, result.config.dataset)
        self.landscape.set_run(result, title, self._data)

    # ----------------------------------------------------------- the library
    def _keep_if_it_beats(self, checkpoint, ended: RunEnded) -> Kept:  # noqa: ANN001
        """Called on the worker thread: keep the model unasked only when it beats what is
        there (``keeps_unasked``); any other run waits for the banner's Keep or Use."""
        dataset = checkpoint.dataset or "unknown data"
        rivals = [e.test_accuracy for e in self.state.library.entries() if e.dataset == dataset]
        in_use = self.state.current_model
        if in_use is not None and (in_use.dataset or "unknown data") == dataset:
            rivals.append(in_use.test_accuracy)
        config = ended.result.config if ended.result is not None else TrainConfig()
        if keeps_unasked(ended.status, config, checkpoint.test_accuracy, rivals):
            return self.state.keep(checkpoint)
        return Kept(None, None)

    def _offer_model(self, ended: RunEnded) -> None:
        result = ended.result
        scored = result is not None and result.evaluation is not None
        if not scored or result.checkpoint is None or ended.status == "failed":
            return
        kept = self._worker.kept if self._worker is not None else None
        kept = kept if kept is not None else Kept(None, None)
        self._offer = self.state.offer_run(result.checkpoint, kept, status=ended.status)
        self.run_state.offer_made(kept.entry.name if kept.entry is not None else None)

    def _withdraw_offer(self) -> None:
        if self._offer is not None:
            self.state.withdraw_offer(self._offer)
        self._offer = None

    def _on_offer_answered(self, offer, answer: str) -> None:  # noqa: ANN001 - a RunOffer
        """The banner was answered: the run's sentence stops asking and says the answer."""
        if offer is not self._offer:
            return
        self._offer = None
        name = offer.entry.name if offer.entry is not None else ""
        self.run_state.offer_answered(answer, name)
        if self.run_state.phase == "idle":
            self.run_panel.show_run_message()

    def _try_in_draw(self, image: object, label: object) -> None:
        """A mistake goes to the Draw tab with the model that made it (issue 23, item 5)."""
        self.tryInDraw.emit(image, label, self._evaluated)

    # ----------------------------------------------------------------- exports
    def export_script_to(self, path: str | Path, run: RunRecord | None = None) -> bool:
        """Write ``run`` (or the current settings) as a standalone script; say so in place."""
        return self.exports.export_script_to(path, run)


def _setting(name: str):  # noqa: ANN202 - a train_settings.Setting
    from core.training.train_settings import SETTINGS

    return SETTINGS[name]
