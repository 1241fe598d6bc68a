"""The run list on disk: what comes back, the size cap, and damage that never crashes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from core.training import run_store
from core.training.run_history import BatchBlock, RunHistory
from core.training.run_store import MAX_POINTS, MAX_RUNS, load_runs, runs_file, save_runs
from core.training.train_types import (
    BatchEvent,
    EpochEvent,
    EvalResult,
    LrChanged,
    Misclassified,
    RunEnded,
    RunResult,
    RunStarted,
    TrainConfig,
)


def _run(history: RunHistory, steps: int = 30, lr: float = 0.05, nan_at: int | None = None):
    config = TrainConfig(epochs=1, lr=lr, dataset="sample", batch_size=32)
    history.start_run(RunStarted(config, "cpu", "bundled sample", 640, 100, steps, steps))
    block = BatchBlock()
    for step in range(1, steps + 1):
        loss = math.nan if step == nan_at else 2.3 / step
        block.add(BatchEvent(1, step, steps, loss, 1000.0 + step, 0.01 * step))
    history.add_batches(block)
    history.add_epoch(EpochEvent(1, 1, 0.3, 0.25, 0.91, 1.5))
    evaluation = EvalResult(
        0.91, 0.25, 100, [[0] * 10] * 10, [0.9] * 10, [Misclassified(3, 1, 7, 0.8)]
    )
    result = RunResult(config, "cpu", "bundled sample", 640, 100, 1, 1.5, 400.0, evaluation)
    history.end_run(RunEnded("finished", result=result))
    return history.current


def test_runs_come_back_with_settings_curves_and_results(tmp_path):
    history = RunHistory()
    first = _run(history, nan_at=5)
    second = _run(history, lr=0.01)
    second.lr_changes.append(LrChanged(12, 0.005, 0.01))
    path = save_runs(history.runs, tmp_path / "runs.json")
    loaded = load_runs(path)
    assert loaded.problem == ""
    back = loaded.runs
    assert [r.number for r in back] == [1, 2] and back[1].config.lr == 0.01
    assert back[0].status == "finished" and back[0].accuracy == 0.91
    assert back[0].evaluation.misclassified[0].predicted == 7
    assert back[0].epochs[0].test_accuracy == 0.91
    np.testing.assert_allclose(back[1].losses.view, second.losses.view, rtol=1e-6)  # float32
    assert back[1].lr_changes == [LrChanged(12, 0.005, 0.01)] and back[0].lr_changes == []
    assert math.isnan(back[0].losses.view[4]) and back[0].nonfinite_losses == 1
    np.testing.assert_allclose(back[0].smoothed.view, first.smoothed.view, rtol=1e-6)
    np.testing.assert_allclose(back[1].speed_smoothed.view, second.speed_smoothed.view, rtol=1e-6)
    again = load_runs(path, smoothing=0.9).runs[0]  # another smoothing: smoothed again
    assert again.smoothed.view[1] != pytest.approx(back[0].smoothed.view[1])


def test_the_file_is_capped_in_runs_and_points(tmp_path):
    history = RunHistory()
    for _ in range(MAX_RUNS + 3):
        _run(history, steps=10)
    _run(history, steps=MAX_POINTS * 3)
    back = load_runs(save_runs(history.runs, tmp_path / "runs.json")).runs
    assert len(back) == MAX_RUNS and back[-1].number == MAX_RUNS + 4  # the newest kept
    long = back[-1]
    assert len(long.steps) <= MAX_POINTS and long.steps.view[-1] == MAX_POINTS * 3


def test_damage_never_raises_and_says_why(tmp_path):
    path = tmp_path / "runs.json"
    assert load_runs(path).runs == [] and load_runs(path).problem == ""  # none saved yet
    path.write_text("{not json")
    assert load_runs(path).runs == [] and "could not be read" in load_runs(path).problem
    history = RunHistory()
    _run(history)
    _run(history)
    save_runs(history.runs, path)
    raw = json.loads(path.read_text())
    del raw["runs"][0]["curves"]
    raw["runs"][1]["curves"]["losses"] = raw["runs"][1]["curves"]["losses"][:-1]
    raw["runs"].append("junk")
    path.write_text(json.dumps(raw))
    loaded = load_runs(path)
    assert loaded.runs == [] and "3 saved run(s)" in loaded.problem


def test_the_list_lives_in_the_data_folder(isolated_user_dirs):
    history = RunHistory()
    _run(history)
    assert save_runs(history.runs) == runs_file()
    assert runs_file().is_relative_to(isolated_user_dirs)
    assert len(run_store.load_runs().runs) == 1


def _group(label: str, accuracies: list[float], steps: int = 20):
    from core.training.repeats import RepeatResult, SeedRun

    runs = [
        SeedRun(
            seed=i + 1,
            steps=list(range(1, steps + 1)),
            losses=[2.0 / (s + i) for s in range(1, steps + 1)],
            epoch_accuracy=[a - 0.05, a],
            final_accuracy=a,
            status="finished",
        )
        for i, a in enumerate(accuracies)
    ]
    return RepeatResult(label, TrainConfig(epochs=2, lr=0.05, dataset="sample"), runs)


def test_repeat_groups_come_back_with_their_bands_and_mean_sd(tmp_path):
    history = RunHistory()
    _run(history)
    first = history.add_group(_group("lr 0.01", [0.90, 0.91, 0.92]))
    second = history.add_group(_group("lr 0.05", [0.93, 0.94, 0.95], steps=MAX_POINTS * 2))
    third = history.add_group(_group("lr 0.1", [0.5, 0.6]))
    assert [g.number for g in history.groups] == [1, 2, 3]
    assert not first.visible and second.visible and third.visible  # the newest two overlay
    path = save_runs(history.runs, tmp_path / "runs.json", history.groups)
    loaded = load_runs(path)
    assert loaded.problem == "" and len(loaded.runs) == 1
    back = loaded.groups
    assert [(g.number, g.label, g.visible) for g in back] == [
        (1, "lr 0.01", False),
        (2, "lr 0.05", True),
        (3, "lr 0.1", True),
    ]
    assert back[0].accuracy_text() == first.accuracy_text() == "91.00% \u00b1 1.00%"
    assert back[0].seeds_text == "seeds 1\u20133" and back[0].config.lr == 0.05
    band, again = first.loss_band(), back[0].loss_band()
    np.testing.assert_allclose(again.mean, band.mean, rtol=1e-6)
    np.testing.assert_allclose(again.low, band.low, rtol=1e-6)
    assert len(back[1].runs[0].steps) <= MAX_POINTS  # thinned like a run's curves
    assert back[1].runs[0].steps[-1] == MAX_POINTS * 2
    assert back[0].runs[2].epoch_accuracy == pytest.approx([0.87, 0.92])


def test_a_damaged_repeat_group_is_left_out_and_said(tmp_path):
    history = RunHistory()
    history.add_group(_group("fine", [0.9, 0.92]))
    history.add_group(_group("to break", [0.9, 0.92]))
    path = save_runs([], tmp_path / "runs.json", history.groups)
    payload = json.loads(path.read_text())
    payload["groups"][1]["runs"][0]["losses"] = "not base64!"
    path.write_text(json.dumps(payload))
    loaded = load_runs(path)
    assert [g.label for g in loaded.groups] == ["fine"]
    assert "1 saved run(s) were damaged" in loaded.problem
    assert not history.clear_finished() and history.groups == []  # Clear forgets groups too
