"""The Training tab's state without Qt (glue's habit): the runs, the run going now, its words.

``TrainingState`` owns the ``RunHistory`` (the plots only draw it), knows the phase of the run
going now (asked of that run's controls, the trainer's thread-safe flags, so nothing is
recorded twice), what the last run came to (``RunOutcome``: finished, stopped or failed, its
score, and what the learner answered about keeping it), and derives every sentence the tab
shows about a run from that (``run_message``). The words follow the state: a new run clears
the old outcome, a stopped run says "stopped", an answered offer stops saying "the banner
above asks". The run list is saved in the data folder and read back at start
(``core.training.run_store``).

Everything here is tested without a window (tests/gui/training/test_state.py).
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from typing import Literal, Protocol

from core.errors import UserError
from core.training.models import MODELS
from core.training.run_history import RunHistory, RunRecord
from core.training.run_store import load_runs, save_runs
from core.training.train_types import EpochEvent, RunEnded, RunStarted, TrainConfig

log = logging.getLogger(__name__)

Phase = Literal["idle", "running", "paused", "stopping"]
# What became of the model of the last run: "pending" (the banner asks), "auto-kept" (kept
# because it beats what the library holds; the banner asks about using it), then the answer.
Keeping = Literal["none", "pending", "auto-kept", "kept", "used", "discarded"]


class RunControl(Protocol):
    """What the state asks of a run going now (the GUI's ``TrainWorker``, or a fake in tests)."""

    @property
    def is_paused(self) -> bool: ...

    @property
    def is_stopping(self) -> bool: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class RunOutcome:
    """How the last run ended, and what became of its model."""

    status: str  # "finished", "stopped", "failed"
    accuracy: float | None = None
    reason: str = ""
    started: bool = True  # False: stopped or failed before the first step
    keeping: Keeping = "none"
    kept_name: str = ""


LESSON_PRESETS = ("vanishing", "dead-relus")  # runs made to show a failure, not a model
LESSON_MODELS = ("deep-sigmoid",)


def is_lesson(config: TrainConfig) -> bool:
    """A run set up to show what goes wrong (vanishing gradients, dead ReLUs)."""
    return config.preset in LESSON_PRESETS or config.model in LESSON_MODELS


def keeps_unasked(
    status: str, config: TrainConfig, accuracy: float | None, rivals: list[float | None]
) -> bool:
    """Whether a run's model enters the library without asking (issue 23: a tidy library).

    Only a finished run that is not a lesson, and whose test accuracy beats every model the
    library holds for the same data (``rivals``: their accuracies) and the model in use when it
    was trained on that data. Every other run waits for the learner's Keep or Use.
    """
    if status != "finished" or accuracy is None or is_lesson(config):
        return False
    return all(accuracy > rival for rival in rivals if rival is not None)


def mnemonic_of(text: str) -> str | None:
    """The letter after a single "&" (Qt's mnemonic), lower case; None without one."""
    i = text.replace("&&", "\0\0").find("&")
    return text[i + 1].lower() if 0 <= i < len(text) - 1 else None


def unique_mnemonic(text: str, taken: set[str]) -> str:
    """``text`` with its mnemonic moved to a letter no other visible control uses (the first
    free letter of its own words), or without one when none is free; ``taken`` gains it.

    Two controls with one Alt key make Qt cycle focus between them instead of acting: a
    promise of the keyboard table that silently breaks (issue 23)."""
    letter = mnemonic_of(text)
    if letter is None:
        return text
    plain = text.replace("&&", "\0").replace("&", "").replace("\0", "&&")
    if letter not in taken:
        taken.add(letter)
        return text
    for i, char in enumerate(plain):
        if char.isalnum() and char.lower() not in taken and plain[max(0, i - 1) : i] != "&":
            taken.add(char.lower())
            return f"{plain[:i]}&{plain[i:]}"
    return plain


def _pct(value: float) -> str:
    return f"{value:.2%}"


class TrainingState:
    """The runs of the tab (saved and restored), the run going now and its outcome."""

    def __init__(self, history: RunHistory | None = None, store: str | os.PathLike | None = None):
        self.history = history if history is not None else RunHistory()
        self.store = store  # None: the data folder's runs.json
        self.control: RunControl | None = None
        self.run_over = True  # the last run sent RunEnded (its thread may still be finishing)
        self.preparing = ""  # "Loading data…" / "Starting…" until RunStarted
        self.started: RunStarted | None = None
        self.last_epoch: EpochEvent | None = None
        self.outcome: RunOutcome | None = None
        self.store_problem = ""  # why the saved runs could not be read or written

    # ----------------------------------------------------------------- phase
    @property
    def phase(self) -> Phase:
        """ "idle", "running", "paused" or "stopping", asked of the run's controls."""
        control = self.control
        if control is None or self.run_over:
            return "idle"
        if control.is_stopping:
            return "stopping"
        return "paused" if control.is_paused else "running"

    @property
    def can_pause(self) -> bool:
        return self.phase in ("running", "paused")

    def pause_text(self) -> tuple[str, str]:
        """The pause button's text and tooltip; the Ctrl+P shortcut does not hang on them."""
        if self.phase == "paused":
            return "Resume", "Continue training (Ctrl+P)."
        return "Pause", "Pause after the current batch; Resume continues (Ctrl+P)."

    def progress_format(self) -> str | None:
        """The progress bar's text while a run goes (None: leave it as it is)."""
        phase = self.phase
        if phase == "paused":
            return "paused at step %v of %m"
        return "step %v of %m" if phase == "running" else None

    # ------------------------------------------------------------ run events
    def begin(self, control: RunControl, *, data_cached: bool) -> None:
        """A run was asked for: the old outcome (and its words) are gone from now on."""
        self.control, self.run_over = control, False
        self.outcome, self.started, self.last_epoch = None, None, None
        self.preparing = "Starting…" if data_cached else "Loading data…"

    def forget_control(self) -> None:
        self.control = None

    def run_started(self, event: RunStarted) -> RunRecord:
        self.started = event
        return self.history.start_run(event)

    def epoch_ended(self, event: EpochEvent) -> RunRecord | None:
        self.last_epoch = event
        return self.history.add_epoch(event)

    def toggle_pause(self) -> Phase:
        """Pause a running run after its batch, or resume a paused one; the new phase."""
        phase, control = self.phase, self.control
        if phase == "running":
            control.pause()
        elif phase == "paused":
            control.resume()
        return self.phase

    def stop(self) -> bool:
        """Ask the run to stop after its batch; False when there is none to stop."""
        if self.phase not in ("running", "paused"):
            return False
        self.control.stop()
        return True

    def run_ended(self, ended: RunEnded) -> RunRecord | None:
        """Record the end (exactly once per run) and what the run's model scored."""
        self.run_over = True
        run = self.history.end_run(ended) if self.started is not None else None
        result = ended.result
        accuracy = result.evaluation.accuracy if result is not None and result.evaluation else None
        self.outcome = RunOutcome(
            ended.status, accuracy, ended.reason, started=self.started is not None
        )
        return run

    def offer_made(self, kept_name: str | None) -> None:
        """The run's model was offered; ``kept_name``: the library name if kept unasked."""
        if self.outcome is not None:
            self.outcome.keeping = "auto-kept" if kept_name else "pending"
            self.outcome.kept_name = kept_name or ""

    def offer_answered(self, answer: Keeping, kept_name: str = "") -> None:
        """The learner answered the banner: "kept", "used" or "discarded"."""
        if self.outcome is not None and self.outcome.keeping in ("pending", "auto-kept"):
            self.outcome.keeping = answer
            self.outcome.kept_name = kept_name or self.outcome.kept_name

    # ----------------------------------------------------------------- words
    def run_message(self) -> tuple[str, bool]:
        """The sentence about the run, from the state alone, and whether it is an error."""
        phase = self.phase
        if phase == "paused":
            return "Paused: training waits after the current batch.", False
        if phase == "stopping":
            return "Stopping after the current batch…", False
        if phase == "running":
            return self._running_message(), False
        outcome = self.outcome
        if outcome is None:
            return "", False
        if outcome.status == "failed":
            return f"Training failed: {outcome.reason}", True
        if outcome.status == "stopped":
            if outcome.accuracy is None:
                return "Stopped.", False
            return (
                f"Stopped. The partly trained model scored {_pct(outcome.accuracy)} (see "
                f"Evaluation and the run list).{self._keeping_clause()}",
                False,
            )
        score = f" Test accuracy {_pct(outcome.accuracy)}." if outcome.accuracy is not None else ""
        return f"Finished.{score}{self._keeping_clause()}", False

    def _running_message(self) -> str:
        event, epoch = self.started, self.last_epoch
        if event is None:
            return self.preparing
        if epoch is None:
            note = f" {event.note}" if event.note else ""
            title = MODELS[event.config.model].title if event.config.model in MODELS else ""
            return (
                f"Training {title or event.config.model} on {event.dataset}, {event.device}.{note}"
            )
        loss = f"{epoch.test_loss:.4f}" if math.isfinite(epoch.test_loss) else "not a number"
        return (
            f"Epoch {epoch.epoch}/{epoch.epochs}: test accuracy {_pct(epoch.test_accuracy)}, "
            f"test loss {loss} ({epoch.seconds:.1f} s)."
        )

    def _keeping_clause(self) -> str:
        outcome = self.outcome
        name = f" as “{outcome.kept_name}”" if outcome.kept_name else ""
        return {
            "none": "",
            "pending": " The banner above asks whether to keep it in Models… and use it.",
            "auto-kept": (
                f" It beats the models kept so far, so it is kept in Models…{name}; the banner "
                "above asks whether the Draw tab should use it."
            ),
            "kept": f" Kept in Models…{name}.",
            "used": f" Kept in Models…{name} and used by the Draw tab.",
            "discarded": " Not kept (discarded).",
        }[outcome.keeping]

    def status_line(self) -> str:
        """The status bar's line when a run ends."""
        outcome = self.outcome
        if outcome is None:
            return ""
        device = self.started.device if self.started is not None else "the device"
        if outcome.status == "finished":
            score = f" Test accuracy {_pct(outcome.accuracy)}." if outcome.accuracy else ""
            return f"Training finished on {device}.{score}"
        return "Training stopped." if outcome.status == "stopped" else "Training failed."

    # ----------------------------------------------------------- persistence
    def restore_runs(self) -> int:
        """Read the saved run list into the history (at start); how many runs came back."""
        loaded = load_runs(self.store, smoothing=self.history.smoothing)
        self.store_problem = loaded.problem
        self.history.runs = loaded.runs + self.history.runs
        self.history.groups = loaded.groups + self.history.groups  # repeat groups (issue 26)
        return len(loaded.runs)

    def save_runs(self) -> bool:
        """Write the finished runs to the data folder; False (reason in ``store_problem``)."""
        done = [run for run in self.history.runs if run.status != "running"]
        try:
            save_runs(done, self.store, self.history.groups)
        except (OSError, UserError) as exc:
            self.store_problem = f"the run list could not be saved: {exc}"
            log.warning(self.store_problem)
            return False
        self.store_problem = ""
        return True

    def clear_finished(self) -> list[RunRecord]:
        """Forget the finished runs (``save_runs`` then forgets them on disk); the gone ones."""
        return self.history.clear_finished()
