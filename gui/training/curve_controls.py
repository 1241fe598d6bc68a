"""The strip above the Training tab's curves, the words of its hover read-out, and the speed
plot's decade axis.

``CurveControls``: smoothing slider, loss-axis choice, the NaN/inf note and the read-out line.
``readout_text``: what the mouse points at, as a sentence per run (no Qt: tested directly).
``DecadeAxis``: a log axis labelled only at decades, as "1k", "10k", skipping decades when the
plot is too short for every label, so labels never overlap (issue 22).
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QWidget

from core.training.run_history import RunRecord
from gui import theme

LOSS_SCALES = {
    "auto": "auto (log when one run dwarfs the others)",
    "linear": "linear",
    "log": "log",
}
HOVER_HINT = "Move the mouse over a plot to read values."


def _short_number(value: float) -> str:
    """1000 → "1k", 100000 → "100k", 1e6 → "1M": decade labels that fit a narrow axis."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:g}{suffix}"
    return f"{value:g}"


class DecadeAxis(pg.AxisItem):
    """A log-mode axis with a label at each decade (or every 2nd, 3rd… when space is short)."""

    def tickValues(self, minVal, maxVal, size):  # noqa: ANN001, ANN201, N802, N803 (pyqtgraph's API)
        if not self.logMode:
            return super().tickValues(minVal, maxVal, size)
        low, high = math.ceil(minVal - 1e-9), math.floor(maxVal + 1e-9)
        if high < low:
            return super().tickValues(minVal, maxVal, size)
        room = max(1.0, size / (2.2 * self._label_height()))  # labels that fit, with a gap
        step = max(1, math.ceil((high - low + 1) / room))
        return [(float(step), [float(d) for d in range(low, high + 1, step)])]

    def _label_height(self) -> float:
        font = self.style.get("tickFont")
        metrics = pg.QtGui.QFontMetricsF(font) if font is not None else None
        return metrics.height() if metrics is not None else 14.0

    def tickStrings(self, values, scale, spacing):  # noqa: ANN001, ANN201, N802 (pyqtgraph's API)
        if not self.logMode:
            return super().tickStrings(values, scale, spacing)
        return [_short_number(10.0**v) for v in values]


def readout_text(kind: str, runs: list[RunRecord], x: float) -> str:
    """What every visible run reads at ``x`` on the ``kind`` plot ("loss", "accuracy",
    "speed"), one sentence per run."""
    parts = [_run_readout(kind, run, x) for run in runs]
    parts = [p for p in parts if p]
    return "   ".join(parts) if parts else "No data here yet."


def _run_readout(kind: str, run: RunRecord, x: float) -> str:
    if kind == "accuracy":
        if not run.epochs:
            return ""
        event = min(run.epochs, key=lambda e: abs(e.epoch - x))
        return (
            f"Run #{run.number} after epoch {event.epoch}: {event.test_accuracy:.2%} of test "
            f"digits right, test loss {event.test_loss:.4f}."
        )
    i = run.nearest_index(x)
    if i is None:
        return ""
    step = int(run.steps.view[i])
    if kind == "speed":
        return (
            f"Run #{run.number} at step {step}: {run.speed_smoothed.view[i]:,.0f} samples/s "
            f"(this report alone {run.speed.view[i]:,.0f})."
        )
    return (
        f"Run #{run.number} at step {step}: train loss {run.losses.view[i]:.4f} "
        f"(smoothed {run.smoothed.view[i]:.4f})."
    )


class CurveControls(QWidget):
    """Smoothing, loss axis, the NaN/inf note and the hover read-out, in one row."""

    def __init__(self, smoothing: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(int(round(smoothing * 100)))
        self.smoothing_slider.setMaximumWidth(180)
        self.smoothing_slider.setToolTip(
            "Exponential moving average of the batch loss: each point of the bold line is\n"
            "smoothing x previous + (1 - smoothing) x this batch. 0 = raw, 0.99 = very smooth\n"
            "(and slow to follow real changes)."
        )
        self.smoothing_label = QLabel()
        self.smoothing_slider.valueChanged.connect(self._show_smoothing)
        self._show_smoothing(self.smoothing_slider.value())
        self.scale_combo = QComboBox()
        for key, text in LOSS_SCALES.items():
            self.scale_combo.addItem(text.split(" ")[0], key)
            self.scale_combo.setItemData(
                self.scale_combo.count() - 1, text, Qt.ItemDataRole.ToolTipRole
            )
        self.scale_combo.setToolTip(
            "The loss axis. auto turns to a log scale when the losses shown span more than a\n"
            "factor 1,000 (a diverged run), so the other runs stay readable."
        )
        self.nonfinite_label = QLabel()
        self.nonfinite_label.setStyleSheet(theme.text_style(theme.NOTE))
        self.nonfinite_label.setVisible(False)
        self.nonfinite_label.setToolTip(
            "These batches' losses are not finite numbers (the run diverged: try a smaller\n"
            "learning rate); the curve has a gap where they are."
        )
        self.hover_label = QLabel(HOVER_HINT)
        self.hover_label.setObjectName("hoverReadout")
        self.hover_label.setWordWrap(True)
        self.hover_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._lay_out()

    def _lay_out(self) -> None:
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for text, widget in (
            ("Smoot&hing", self.smoothing_slider),
            ("Loss a&xis", self.scale_combo),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            row.addWidget(label)
            row.addWidget(widget)
            if widget is self.smoothing_slider:
                row.addWidget(self.smoothing_label)
            row.addSpacing(8)
        row.addWidget(self.nonfinite_label)
        row.addWidget(self.hover_label, 1)

    def _show_smoothing(self, value: int) -> None:
        self.smoothing_label.setText(f"{value / 100:.2f}")

    def show_nonfinite(self, runs: list[RunRecord]) -> None:
        bad = [(run.number, run.nonfinite_losses) for run in runs if run.nonfinite_losses]
        text = ", ".join(f"run #{n}: {count:,}" for n, count in bad)
        self.nonfinite_label.setText(f"⚠ NaN/inf losses not drawn ({text})" if bad else "")
        self.nonfinite_label.setVisible(bool(bad))
