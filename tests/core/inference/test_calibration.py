"""Calibration: temperature scaling finds the temperature that generated the data; ECE by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.inference.calibration import (
    ECE_BINS,
    calibration_report,
    expected_calibration_error,
    fit_temperature,
    reliability,
)


def sampled(n: int, scale: float, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits whose softmax is the true label distribution, then multiplied by ``scale``.

    Labels are drawn from softmax(z), so z is calibrated and z * scale is over- (scale > 1) or
    under-confident (scale < 1) by exactly a temperature of ``scale``.
    """
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 10, generator=generator, dtype=torch.float64) * 2.5
    labels = torch.multinomial(torch.softmax(z, dim=1), 1, generator=generator).squeeze(1)
    return z * scale, labels


@pytest.mark.parametrize("scale", [0.5, 1.0, 3.0])
def test_fit_recovers_the_temperature_that_made_the_data(scale):
    logits, labels = sampled(20000, scale)
    assert fit_temperature(logits, labels) == pytest.approx(scale, rel=0.06)


def test_the_fitted_temperature_minimises_the_nll():
    logits, labels = sampled(5000, 2.0, seed=1)
    t = fit_temperature(logits, labels)

    def nll(temperature: float) -> float:
        return float(torch.nn.functional.cross_entropy(logits / temperature, labels))

    assert nll(t) <= nll(t * 1.03) and nll(t) <= nll(t / 1.03)
    assert nll(t) < nll(1.0)


def test_log_probabilities_give_the_same_temperature_as_logits():
    logits, labels = sampled(3000, 2.0, seed=2)
    assert fit_temperature(torch.log_softmax(logits, 1), labels) == pytest.approx(
        fit_temperature(logits, labels), rel=1e-6
    )
    assert fit_temperature(logits.numpy(), labels.numpy()) == pytest.approx(
        fit_temperature(logits, labels)
    )


def test_no_data_or_broken_data_keeps_the_model_as_it_is():
    assert fit_temperature(torch.zeros((0, 10)), torch.zeros(0, dtype=torch.int64)) == 1.0
    assert fit_temperature(torch.full((3, 10), math.nan), torch.zeros(3, dtype=torch.int64)) == 1.0
    with pytest.raises(ValueError, match="labels"):
        fit_temperature(torch.zeros(4, 10), torch.zeros(3, dtype=torch.int64))


def test_ece_by_hand():
    # two answers at 95 % (one right): gap 0.45; two at 55 % (both right): gap 0.45
    probabilities = np.array(
        [[0.95, 0.05], [0.95, 0.05], [0.45, 0.55], [0.45, 0.55]], dtype=np.float64
    )
    labels = np.array([0, 1, 1, 1])
    bins = reliability(probabilities, labels)
    assert bins.ece == pytest.approx(0.45)
    assert expected_calibration_error(probabilities, labels) == pytest.approx(0.45)
    assert len(bins.edges) == ECE_BINS + 1 and bins.samples == 4
    assert bins.count[14] == 2 and bins.accuracy[14] == pytest.approx(0.5)
    assert bins.count[8] == 2 and bins.confidence[8] == pytest.approx(0.55)
    assert math.isnan(bins.accuracy[0]) and bins.count[0] == 0  # empty bins say so


def test_bin_edges_are_closed_on_the_right():
    probabilities = np.array([[1.0, 0.0], [0.06, 0.94], [0.5, 0.5], [0.8, 0.2]])
    bins = reliability(probabilities, np.array([0, 1, 0, 0]))
    assert bins.count[14] == 2  # 1.0 and 0.94 both in the last bin, (14/15, 1]
    assert bins.count[7] == 1  # 0.5 is in (7/15, 8/15]
    assert bins.count[11] == 1  # 0.8 is in (11/15, 12/15]


def test_calibrated_data_has_a_small_ece_and_scaling_fixes_an_overconfident_model():
    logits, labels = sampled(30000, 1.0, seed=3)
    assert expected_calibration_error(torch.softmax(logits, 1), labels) < 0.015
    over, labels = sampled(30000, 3.0, seed=4)
    t = fit_temperature(over[:15000], labels[:15000])
    report = calibration_report(over[15000:], labels[15000:], t)
    assert report.before.ece > 0.08
    assert report.after.ece < report.before.ece / 4
    assert report.nll_after < report.nll_before and report.temperature == t


def test_scaling_never_changes_an_answer():
    logits, labels = sampled(2000, 3.0, seed=5)
    t = fit_temperature(logits, labels)
    assert torch.equal((logits / t).argmax(1), logits.argmax(1))
