"""The Training tab's state without Qt: phase, words that follow state, keeping, persistence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from core.training.run_history import BatchBlock
from core.training.train_types import (
    BatchEvent,
    EpochEvent,
    EvalResult,
    RunEnded,
    RunResult,
    RunStarted,
    TrainConfig,
)
from gui.training.state import TrainingState, is_lesson, keeps_unasked

ROOT = Path(__file__).resolve().parents[3]


class FakeControl:
    """The trainer's flags, as the worker forwards them."""

    def __init__(self) -> None:
        self.is_paused = False
        self.is_stopping = False

    def pause(self) -> None:
        self.is_paused = True

    def resume(self) -> None:
        self.is_paused = False

    def stop(self) -> None:
        self.is_stopping = True
        self.is_paused = False


CONFIG = TrainConfig(epochs=2, dataset="sample")
STARTED = RunStarted(CONFIG, "cpu", "bundled sample", 640, 100, 10, 20)


def _ended(status: str, accuracy: float | None = 0.9) -> RunEnded:
    evaluation = EvalResult(accuracy, 0.3, 100, [], []) if accuracy is not None else None
    result = RunResult(CONFIG, "cpu", "bundled sample", 640, 100, 1, 1.0, 1.0, evaluation)
    return RunEnded(status, "boom" if status == "failed" else "", result)


def _run(state: TrainingState, status: str = "finished", accuracy: float | None = 0.9):
    state.begin(FakeControl(), data_cached=False)
    state.run_started(STARTED)
    block = BatchBlock()
    block.add(BatchEvent(1, 1, 20, 2.0, 100.0, 0.1))
    state.history.add_batches(block)
    state.epoch_ended(EpochEvent(1, 2, 1.0, 0.9, 0.8, 1.0))
    return state.run_ended(_ended(status, accuracy))


def test_the_state_needs_no_qt():
    code = (
        "import sys, gui.training.state; "
        "sys.exit(any(m.split('.')[0] in ('PySide6', 'pyqtgraph') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode == 0


def test_phase_follows_the_controls_and_pause_resume_pause_keeps_working(tmp_path):
    state = TrainingState(store=tmp_path / "runs.json")
    assert state.phase == "idle" and not state.can_pause
    control = FakeControl()
    state.begin(control, data_cached=True)
    assert state.phase == "running" and state.run_message() == ("Starting…", False)
    for _ in range(3):  # pause, resume, pause again: the same path every time
        assert state.toggle_pause() == "paused" and state.pause_text()[0] == "Resume"
        assert state.run_message()[0].startswith("Paused")
        assert state.toggle_pause() == "running" and state.pause_text()[0] == "Pause"
    assert state.stop() and state.phase == "stopping"
    assert state.run_message()[0].startswith("Stopping")


def test_words_follow_the_run(tmp_path):
    state = TrainingState(store=tmp_path / "runs.json")
    state.begin(FakeControl(), data_cached=False)
    assert state.run_message()[0] == "Loading data…"
    state.run_started(STARTED)
    assert (
        state.run_message()[0].startswith("Training ")
        and "bundled sample, cpu" in (state.run_message()[0])
    )
    state.epoch_ended(EpochEvent(1, 2, 1.0, float("nan"), 0.8, 1.0))
    assert "Epoch 1/2" in state.run_message()[0] and "not a number" in state.run_message()[0]
    state.run_ended(_ended("stopped", 0.42))
    text, error = state.run_message()
    assert text.startswith("Stopped.") and "42.00%" in text and "finished" not in text.lower()
    assert not error and state.status_line() == "Training stopped."


def test_an_answered_offer_stops_asking_and_a_new_run_forgets_the_old_words(tmp_path):
    state = TrainingState(store=tmp_path / "runs.json")
    _run(state)
    state.offer_made(None)
    assert "banner above asks" in state.run_message()[0]
    state.offer_answered("kept", "MLP · sample · 90.0 %")
    text = state.run_message()[0]
    assert "banner" not in text and "Kept in Models" in text and "90.0 %" in text
    state.begin(FakeControl(), data_cached=True)
    assert state.outcome is None and "Kept" not in state.run_message()[0]
    state.run_ended(_ended("failed", None))
    assert state.run_message() == ("Training failed: boom", True)


def test_auto_kept_then_discarded(tmp_path):
    state = TrainingState(store=tmp_path / "runs.json")
    _run(state)
    state.offer_made("MLP · sample")
    assert "beats the models kept so far" in state.run_message()[0]
    state.offer_answered("discarded")
    assert state.run_message()[0].endswith("Not kept (discarded).")


def test_only_finished_non_lesson_runs_that_beat_the_library_are_kept_unasked():
    good = TrainConfig()
    assert keeps_unasked("finished", good, 0.95, [])
    assert keeps_unasked("finished", good, 0.95, [0.9, None])
    assert not keeps_unasked("finished", good, 0.95, [0.96])
    assert not keeps_unasked("finished", good, 0.95, [0.95])  # a tie is not better
    assert not keeps_unasked("stopped", good, 0.99, [])
    assert not keeps_unasked("finished", good, None, [])
    lesson = TrainConfig(model="deep-sigmoid", preset="vanishing")
    assert is_lesson(lesson) and not keeps_unasked("finished", lesson, 0.99, [])
    assert is_lesson(TrainConfig(preset="dead-relus")) and not is_lesson(good)


def test_runs_are_saved_and_restored_and_cleared(tmp_path):
    store = tmp_path / "runs.json"
    state = TrainingState(store=store)
    _run(state)
    _run(state, "stopped", 0.5)
    assert state.save_runs() and store.is_file()
    again = TrainingState(store=store)
    assert again.restore_runs() == 2 and again.store_problem == ""
    assert [r.status_text for r in again.history.runs] == ["finished", "stopped, scored"]
    _run(again)
    assert again.history.current.number == 3  # numbering (and colours) go on
    assert len(again.clear_finished()) == 3 and again.save_runs()
    assert TrainingState(store=store).restore_runs() == 0


def test_an_unwritable_store_is_said_not_raised(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    state = TrainingState(store=blocker / "runs.json")
    _run(state)
    assert not state.save_runs() and "could not be saved" in state.store_problem


def test_a_clashing_mnemonic_moves_to_a_free_letter_of_its_own_words():
    from gui.training.state import mnemonic_of, unique_mnemonic

    taken = {"m"}
    assert unique_mnemonic("&Model", taken) == "M&odel" and taken == {"m", "o"}
    assert unique_mnemonic("&Seed", taken) == "&Seed"  # free: kept where the table put it
    assert unique_mnemonic("&lr", {"l", "r"}) == "lr"  # no free letter: none, not a clash
    assert unique_mnemonic("Plain", set()) == "Plain"
    assert mnemonic_of("Fish && &Chips") == "c" and mnemonic_of("Fish && Chips") is None
