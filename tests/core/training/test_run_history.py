"""The Training tab's run model without Qt: buffers, smoothing, records, ranges and CSV."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest

from core.training.run_history import (
    CSV_COLUMNS,
    BatchBlock,
    Ema,
    GrowingArray,
    RunHistory,
    decade_range,
    finite_positive_range,
    wants_log_scale,
)
from core.training.train_types import (
    BatchEvent,
    EpochEvent,
    EvalResult,
    RunEnded,
    RunResult,
    RunStarted,
    TrainConfig,
)


def _started(epochs: int = 2, steps_per_epoch: int = 4, **config) -> RunStarted:
    return RunStarted(
        config=TrainConfig(epochs=epochs, **config),
        device="cpu (1 thread)",
        dataset="bundled sample",
        train_samples=steps_per_epoch * 64,
        test_samples=100,
        steps_per_epoch=steps_per_epoch,
        total_steps=steps_per_epoch * epochs,
    )


def _block(steps: list[int], losses: list[float], speed: float = 1000.0) -> BatchBlock:
    block = BatchBlock()
    for step, loss in zip(steps, losses, strict=True):
        block.add(BatchEvent(1, step, 8, loss, speed * step, 0.1 * step))
    return block


def _evaluation(accuracy: float) -> EvalResult:
    return EvalResult(accuracy, 0.5, 100, [[0] * 10 for _ in range(10)], [accuracy] * 10)


def _result(accuracy: float) -> RunResult:
    return RunResult(TrainConfig(), "cpu", "sample", 256, 100, 1, 1.0, 100.0, _evaluation(accuracy))


def test_growing_array_keeps_every_value_across_reallocations():
    array = GrowingArray(capacity=2)
    for chunk in ([1.0], [2.0, 3.0], list(range(4, 40))):
        array.extend(chunk)
    assert len(array) == 39 and array.view.tolist() == [float(v) for v in range(1, 40)]


def test_ema_is_debiased_and_ignores_non_finite_values():
    ema = Ema(0.9)
    assert ema.update(2.0) == pytest.approx(2.0)  # starts at the first value, not 0.1 * x
    assert ema.update(float("nan")) == pytest.approx(2.0)  # repeated, not poisoned
    assert ema.update(4.0) == pytest.approx((0.9 * 0.1 * 2 + 0.1 * 4) / (1 - 0.81))
    assert math.isnan(Ema(0.5).update(float("nan")))  # nothing to repeat yet


def test_a_run_records_batches_epochs_and_its_end():
    history = RunHistory(smoothing=0.0)
    run = history.start_run(_started())
    assert history.current is run and run.number == 1 and run.status == "running"
    history.add_batches(_block([1, 2, 3], [2.3, 2.0, 1.5]))
    history.add_epoch(EpochEvent(1, 2, 1.9, 1.6, 0.4, 0.5))
    assert run.steps.view.tolist() == [1, 2, 3] and run.smoothed.view.tolist() == [2.3, 2.0, 1.5]
    assert run.accuracy == 0.4 and run.status_text == "running"
    history.end_run(RunEnded("finished", result=_result(0.83)))
    assert run.status == "finished" and run.accuracy == 0.83
    # Nothing is added to a run that has ended.
    assert history.add_batches(_block([4], [1.0])) is None and len(run.steps) == 3
    assert history.start_run(_started()).number == 2


def test_a_stopped_run_keeps_its_score_and_says_so():
    history = RunHistory()
    run = history.start_run(_started())
    history.add_batches(_block([1, 2], [2.3, 2.1]))
    history.end_run(RunEnded("stopped", "stopped by the user", _result(0.61)))
    assert run.status_text == "stopped, scored" and run.accuracy == 0.61
    unscored = history.start_run(_started())
    history.end_run(RunEnded("stopped", "stopped before training started"))
    assert unscored.status_text == "stopped" and unscored.accuracy is None


def test_smoothing_change_recomputes_every_run():
    history = RunHistory(smoothing=0.0)
    run = history.start_run(_started())
    losses = [2.0, 1.0, 3.0, 0.5, 2.5, 1.0]
    history.add_batches(_block(list(range(1, 7)), losses))
    assert run.smoothed.view.tolist() == losses
    history.set_smoothing(0.95)
    assert run.smoothed.view.std() < np.std(losses)
    history.add_batches(_block([7], [1.0]))  # later points continue with the new smoothing
    assert len(run.smoothed) == 7 and run.loss_ema.smoothing == 0.95


def test_non_finite_losses_are_counted_and_left_out_of_the_ranges():
    history = RunHistory()
    run = history.start_run(_started())
    history.add_batches(_block([1, 2, 3], [2.0, float("nan"), float("inf")]))
    assert run.nonfinite_losses == 2
    assert history.loss_range() == (2.0, 2.0)


def test_a_diverged_run_calls_for_a_log_axis():
    history = RunHistory()
    history.start_run(_started())
    history.add_batches(_block([1, 2], [2.3, 0.3]))
    assert not wants_log_scale(history.loss_range())
    history.start_run(_started(lr=10.0))
    history.add_batches(_block([1, 2], [5.0, 1e31]))
    assert wants_log_scale(history.loss_range())
    history.runs[-1].visible = False  # hiding the diverged run makes linear readable again
    assert not wants_log_scale(history.loss_range())


def test_ranges_and_decades():
    assert finite_positive_range([np.array([0.0, -1.0, np.nan])]) is None
    assert finite_positive_range([np.array([3.0, 0.5]), np.array([8.0])]) == (0.5, 8.0)
    assert decade_range((150.0, 40_000.0)) == (2, 5)
    assert decade_range((1000.0, 1000.0)) == (3, 4)  # at least one decade wide
    assert decade_range(None) is None and not wants_log_scale(None)


def test_speed_is_the_throughput_over_a_window_of_reports():
    history = RunHistory()
    run = history.start_run(_started(batch_size=64))
    block, seconds = BatchBlock(), 0.0
    for step in range(1, 41):
        # Every report took 10 ms (6,400 samples/s), but the per-report figures jitter wildly.
        seconds += 0.01
        jittered = 100.0 if step % 2 else 100_000.0
        block.add(BatchEvent(1, step, 40, 1.0, jittered, seconds))
    history.add_batches(block)
    assert run.speed.view[1] == 100_000.0 and run.speed.view[2] == 100.0  # kept as reported
    assert run.speed_smoothed.view[0] == 100.0  # no history yet: the report's own figure
    assert run.speed_smoothed.view[1:] == pytest.approx(6400.0)
    assert history.speed_range() == pytest.approx((100.0, 6400.0))


def test_clear_finished_keeps_the_running_run():
    history = RunHistory()
    first = history.start_run(_started())
    history.end_run(RunEnded("finished", result=_result(0.9)))
    second = history.start_run(_started())
    assert history.clear_finished() == [first] and history.runs == [second]


def test_extent_follows_the_visible_runs():
    history = RunHistory()
    assert history.extent() == (1, 1)
    long = history.start_run(_started(epochs=5, steps_per_epoch=10))
    history.start_run(_started(epochs=2, steps_per_epoch=4))
    assert history.extent() == (50, 5)
    long.visible = False
    assert history.extent() == (8, 2)


def test_csv_has_a_row_per_report_and_per_epoch(tmp_path):
    history = RunHistory(smoothing=0.0)
    for lr in (0.05, 0.01):
        history.start_run(_started(lr=lr))
        history.add_batches(_block([1, 2, 3, 4, 5], [2.3, 2.0, 1.8, 1.5, 1.2]))
        history.add_epoch(EpochEvent(1, 2, 1.9, 1.6, 0.4, 0.5))
        history.end_run(RunEnded("finished", result=_result(0.5)))
    rows = list(csv.DictReader(io.StringIO(history.csv_text())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["kind"] for r in rows].count("batch") == 10
    epochs = [r for r in rows if r["kind"] == "epoch"]
    assert [r["lr"] for r in epochs] == ["0.05", "0.01"] and epochs[0]["step"] == "4"
    fifth = next(r for r in rows if r["kind"] == "batch" and r["step"] == "5")
    assert fifth["epoch"] == "2" and fifth["train_loss"] == "1.2"  # 4 steps per epoch
    path = history.export_csv(tmp_path / "runs.csv")
    assert path.read_text() == history.csv_text()


def test_seconds_to_99_percent_counts_training_time_until_the_first_epoch_there():
    from core.training.run_history import RunRecord
    from core.training.train_types import EpochEvent, TrainConfig

    run = RunRecord(1, TrainConfig())
    assert run.seconds_to(0.99) is None
    run.epochs += [EpochEvent(1, 3, 0.3, 0.2, 0.97, 4.0), EpochEvent(2, 3, 0.1, 0.1, 0.991, 3.5)]
    run.epochs.append(EpochEvent(3, 3, 0.1, 0.1, 0.995, 3.0))
    assert run.seconds_to(0.99) == 7.5 and run.seconds_to(0.999) is None
