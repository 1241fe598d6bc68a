"""Reliability diagram: bars are the bins' accuracies, the title its ECE, the toggle compares."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.inference.calibration import calibration_report, fit_temperature
from gui.training.reliability_plot import ReliabilityPlot


@pytest.fixture
def report():
    generator = torch.Generator().manual_seed(0)
    z = torch.randn(4000, 10, generator=generator, dtype=torch.float64) * 2.5
    labels = torch.multinomial(torch.softmax(z, 1), 1, generator=generator).squeeze(1)
    over = z * 3  # over-confident by a temperature of 3
    return calibration_report(over, labels, fit_temperature(over, labels))


def test_draws_the_bins_and_names_the_ece(qtbot, report):
    plot = ReliabilityPlot()
    qtbot.addWidget(plot)
    assert plot.title_text() == "Reliability" and not plot.toggle.isEnabled()
    plot.set_report(report)
    x, heights = plot.bars.opts["x"], plot.bars.opts["height"]
    filled = [i for i, c in enumerate(report.after.count) if c]
    assert len(x) == len(filled)
    np.testing.assert_allclose(heights, [report.after.accuracy[i] for i in filled])
    assert f"ECE {report.after.ece:.1%}" in plot.title_text()
    assert "temperature-scaled" in plot.title_text()
    assert f"T = {report.temperature:.2f}" in plot.toggle.text()
    assert "raw" in plot.caption.text()


def test_the_toggle_shows_the_raw_probabilities(qtbot, report):
    plot = ReliabilityPlot()
    qtbot.addWidget(plot)
    plot.set_report(report)
    plot.toggle.setChecked(False)
    assert plot.shown_bins is report.before
    assert f"ECE {report.before.ece:.1%} (raw)" in plot.title_text()
    filled = [i for i, c in enumerate(report.before.count) if c]
    np.testing.assert_allclose(
        plot.bars.opts["height"], [report.before.accuracy[i] for i in filled]
    )
    assert report.before.ece > report.after.ece


def test_an_uncalibrated_model_shows_raw_bins_and_a_disabled_toggle(qtbot, report):
    plot = ReliabilityPlot()
    qtbot.addWidget(plot)
    report.temperature = 1.0
    plot.set_report(report)
    assert not plot.toggle.isEnabled() and plot.shown_bins is report.before
    assert "not fitted" in plot.toggle.text()
    plot.set_report(None)
    assert len(plot.bars.opts["x"]) == 0
