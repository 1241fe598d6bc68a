"""Runs over seeds: seeds 1..N through the trainer, mean with a min-max band, mean +- sd."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.data.mnist import MnistData, load_sample
from core.errors import UserError
from core.training.repeats import RepeatResult, RepeatRunner, SeedRun, band_of, compare
from core.training.train_types import BatchEvent, RunStarted, TrainConfig


@pytest.fixture(scope="module")
def data() -> MnistData:
    sample = load_sample()
    return MnistData(
        "sample",
        "slice",
        sample.train_images[:640],
        sample.train_labels[:640],
        sample.test_images[:200],
        sample.test_labels[:200],
    )


def test_three_seeds_run_through_the_trainer_and_aggregate(data):
    seen = []
    config = TrainConfig(epochs=2, holdout=0.0, report_every=2)
    runner = RepeatRunner(config, 3, data, on_event=lambda i, e: seen.append((i, e)))
    result = runner.run()
    starts = [(i, e.config.seed) for i, e in seen if isinstance(e, RunStarted)]
    assert starts == [(0, 1), (1, 2), (2, 3)]
    assert [r.seed for r in result.runs] == [1, 2, 3]
    finals = [r.final_accuracy for r in result.runs]
    assert len(set(finals)) > 1  # seeds differ
    mean, sd = result.accuracy_mean_sd()
    assert mean == pytest.approx(np.mean(finals)) and sd == pytest.approx(np.std(finals, ddof=1))
    band = result.loss_band()
    assert band.runs == 3 and len(band.x) == 10  # 20 steps, a report every 2
    assert np.all(band.low <= band.mean) and np.all(band.mean <= band.high)
    assert band.low[0] < band.high[0]
    assert "over 3 seeds" in result.summary() and "\u00b1" in result.summary()
    assert any(isinstance(e, BatchEvent) for _, e in seen)


def test_band_is_min_max_and_mean_on_a_known_set():
    band = band_of([([1, 2, 3], [1.0, 2.0, 3.0]), ([1, 2, 3], [3.0, 4.0, 5.0])])
    assert band.mean.tolist() == [2.0, 3.0, 4.0]
    assert band.low.tolist() == [1.0, 2.0, 3.0] and band.high.tolist() == [3.0, 4.0, 5.0]
    short = band_of([([1, 2, 3], [1.0, 1.0, 1.0]), ([1, 2], [3.0, 3.0])])
    assert short.x.tolist() == [1.0, 2.0]  # up to where the stopped run ended
    assert band_of([]) is None


def _result(label: str, accuracies: list[float]) -> RepeatResult:
    runs = [
        SeedRun(seed=i + 1, final_accuracy=a, status="finished") for i, a in enumerate(accuracies)
    ]
    return RepeatResult(label, TrainConfig(), runs)


def test_compare_says_whether_the_difference_beats_the_noise():
    a = _result("A", [0.90, 0.91, 0.92])
    assert "bigger than the noise" in compare(a, _result("B", [0.95, 0.96, 0.955]))
    assert "within the noise" in compare(a, _result("B", [0.915, 0.93, 0.90]))
    mean, sd = a.accuracy_mean_sd()
    assert mean == pytest.approx(0.91) and sd == pytest.approx(0.01)
    assert math.isclose(_result("C", [0.5]).accuracy_mean_sd()[1], 0.0)


def test_stop_skips_the_remaining_seeds(data):
    config = TrainConfig(epochs=1, holdout=0.0)

    def on_event(index, event):
        if isinstance(event, BatchEvent):
            runner.stop()

    runner = RepeatRunner(config, 4, data, on_event=on_event)
    result = runner.run()
    assert len(result.runs) == 1 and result.runs[0].status == "stopped"
    with pytest.raises(UserError):
        RepeatRunner(config, 0, data)
