"""A reliability diagram: how often the model is right at each level of confidence.

Bars are the accuracy of the answers in each of 15 equal-width confidence bins; the dashed
diagonal is perfect calibration (right 90 % of the time when 90 % sure); the dots are each bin's
mean confidence, so the gap between a bar's top and its dot is what the ECE in the title
averages. A check box compares the raw probabilities with temperature-scaled ones. The widget
draws a ``core.inference.calibration.CalibrationReport`` and computes nothing itself.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QLabel, QVBoxLayout, QWidget

from core.inference.calibration import CalibrationReport, ReliabilityBins
from gui import theme

BAR_COLOUR = theme.ACCENT
GAP_COLOUR = theme.ERROR


class ReliabilityPlot(QWidget):
    """Reliability diagram with ECE in the title and a "temperature scaling" toggle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report: CalibrationReport | None = None
        self.plot = pg.PlotWidget(background=theme.PLOT_BG)
        self.plot.setMinimumSize(200, 200)  # beside the confusion matrix at 1024x700
        self.plot.setXRange(0, 1, padding=0.02)
        self.plot.setYRange(0, 1, padding=0.02)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        theme.style_plot(self.plot, left="accuracy", bottom="confidence", title="Reliability")
        self.diagonal = self.plot.plot(
            [0, 1], [0, 1], pen=pg.mkPen(theme.MUTED, width=1, style=pg.QtCore.Qt.PenStyle.DashLine)
        )
        self.bars = pg.BarGraphItem(x=[], height=[], width=1 / 15, brush=BAR_COLOUR, pen="w")
        self.plot.addItem(self.bars)
        self.confidence_dots = self.plot.plot(
            [], [], pen=None, symbol="o", symbolSize=5, symbolBrush=GAP_COLOUR, symbolPen=None
        )
        self.toggle = QCheckBox("Temperature scaling")
        self.toggle.setChecked(True)
        self.toggle.setToolTip(
            "On: probabilities divided by the temperature T fitted on held-out training digits "
            "(what the app shows).\nOff: the network's raw softmax. Answers are the same either "
            "way; only how sure they are changes."
        )
        self.toggle.toggled.connect(lambda _on: self._redraw())
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet(theme.text_style(theme.MUTED))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.toggle)
        layout.addWidget(self.caption)
        self.set_report(None)

    def set_report(self, report: CalibrationReport | None) -> None:
        """Draw ``report`` (None clears the diagram)."""
        self.report = report
        calibrated = report is not None and report.temperature != 1.0
        self.toggle.setEnabled(calibrated)
        if report is not None and report.temperature != 1.0:
            self.toggle.setText(f"Temperature scaling (T = {report.temperature:.2f})")
        else:
            self.toggle.setText("Temperature scaling (not fitted)")  # short: beside the matrix
        self._redraw()

    @property
    def shown_bins(self) -> ReliabilityBins | None:
        """The bins on screen: after scaling when the toggle is on, raw otherwise."""
        if self.report is None:
            return None
        use_after = self.toggle.isChecked() and self.report.temperature != 1.0
        return self.report.after if use_after else self.report.before

    def title_text(self) -> str:
        bins = self.shown_bins
        if bins is None:
            return "Reliability"
        scaled = bins is self.report.after and self.report.temperature != 1.0
        return f"Reliability: ECE {bins.ece:.1%} ({'temperature-scaled' if scaled else 'raw'})"

    def _redraw(self) -> None:
        bins = self.shown_bins
        if bins is None:
            self.bars.setOpts(x=[], height=[])
            self.confidence_dots.setData([], [])
            self.caption.setText("Evaluate a model to see how far its confidence can be trusted.")
            self.plot.setTitle("Reliability", color=theme.INK, size="11pt")
            return
        width = bins.edges[1] - bins.edges[0]
        centres = np.array(bins.edges[:-1]) + width / 2
        filled = np.array([c > 0 for c in bins.count])
        heights = np.array([0.0 if math.isnan(a) else a for a in bins.accuracy])
        self.bars.setOpts(x=centres[filled], height=heights[filled], width=width * 0.92)
        confidence = np.array(bins.confidence)
        self.confidence_dots.setData(centres[filled], confidence[filled])
        self.plot.setTitle(self.title_text(), color=theme.INK, size="11pt")
        self.caption.setText(self._caption(bins))

    def _caption(self, bins: ReliabilityBins) -> str:
        report = self.report
        assert report is not None
        text = (
            f"{bins.samples:,} test digits in 15 confidence bins. Bars: how often the model was "
            "right; dots: how sure it was. On the diagonal, confidence means what it says."
        )
        if report.temperature != 1.0:
            text += (
                f" ECE {report.before.ece:.1%} raw, {report.after.ece:.1%} after dividing the "
                f"logits by T = {report.temperature:.2f}."
            )
        return text
