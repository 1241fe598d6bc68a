"""The side panels of the "Inside the network" tab: the hovered unit, the map, training, weights.

Views over plain data from ``core.inspection.activations`` and ``core.inspection.embedding_map``. The training panel
follows pyqtgraph's habits for live data: one curve per layer created once per run, buffers
appended as reports arrive, a timer redrawing at most 5 times a second and only when something
changed and the panel is visible.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from core.inspection.activations import DeadReluReport, GradientReport, WeightHistogram, flow_notes
from core.inspection.embedding_map import ReferenceDigits
from gui import theme
from gui.inspector.inspector_widgets import ArrayView, DigitStrip, UnitGridView

REDRAW_INTERVAL_MS = 200
EXEMPLARS = 8


def _note_label(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(theme.text_style(theme.MUTED))
    return label


def _heading(text: str) -> QLabel:
    label = QLabel(f"<b>{text}</b>")
    return label


class UnitPanel(QWidget):
    """The unit under the mouse: its incoming weights as a picture and the test digits that
    excite it most."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.title = _heading("Hover a unit in the flow")
        layout.addWidget(self.title)
        row = QHBoxLayout()
        self.template = ArrayView(168)
        self.template.setToolTip(
            "The unit's incoming weights. Orange: ink there raises the unit's value; blue: ink "
            "there lowers it. For a first-layer unit this is the pattern it looks for."
        )
        row.addWidget(self.template)
        self.about = _note_label(
            "Each square in the flow is a unit (a neuron, or a whole feature map in a conv layer)."
            " Hover one to see what it looks for."
        )
        row.addWidget(self.about, 1)
        layout.addLayout(row)
        layout.addWidget(_heading("Test digits that excite it most"))
        self.exemplars = DigitStrip(EXEMPLARS, side=38)
        self.exemplars.setToolTip(
            "The test digits on which this unit's value is highest (a conv map: its strongest "
            "point). Together they show what the unit has learned to respond to."
        )
        layout.addWidget(self.exemplars)
        self.exemplar_note = _note_label("")
        layout.addWidget(self.exemplar_note)
        layout.addStretch(1)

    def show_unit(
        self,
        stage: str,
        unit: int,
        template: np.ndarray,
        value: float,
        about: str,
        reference: ReferenceDigits | None,
    ) -> None:
        self.title.setText(f"<b>{stage}, unit {unit}</b>: value {value:.3g} for your digit")
        self.template.set_array(template, signed=True)
        self.about.setText(about)
        if reference is None or stage not in reference.exemplars:
            self.exemplars.set_digits(None)
            self.exemplar_note.setText("The test digits are still being read…")
            return
        indices = reference.exemplars[stage][unit]
        labels = reference.map.labels[indices]
        self.exemplars.set_digits(reference.images[indices], [str(int(n)) for n in labels])
        self.exemplar_note.setText(f"From {reference.description}; labels underneath.")


class MapPanel(QWidget):
    """The test digits in the penultimate layer's PCA plane, coloured by label (Okabe-Ito);
    misclassified ones as crosses; the learner's digit as a moving star. Hover shows a digit,
    a click sends it to the flow view (``digitChosen(index)``)."""

    digitChosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.status = _note_label("The map appears once the test digits are read.")
        layout.addWidget(self.status)
        self.plot = pg.PlotWidget(background=theme.PLOT_BG)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        theme.style_plot(self.plot, left="PCA axis 2", bottom="PCA axis 1")
        self.plot.setToolTip(
            "Each dot is a test digit placed by what the last hidden layer makes of it, squeezed "
            "to two dimensions (PCA). Digits the network tells apart land apart. Crosses: "
            "digits it gets wrong. The star: your digit."
        )
        # Hovering a dot says which digit it is in words (pyqtgraph's own tip is "x: … data=…").
        self.scatter = pg.ScatterPlotItem(size=5, pen=None, hoverable=True, tip=self.hover_tip)
        self.wrong = pg.ScatterPlotItem(size=9, symbol="x", pen=None)
        self.marker = pg.ScatterPlotItem(
            size=20, symbol="star", brush=pg.mkBrush(theme.INSPECT_MARKER), pen=pg.mkPen("k")
        )
        for item in (self.scatter, self.wrong, self.marker):
            self.plot.addItem(item)
        self.scatter.sigHovered.connect(self._hovered)
        self.scatter.sigClicked.connect(self._clicked)
        self.wrong.sigClicked.connect(self._clicked)
        layout.addWidget(self.plot, 1)
        row = QHBoxLayout()
        self.digit_view = ArrayView(56)
        row.addWidget(self.digit_view)
        self.digit_label = _note_label("Hover a dot to see its digit; click it to follow it.")
        row.addWidget(self.digit_label, 1)
        layout.addLayout(row)
        self.legend = QLabel(
            " ".join(
                f"<span style='color:{c}'>●</span>{d}" for d, c in enumerate(theme.CLASS_COLOURS)
            )
            + " &nbsp; ✕ wrong &nbsp; <span style='color:"
            f"{theme.INSPECT_MARKER}'>★</span> yours"
        )
        layout.addWidget(self.legend)
        self.reference: ReferenceDigits | None = None

    def set_reference(self, reference: ReferenceDigits | None) -> None:
        self.reference = reference
        if reference is None:
            self.scatter.clear()
            self.wrong.clear()
            self.status.setText("Reading the test digits…")
            return
        emap = reference.map
        brushes = [pg.mkBrush(c) for c in theme.CLASS_COLOURS]
        self.scatter.setData(
            pos=emap.points,
            brush=[brushes[int(label)] for label in emap.labels],
            data=np.arange(len(emap)),
        )
        wrong = np.flatnonzero(emap.misclassified)
        self.wrong.setData(
            pos=emap.points[wrong],
            pen=[pg.mkPen(theme.CLASS_COLOURS[int(emap.labels[i])], width=2) for i in wrong],
            data=wrong,
        )
        share = sum(emap.projection.explained)
        self.status.setText(
            f"{len(emap):,} test digits of {reference.description}, layer {emap.stage}. "
            f"Two axes hold {share:.0%} of its variance; a digit's 5 nearest neighbours in this "
            f"plane share its label {emap.knn_accuracy:.0%} of the time. "
            f"{len(wrong)} misclassified."
        )

    def set_marker(self, point: np.ndarray | None) -> None:
        if point is None:
            self.marker.clear()
        else:
            self.marker.setData(pos=np.asarray(point, dtype=float).reshape(1, 2))

    def describe_digit(self, index: int) -> str:
        emap = self.reference.map
        label, predicted = int(emap.labels[index]), int(emap.predictions[index])
        verdict = "read correctly" if label == predicted else f"read as {predicted}"
        return f"Test digit {index}: a {label}, {verdict}. Click to follow it through the network."

    def hover_tip(self, x: float = 0.0, y: float = 0.0, data: object = None) -> str:
        """The tooltip of a hovered dot: the sentence of ``describe_digit``."""
        if self.reference is None or data is None:
            return ""
        return self.describe_digit(int(data))

    def _hovered(self, _item: object, points: object, _event: object) -> None:
        if self.reference is None or points is None or len(points) == 0:
            return
        index = int(points[0].data())
        self.digit_view.set_array(self.reference.images[index].astype(np.float32))
        self.digit_label.setText(self.describe_digit(index))

    def _clicked(self, _item: object, points: object, _event: object = None) -> None:
        if self.reference is not None and points is not None and len(points):
            self.digitChosen.emit(int(points[0].data()))


class TrainingPanel(QWidget):
    """During a run: the first layer's templates as they form, gradient norms per layer on a
    log axis, and plain-words notes when gradients vanish or explode or ReLUs die."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.status = _note_label(
            "Start a run in the Training tab: the first layer's weights and the gradient flow "
            "appear here as the network learns."
        )
        layout.addWidget(self.status)
        self.templates = UnitGridView(height=230)
        self.templates.unit_label = "template"
        self.templates.setToolTip(
            "Every first-layer unit's incoming weights (each on its own colour scale: orange "
            "positive, blue negative), refreshed a few times a second: watch random noise turn "
            "into stroke detectors."
        )
        layout.addWidget(self.templates)
        self.plot = pg.PlotWidget(background=theme.PLOT_BG)
        self.plot.setMenuEnabled(False)
        self.plot.setLogMode(y=True)
        theme.style_plot(self.plot, left="gradient norm (log scale)", bottom="training step")
        self.plot.setToolTip(
            "How large each layer's gradient is. Healthy layers sit within a decade or two of "
            "each other; a layer far below the others barely learns (vanishing gradients)."
        )
        self.legend = self.plot.addLegend(offset=(-4, 4), labelTextSize="8pt")
        layout.addWidget(self.plot, 1)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet(theme.text_style(theme.NOTE_INK))
        layout.addWidget(self.notes)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.steps: list[int] = []
        self.norms: dict[str, list[float]] = {}
        self.latest: GradientReport | None = None
        self.dead: DeadReluReport | None = None
        self.reports = 0
        self.description = ""
        self._tick = 0
        self._shown_templates: np.ndarray | None = None
        self._dirty = False
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self.redraw)

    def showEvent(self, event) -> None:  # noqa: ANN001, N802
        super().showEvent(event)
        self.redraw()

    def reset(self, description: str, recording: bool = True, title: str = "") -> None:
        """A new run: empty curves; ``recording`` says whether it sends gradient reports. The
        previous run's curves stay as faint dashed lines, so two runs can be compared (the deep
        sigmoid MLP's decades of vanishing gradients next to the ReLU MLP's)."""
        previous = (self.description, self.steps, self.norms) if self.steps else None
        self.plot.clear()
        self.legend.clear()
        if previous is not None:
            self._plot_previous(*previous)
        self.description = title or description
        self.curves, self.steps, self.norms = {}, [], {}
        self.latest, self.dead, self.reports = None, None, 0
        self._shown_templates = None
        self.notes.setText("")
        self.status.setText(
            f"Training {description}: waiting for the first gradients…"
            if recording
            else f"Training {description} without recording its gradient flow: turn on "
            "'Gradient flow' in the Training tab's settings to watch it here."
        )
        self._timer.start()

    def _plot_previous(self, description: str, steps: list[int], norms: dict[str, list[float]]):
        pen = pg.mkPen(theme.FAINT, width=1, style=Qt.PenStyle.DashLine)
        for index, values in enumerate(norms.values()):
            name = f"before: {description}" if index == 0 else None
            self.plot.plot(np.asarray(steps, float), np.asarray(values, float), pen=pen, name=name)

    def add_report(self, report: GradientReport) -> None:
        if not self.curves:
            for index, layer in enumerate(report.layers):
                colour = theme.RUN_COLOURS[index % len(theme.RUN_COLOURS)]
                curve = self.plot.plot(pen=pg.mkPen(colour, width=1.5), name=layer.name)
                self.curves[layer.name] = curve
                self.norms[layer.name] = []
        self.steps.append(report.step)
        for layer in report.layers:
            value = layer.grad_norm if math.isfinite(layer.grad_norm) else float("nan")
            self.norms.setdefault(layer.name, []).append(max(value, 1e-12))
        self.latest = report
        self.reports += 1
        self._dirty = True

    def add_dead(self, report: DeadReluReport) -> None:
        self.dead = report
        self._dirty = True

    def finish(self, text: str) -> None:
        for _ in range(2):  # templates and curves (alternate ticks)
            self.redraw()
        self._timer.stop()
        self.status.setText(text)

    def redraw(self) -> None:
        """Timer-driven. The templates picture and the curves are redrawn on alternate ticks,
        so one tick never pays for both (the event loop stays responsive while training)."""
        if not self._dirty or self.latest is None or not self.isVisible():
            return  # a hidden panel costs nothing; it catches up when shown
        self._tick += 1
        if self._tick % 2 and self.latest.templates is not self._shown_templates:
            self._shown_templates = self.latest.templates
            self.templates.set_values(self._shown_templates, signed=True, each_own_scale=True)
            return  # the curves follow on the next tick
        self._dirty = self.latest.templates is not self._shown_templates
        steps = np.asarray(self.steps, dtype=float)
        for name, curve in self.curves.items():
            curve.setData(steps, np.asarray(self.norms[name], dtype=float))
        report = self.latest
        flows = ", ".join(f"{layer.name} {layer.update_ratio:.0e}" for layer in report.layers)
        _set_text(
            self.status,
            f"Epoch {report.epoch}, step {report.step}: one step changes each layer's weights "
            f"by {flows} of their size.",
        )
        _set_text(self.notes, "\n".join(flow_notes(report, self.dead)))


def _set_text(label: QLabel, text: str) -> None:
    """Only a changed text: a word-wrapped label lays itself out again on every setText."""
    if label.text() != text:
        label.setText(text)


class WeightsPanel(QWidget):
    """Per-layer weight histograms of the current model (TensorBoard's view, for one model)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.plot = pg.PlotWidget(background=theme.PLOT_BG)
        self.plot.setMenuEnabled(False)
        theme.style_plot(self.plot, left="% of the layer's weights", bottom="weight value")
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        self.legend = self.plot.addLegend(offset=(-4, 4), labelTextSize="8pt")
        self.plot.setToolTip(
            "How each layer's weights are spread. Training widens them from their small random "
            "start; a layer whose weights stay in a narrow spike has barely learned."
        )
        layout.addWidget(self.plot, 1)
        self.note = _note_label("")
        layout.addWidget(self.note)
        self.shown: list[str] = []

    def set_histograms(self, histograms: list[WeightHistogram]) -> None:
        self.plot.clear()
        self.legend.clear()
        self.shown = []
        for index, hist in enumerate(histograms):
            counts = np.asarray(hist.counts, dtype=float)
            share = 100.0 * counts / max(counts.sum(), 1.0)
            colour = theme.RUN_COLOURS[index % len(theme.RUN_COLOURS)]
            self.plot.plot(
                np.asarray(hist.edges),
                share,
                stepMode="center",
                pen=pg.mkPen(colour, width=1.5),
                name=f"{hist.name} (std {hist.std:.3f})",
            )
            self.shown.append(hist.name)
        self.note.setText("Each curve is one layer; its std is in the legend.")
