"""The loss landscape of a run or a model: the line from its initial to its trained weights, the
slice around the trained weights as a heat map with contours, and the run's own path on it.

A thin view over ``LandscapeState``; the computation runs in a worker thread (``ProgressJob``),
with a progress bar and Cancel, so the window keeps answering.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.training.landscape import LandscapeResult
from gui import theme
from gui.training.why.jobs import JobSlot
from gui.training.why.state import LandscapeSource, LandscapeState

TRAIN_PEN = pg.mkPen(theme.ACCENT, width=2)
TEST_PEN = pg.mkPen(theme.COMPOSED, width=2, style=Qt.PenStyle.DashLine)
CONTOURS = 8


def _caption() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {theme.INK};")
    return label


def _room_for_edge_ticks(plot: pg.PlotWidget) -> None:
    """A few pixels above the top tick and right of the last one: the label of a tick on the
    plot's edge ("1.0", "1.5") is drawn centred on it and would be cut in half."""
    plot.getPlotItem().layout.setContentsMargins(2, 8, 10, 2)


class LandscapeView(QWidget):
    """Line and slice of one model's loss. ``set_run``/``set_checkpoint`` choose the model,
    ``compute`` starts the worker; ``shutdown`` stops and waits for it (call at close)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = LandscapeState()
        self.showing_run = False  # a run of this session (with its path) is shown
        self.name_of_model: Callable[[], str] | None = None  # the app's name for the model in use
        self.jobs = JobSlot(self, "landscape")
        self._build_controls()
        self._build_plots()
        layout = QVBoxLayout(self)
        layout.addLayout(self.controls)
        layout.addWidget(self.status)
        layout.addLayout(self.plots, 1)
        self._refresh()

    # -- building ------------------------------------------------------------------------------

    def _build_controls(self) -> None:
        self.grid_box = QSpinBox(minimum=5, maximum=41, singleStep=2, value=11)
        self.grid_box.setToolTip(
            "Points a side of the slice (odd: its centre is the trained weights)."
        )
        self.span_box = QDoubleSpinBox(minimum=0.1, maximum=5.0, singleStep=0.25, value=1.0)
        self.span_box.setToolTip(
            "How far the slice reaches from the trained weights, in units of each filter's own\n"
            "size (1 = as far as the weights are from zero)."
        )
        self.seed_box = QSpinBox(minimum=0, maximum=10_000, value=1)
        self.seed_box.setToolTip(
            "Which random directions and which digits are scored (1,000 for an MLP, 400 for a\n"
            "CNN, whose every pass costs 30-100x more): same seed, same map."
        )
        self.path_box = QCheckBox("Along the run's &path")
        self.path_box.setChecked(True)
        self.path_box.setToolTip(
            "Slice along the plane the run itself moved in (the two largest principal components\n"
            "of its saved weights) and draw its path. Needs a run trained with its path saved."
        )
        self.compute_button = QPushButton("&Compute landscape")
        self.compute_button.setToolTip("Score the model at every point of the line and the slice.")
        self.compute_button.clicked.connect(self.compute)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        # Two rows: the view fits beside the Training tab's settings at 1024x700 (issue 22).
        numbers, actions = QHBoxLayout(), QHBoxLayout()
        for text, widget in (
            ("Grid", self.grid_box),
            ("Span", self.span_box),
            ("Seed", self.seed_box),
        ):
            numbers.addWidget(QLabel(text))
            numbers.addWidget(widget)
        numbers.addWidget(self.path_box)
        numbers.addStretch(1)
        for widget in (self.compute_button, self.cancel_button):
            actions.addWidget(widget)
        actions.addWidget(self.progress, 1)
        self.controls = QVBoxLayout()
        self.controls.addLayout(numbers)
        self.controls.addLayout(actions)
        self.status = QLabel()
        self.status.setWordWrap(True)

    def _build_plots(self) -> None:
        self.line_plot = pg.PlotWidget(background=theme.PLOT_BG)
        self.line_plot.setLabel("bottom", "alpha (0 = initial, 1 = trained)")  # fits 280 px
        self.line_plot.setLabel("left", "loss (mean negative log-likelihood)")
        _room_for_edge_ticks(self.line_plot)
        self.line_plot.addLegend(offset=(-10, 10))
        self.train_curve = self.line_plot.plot([], [], pen=TRAIN_PEN, name="training digits")
        self.test_curve = self.line_plot.plot([], [], pen=TEST_PEN, name="test digits")
        for alpha, text in ((0.0, "initial"), (1.0, "trained")):
            marker = pg.InfiniteLine(alpha, angle=90, pen=pg.mkPen(theme.FAINT), label=text)
            self.line_plot.addItem(marker)
        self.slice_plot = pg.PlotWidget(background=theme.PLOT_BG)
        self.slice_plot.setAspectLocked(False)
        for side in ("bottom", "left"):  # no "(x0.001)": these are steps, not SI units
            self.slice_plot.getAxis(side).enableAutoSIPrefix(False)
        self._label_directions(None)
        _room_for_edge_ticks(self.slice_plot)
        self.image = pg.ImageItem(axisOrder="col-major")  # heat[x][y], whatever the app sets
        self.image.setLookupTable(pg.colormap.get("viridis").getLookupTable(nPts=256))
        self.slice_plot.addItem(self.image)
        self.isocurves = [pg.IsocurveItem(pen=pg.mkPen("w", width=1)) for _ in range(CONTOURS)]
        for curve in self.isocurves:
            curve.setParentItem(self.image)
        self.path_curve = self.slice_plot.plot(
            [], [], pen=pg.mkPen("w", width=2), symbol="o", symbolSize=4, symbolBrush="w"
        )
        self.ends = pg.ScatterPlotItem(size=14, pen=pg.mkPen("k"), brush=pg.mkBrush("w"))
        self.slice_plot.addItem(self.ends)
        self.line_caption, self.slice_caption = _caption(), _caption()
        self.plots = QGridLayout()
        self.plots.addWidget(self.line_plot, 0, 0)
        self.plots.addWidget(self.slice_plot, 0, 1)
        self.plots.addWidget(self.line_caption, 1, 0)
        self.plots.addWidget(self.slice_caption, 1, 1)
        self.plots.setRowStretch(0, 1)

    def _label_directions(self, result: LandscapeResult | None) -> None:
        """Axis titles that say what a step along each axis is."""
        if result is not None and result.path is not None:
            names = ("the path's main direction", "the path's second direction")
        else:
            names = ("random direction 1 (filter sizes)", "random direction 2 (filter sizes)")
        self.slice_plot.setLabel("bottom", names[0])
        self.slice_plot.setLabel("left", names[1])

    # -- what to show --------------------------------------------------------------------------

    def set_source(self, source: LandscapeSource | None) -> None:
        if self.state.busy:
            self.cancel()  # its answer, when it comes, is for the old model: dropped
            self.state.busy = False
        self.state.set_source(source)
        self.grid_box.setValue(self.state.settings.grid)  # 9 for a CNN, 11 for an MLP
        self._draw(None)
        self._refresh()

    def set_run(self, result: Any, title: str, data: Any = None) -> None:
        """A finished run (``RunResult``); ``data`` the tab's loaded ``MnistData`` if any."""
        self.showing_run = True
        self.set_source(LandscapeSource.from_run(result, title, data))

    def set_checkpoint(self, checkpoint: Any, title: str = "") -> None:
        self.showing_run = False
        self.set_source(LandscapeSource.from_checkpoint(checkpoint, title))

    def follow_model(self, checkpoint: Any) -> None:
        """The model in use (Draw tab's), shown until a run of this session ends: after a
        restart the saved run list has no weights, so the page offers that model instead."""
        if checkpoint is not None and not self.showing_run and not self.state.busy:
            name = self.name_of_model() if self.name_of_model is not None else ""
            self.set_checkpoint(checkpoint, f"The model in use ({name})" if name else "")
            self.showing_run = False

    # -- the job -------------------------------------------------------------------------------

    def compute(self) -> None:
        if self.state.source is None or self.state.busy:
            return
        settings = self.state.settings
        settings.grid, settings.span = self.grid_box.value(), self.span_box.value()
        settings.seed = self.seed_box.value()
        self.state.use_path = self.path_box.isChecked()
        try:
            job = self.state.job()
        except Exception as exc:  # noqa: BLE001 (a bad setting is said in place)
            self.state.fail(str(exc))
            self._refresh()
            return
        self.progress.setValue(0)
        self.jobs.start(job, self._on_progress, self._on_done, self._on_failed)
        self._refresh()

    def cancel(self) -> None:
        self.jobs.stop()

    def shutdown(self) -> bool:
        return self.jobs.shutdown()

    def _on_progress(self, done: int, total: int) -> None:
        if self._stale():
            return
        self.progress.setMaximum(total)
        self.progress.setValue(done)

    def _stale(self) -> bool:
        """True for an answer from a job this view has already let go (another model chosen)."""
        return self.sender() is not self.jobs.job

    def _on_done(self, result: LandscapeResult) -> None:
        if self._stale():
            return
        self.state.finish(result)
        self._draw(result)
        self._refresh()

    def _on_failed(self, message: str) -> None:
        if self._stale():
            return
        self.state.fail(message)
        self._refresh()

    # -- drawing -------------------------------------------------------------------------------

    def _refresh(self) -> None:
        busy = self.state.busy
        self.compute_button.setEnabled(self.state.source is not None and not busy)
        self.cancel_button.setEnabled(busy)
        self.progress.setVisible(busy)
        self.path_box.setEnabled(self.state.has_path and not busy)
        self.status.setText(self.state.status)
        self.line_caption.setText(self.state.line_caption())
        self.slice_caption.setText(self.state.slice_caption())

    def _draw(self, result: LandscapeResult | None) -> None:
        if result is None:
            for item in (self.train_curve, self.test_curve, self.path_curve):
                item.setData([], [])
            self.image.clear()
            self.ends.setData([], [])
            for curve in self.isocurves:
                curve.setData(None)
            return
        self.train_curve.setData(*np.asarray(result.line).T)
        self.test_curve.setData(*np.asarray(result.line_test).T)
        self._draw_slice(result)

    def _draw_slice(self, result: LandscapeResult) -> None:
        self._label_directions(result)
        heat = self.state.heat()
        xs, ys = result.grid_x, result.grid_y
        dx, dy = xs[1] - xs[0], ys[1] - ys[0]
        self.image.setImage(heat, autoLevels=True)
        self.image.setRect(QRectF(xs[0] - dx / 2, ys[0] - dy / 2, dx * len(xs), dy * len(ys)))
        low, high = float(heat.min()), float(heat.max())
        for i, curve in enumerate(self.isocurves):
            curve.setData(heat, level=low + (high - low) * (i + 0.5) / CONTOURS)
        if result.path is not None:
            points = np.asarray(result.path.points)
            self.path_curve.setData(points[:, 0], points[:, 1])
            self.ends.setData(
                [points[0, 0], 0.0], [points[0, 1], 0.0], symbol=["o", "star"], size=[10, 16]
            )
        else:
            self.path_curve.setData([], [])
            self.ends.setData([0.0], [0.0], symbol=["star"], size=[16])
        self.slice_plot.setRange(xRange=(xs[0], xs[-1]), yRange=(ys[0], ys[-1]), padding=0.02)
