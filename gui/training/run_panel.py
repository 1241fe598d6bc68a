"""The Training tab's "Run" box (Start, Pause, Stop, progress, the run's sentence) and its
"Current model" box (save and load a model file).

Both are views: the run box draws a ``TrainingState`` (``render``), and the model box shows the
``AppState``'s current model. Pause is reached by Ctrl+P through a ``QShortcut`` owned by the
tab, not by the button's text: "Pause" becoming "Resume" must not take the key away.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import UserError
from core.storage.checkpoint import Checkpoint, save_checkpoint
from core.training.run_history import BatchBlock, RunRecord
from gui import theme
from gui.app_state import AppState
from gui.file_dialogs import ask_open_path, ask_save_path
from gui.training.state import TrainingState

PROGRESS_INTERVAL_S = 0.5


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def make_button(text: str, shortcut: str | None, slot: Callable[[], object]) -> QPushButton:
    button = QPushButton(text)
    if shortcut:
        button.setShortcut(QKeySequence(shortcut))
    button.clicked.connect(slot)
    return button


class RunPanel(QGroupBox):
    """Start / Pause / Stop, the progress bar, the time left and the run's sentence."""

    def __init__(
        self,
        state: TrainingState,
        start: Callable[[], object],
        toggle_pause: Callable[[], object],
        stop: Callable[[], object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Run", parent)
        self.state = state
        self._last_progress = 0.0
        self.start_button = make_button("Start", "Ctrl+Return", start)
        self.start_button.setToolTip("Train a new model with these settings (Ctrl+Enter).")
        self.pause_button = make_button("Pause", None, toggle_pause)
        self.stop_button = make_button("Stop", "Ctrl+.", stop)
        self.stop_button.setToolTip(
            "End the run after the current batch (Ctrl+.). The model is scored as it is and\n"
            "listed with the runs; the banner then asks whether to keep it."
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
        self.eta_label.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        for widget in (self.progress, self.eta_label, self.message):
            layout.addWidget(widget)

    def render(self) -> None:
        """Buttons and progress text drawn from the state's phase (the only run state)."""
        phase = self.state.phase
        self.start_button.setEnabled(phase == "idle")
        self.pause_button.setEnabled(self.state.can_pause)
        self.stop_button.setEnabled(self.state.can_pause)
        text, tip = self.state.pause_text()
        self.pause_button.setText(text)  # no mnemonic: Ctrl+P is the tab's QShortcut
        self.pause_button.setToolTip(tip)
        form = self.state.progress_format()
        if form is not None and self.progress.maximum() > 0:
            self.progress.setFormat(form)

    def show_run_message(self) -> None:
        """The state's sentence about the run (replacing any passing message)."""
        text, error = self.state.run_message()
        self.show_message(text, error=error)

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet(theme.text_style(theme.ERROR if error else theme.INK))
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # --------------------------------------------------------------- progress
    def preparing(self) -> None:
        self.progress.setRange(0, 0)
        self.progress.setFormat("preparing…")
        self.eta_label.setText(" ")

    def started(self, total_steps: int) -> None:
        self.progress.setRange(0, max(1, total_steps))
        self.progress.setValue(0)

    def batches(self, block: BatchBlock) -> None:
        """Progress and time left, at most twice a second (a repaint holds the GIL)."""
        last = block.last
        if last is None:
            return
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_INTERVAL_S and self.state.phase != "paused":
            return
        self._last_progress = now
        self.progress.setValue(last.step)
        left = last.seconds / max(1, last.step) * (last.total_steps - last.step)
        self.eta_label.setText(
            f"Epoch {last.epoch}: {last.samples_per_second:,.0f} samples/s, "
            f"about {format_seconds(left)} left"
        )

    def show_last_step(self, run: RunRecord | None) -> None:
        """Progress to the newest step the curves hold (live progress updates are throttled)."""
        if run is not None and len(run.steps):
            self.progress.setValue(int(run.steps.view[-1]))

    def ended(self, status: str, run: RunRecord | None) -> None:
        """The bar's final words: done, stopped at a step, or failed."""
        if status == "finished":
            self.progress.setValue(self.progress.maximum())
            self.progress.setFormat("done: %m steps")
        elif status == "stopped" and self.progress.maximum() > 0:
            self.show_last_step(run)
            self.progress.setFormat("stopped at step %v of %m")
        else:
            text = "failed" if status == "failed" else "stopped before the first step"
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat(text)
        self.eta_label.setText(" ")


class ModelBox(QGroupBox):
    """The model the Draw tab uses, with Save and Load (weights-only files)."""

    def __init__(self, app_state: AppState, parent: QWidget | None = None) -> None:
        super().__init__("Current model (used by the Draw tab)", parent)
        self.app_state = app_state
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.save_button = make_button("Save model…", "Ctrl+S", self.save_dialog)
        self.save_button.setToolTip(
            'Save the current model to a file (Ctrl+S); ".pt" is added when missing.'
        )
        self.load_button = make_button("Load model…", "Ctrl+O", self.load_dialog)
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
        layout = QVBoxLayout(self)
        layout.addWidget(self.model_label)
        layout.addLayout(buttons)
        layout.addWidget(self.file_message)
        app_state.modelChanged.connect(self.show_model)
        self.show_model(app_state.current_model)

    def show_model(self, checkpoint: Checkpoint | None) -> None:
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
        checkpoint = self.app_state.current_model
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
            self.app_state.load_model_file(path)
        except UserError as exc:
            self._file_message(f"Not loaded: {exc}", error=True)
            return False
        self._file_message(f"Loaded {Path(path).name}.")
        return True

    def save_dialog(self) -> None:
        path = ask_save_path(
            self, "model", "Save model", "digit-lab-model.pt", ".pt", "Model files (*.pt)"
        )
        if path is not None:
            self.save_model_to(path)

    def load_dialog(self) -> None:
        path = ask_open_path(self, "model", "Load model", "Model files (*.pt);;All files (*)")
        if path is not None:
            self.load_model_from(path)
