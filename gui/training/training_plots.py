"""Live training curves: loss per batch (raw and smoothed), test loss/accuracy per epoch, speed.

This module only draws: what is drawn lives in ``core.training.run_history.RunHistory`` (buffers,
smoothing, CSV). pyqtgraph's habits for live data (examples/scrollingPlots.py): every curve
object is created once per run, and a ``QTimer`` calls ``setData`` at most 5 times a second and
only for the runs that changed, whatever the batch rate.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.training.run_history import (
    SPEED_WINDOW,
    BatchBlock,
    RunHistory,
    RunRecord,
    decade_range,
    wants_log_scale,
)
from core.training.train_types import EpochEvent, LrChanged, RunEnded, RunStarted, TrainConfig
from gui import theme
from gui.training.curve_controls import CurveControls, DecadeAxis, readout_text
from gui.training.run_list import RunListView, colour_of

# 5 redraws a second look live and cost half of 10: a repaint runs in the GUI thread holding the
# GIL (pyqtgraph paints in Python), and the training thread needs the GIL between torch ops.
REDRAW_INTERVAL_MS = 200
SPEED_EVERY = 5  # the speed plot changes slowly: redraw it every 5th redraw (once a second)
EMPTY_SPEED_DECADES = (2, 5)  # 100 to 100,000 samples/s: where CPU and GPU runs land
EMPTY_LOSS_TOP = 2.5  # just above ln(10), the loss of a network that guesses
EMPTY_STEPS = 100  # whole steps on an empty axis, not 0.2 of a batch
PLACEHOLDER = "Press Start (Ctrl+Enter) to train: the curves appear here as the network learns."


def _plot(
    left: str, bottom: str, title: str, tooltip: str, *, decades: bool = False
) -> pg.PlotWidget:
    axes = {"left": DecadeAxis("left")} if decades else None
    plot = pg.PlotWidget(background=theme.PLOT_BG, axisItems=axes)
    theme.style_plot(plot, left=left, bottom=bottom, title=title)
    item = plot.getPlotItem()
    font = QFont()
    font.setPointSize(9)
    for name in ("left", "bottom"):
        item.getAxis(name).setTickFont(font)
    # No grid: pyqtgraph draws it with the axes, and repainting long translucent lines on every
    # update was the largest cost of a live redraw (measured with benchmarks/gui_latency.py).
    item.setClipToView(True)
    item.setDownsampling(auto=True, mode="peak")
    plot.setToolTip(tooltip)
    return plot


def _faint(colour: str) -> QColor:
    """An opaque pale tint rather than alpha: blending costs time at every repaint."""
    base = QColor(colour)
    return QColor(*(int(255 - 0.4 * (255 - c)) for c in (base.red(), base.green(), base.blue())))


class TrainingPlots(QWidget):
    """Three plots, a smoothing slider, a loss-axis choice, a hover read-out, the run list."""

    exportRequested = Signal()
    scriptRequested = Signal(object)  # the selected run's RunRecord, or None: current settings
    clearRequested = Signal()  # the learner asked to forget the finished runs

    def __init__(self, history: RunHistory | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history if history is not None else RunHistory()  # the tab's state owns it
        self.curves: dict[int, dict[str, pg.PlotDataItem]] = {}
        self._dirty: set[int] = set()
        self._speed_dirty: set[int] = set()
        self._drawn_epochs: dict[int, int] = {}
        self._speed_ticks = 0
        self._loss_view: tuple[bool, float, float] | None = None
        self._speed_decades: tuple[int, int] | None = None
        self.redraw_count = 0

        self._build_plots()
        self._build_hover()
        controls = self._build_controls()
        runs_box = self._build_run_list()
        self._build_layout(controls, runs_box)
        self._show_empty()

        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()

    # -------------------------------------------------------------- building
    def _build_plots(self) -> None:
        self.loss_plot = _plot(
            "loss",
            "step (batches)",
            "Loss: train per batch, test per epoch",
            "Thin line: the loss of each reported batch (noisy, because every batch is a different\n"
            "sample of the data). Bold line: its moving average. Dots: the loss on the test set\n"
            "after each epoch. Test loss rising while train loss falls means over-fitting.",
        )
        self.loss_legend = self.loss_plot.addLegend(
            offset=(-10, 10), labelTextColor=theme.INK, brush=pg.mkBrush(255, 255, 255, 200)
        )
        self.placeholder = pg.TextItem(PLACEHOLDER, color=theme.MUTED, anchor=(0.5, 0.5))
        self.loss_plot.addItem(self.placeholder, ignoreBounds=True)
        self.acc_plot = _plot(
            "test accuracy (%)",
            "epoch",
            "Test accuracy",
            "Share of test digits classified correctly after each epoch.",
        )
        self.speed_plot = _plot(
            "samples / s",
            "step (batches)",
            "Training speed (smoothed)",
            f"Training samples processed per second (evaluation not counted), measured over\n"
            f"the last {SPEED_WINDOW} reports: a single report lasts a few milliseconds and swings\n"
            "with whatever else the machine does.",
            decades=True,
        )
        # Log scale: an MLP and a CNN differ by 10-50x, and overlaid runs should both be legible.
        self.speed_plot.setLogMode(x=False, y=True)
        self.speed_plot.getAxis("left").setStyle(maxTextLevel=0)  # label decades only
        for plot in (self.loss_plot, self.acc_plot, self.speed_plot):
            plot.getPlotItem().disableAutoRange()

    def _build_hover(self) -> None:
        self._hover_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(theme.FAINT))
        self._hover_line.setVisible(False)
        self.loss_plot.addItem(self._hover_line, ignoreBounds=True)
        self._proxies = [
            pg.SignalProxy(
                plot.scene().sigMouseMoved,
                rateLimit=30,
                slot=lambda args, p=plot: self._on_mouse_moved(p, args[0]),
            )
            for plot in (self.loss_plot, self.acc_plot, self.speed_plot)
        ]

    def _build_controls(self) -> CurveControls:
        self.controls = CurveControls(self.history.smoothing)
        for name in ("smoothing_slider", "smoothing_label", "scale_combo", "nonfinite_label"):
            setattr(self, name, getattr(self.controls, name))
        self.hover_label = self.controls.hover_label
        self.smoothing_slider.valueChanged.connect(self._on_smoothing_changed)
        self.scale_combo.currentIndexChanged.connect(self._on_scale_changed)
        return self.controls

    def _build_run_list(self) -> QWidget:
        self.run_list = RunListView(self.history)
        self.run_table = self.run_list.table
        self.run_list.visibilityChanged.connect(self.set_run_visible)
        self.run_list.exportRequested.connect(self.exportRequested)
        self.run_list.scriptRequested.connect(self.scriptRequested)
        self.run_list.clearRequested.connect(self.clearRequested)
        self.clear_button = self.run_list.clear_button
        return self.run_list

    def _build_layout(self, controls: QWidget, runs_box: QWidget) -> None:
        bottom_plots = QSplitter(Qt.Orientation.Horizontal)
        bottom_plots.addWidget(self.acc_plot)
        bottom_plots.addWidget(self.speed_plot)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.loss_plot)
        splitter.addWidget(bottom_plots)
        splitter.addWidget(runs_box)
        for index, stretch in enumerate((5, 3, 2)):
            splitter.setStretchFactor(index, stretch)
        splitter.setSizes([400, 220, 150])
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(controls)
        layout.addWidget(splitter, 1)

    def _show_empty(self, epochs: int | None = None) -> None:
        """Axes that read before any data: loss 0..2.5, accuracy 0..100 %, speed in decades."""
        epochs = epochs or TrainConfig().epochs
        self._set_loss_view(False, 0.0, EMPTY_LOSS_TOP)
        self.loss_plot.setXRange(0, EMPTY_STEPS, padding=0.02)
        self.speed_plot.setXRange(0, EMPTY_STEPS, padding=0.02)
        self._speed_decades = EMPTY_SPEED_DECADES
        self.speed_plot.setYRange(*EMPTY_SPEED_DECADES, padding=0)
        self._set_epoch_axis(epochs)
        self.acc_plot.setYRange(0, 100, padding=0)
        self.placeholder.setPos(EMPTY_STEPS / 2, EMPTY_LOSS_TOP / 2)
        self.placeholder.setVisible(not self.history.runs)

    # ------------------------------------------------------------------ runs
    @property
    def runs(self) -> list[RunRecord]:
        return self.history.runs

    @property
    def current(self) -> RunRecord | None:
        return self.history.current

    def colour_of(self, run: RunRecord) -> str:
        return colour_of(run)

    def start_run(self, started: RunStarted) -> RunRecord:
        """Start a run in the history and draw it (what the tab does through its state)."""
        return self.show_run(self.history.start_run(started))

    def show_run(self, run: RunRecord) -> RunRecord:
        """Curves for a run of the history, in its own colour (created once, filled by
        ``redraw``), and its row in the run list."""
        self.placeholder.setVisible(False)
        self.curves[run.number] = _make_curves(self, self.colour_of(run))
        for change in run.lr_changes:
            self.mark_lr_change(run, change)
        for curve in self.curves[run.number].values():
            curve.setVisible(run.visible)
        self._relabel_legend(run)
        self._fit_x()
        self.run_list.add_row(run)
        self._dirty.add(run.number)
        self._speed_dirty.add(run.number)
        return run

    def mark_lr_change(self, run: RunRecord | None, change: LrChanged) -> None:
        """A dashed line where ``run``'s learning rate changed, labelled with the new rate."""
        if run is not None and run.number in self.curves:
            mark = _lr_mark(change, self.colour_of(run))
            self.loss_plot.addItem(mark, ignoreBounds=True)
            self.curves[run.number][f"lr-{len(self.curves[run.number])}"] = mark

    def show_history(self) -> None:
        """Draw every run the history holds (the runs restored at start)."""
        for run in self.history.runs:
            if run.number not in self.curves:
                self.show_run(run)

    def curves_of(self, run: RunRecord) -> dict[str, pg.PlotDataItem]:
        return self.curves[run.number]

    def _relabel_legend(self, run: RunRecord) -> None:
        """Legend entries describe the line styles of the newest run; colours identify runs."""
        curves = self.curves[run.number]
        self.loss_legend.clear()
        self.loss_legend.addItem(curves["raw"], f"run {run.number}: train loss, per batch")
        self.loss_legend.addItem(curves["smoothed"], f"run {run.number}: train loss, smoothed")
        self.loss_legend.addItem(curves["test_loss"], f"run {run.number}: test loss, per epoch")

    def add_batches(self, block: BatchBlock) -> None:
        """Append a block of batch reports to the current run (cheap: numpy copies only)."""
        self.batches_added(self.history.add_batches(block))

    def batches_added(self, run: RunRecord | None) -> None:
        if run is not None:
            self._dirty.add(run.number)
            self._speed_dirty.add(run.number)

    def add_epoch(self, event: EpochEvent) -> None:
        self.run_changed(self.history.add_epoch(event))

    def end_run(self, ended: RunEnded) -> None:
        run = self.history.end_run(ended)
        self.run_changed(run)
        if run is not None:
            self._speed_dirty.add(run.number)

    def run_changed(self, run: RunRecord | None) -> None:
        """A run's row and curves follow its record (an epoch ended, the run ended)."""
        if run is not None:
            self.run_list.set_row(run)
            self._dirty.add(run.number)

    def clear_finished_runs(self) -> None:
        """Forget the finished runs (what the tab does through its state, which saves)."""
        self.forget_runs(self.history.clear_finished())

    def forget_runs(self, gone: list[RunRecord]) -> None:
        """Remove the curves of runs the history no longer holds."""
        for run in gone:
            for curve in self.curves.pop(run.number).values():
                if curve.getViewBox() is not None:
                    curve.getViewBox().removeItem(curve)
        self.run_list.rebuild()
        if not self.runs:
            self.loss_legend.clear()
            self._show_empty()
        else:
            self._fit_x()
        self._update_nonfinite_label()

    # ----------------------------------------------------------------- table
    def selected_run(self) -> RunRecord | None:
        return self.run_list.selected_run()

    def set_run_visible(self, run: RunRecord, visible: bool) -> None:
        run.visible = visible
        for curve in self.curves[run.number].values():
            curve.setVisible(visible)
        self._fit_x()

    # ------------------------------------------------------------------ axes
    def _set_epoch_axis(self, epochs: int) -> None:
        self.acc_plot.setXRange(0.5, epochs + 0.5, padding=0)
        step = max(1, math.ceil(epochs / 10))
        self.acc_plot.getAxis("bottom").setTicks(
            [[(e, str(e)) for e in range(1, epochs + 1, step)]]
        )

    def _fit_x(self) -> None:
        """Fix the x axes to the whole length of the visible runs.

        Known in advance from ``RunStarted``, so the axes do not rescale (and repaint their
        ticks) with every new point.
        """
        if not self.runs:
            return
        steps, epochs = self.history.extent()
        for plot in (self.loss_plot, self.speed_plot):
            plot.setXRange(0, steps, padding=0.02)
        self._set_epoch_axis(epochs)
        self._loss_view = None
        self._fit_loss_y()
        self._fit_accuracy_y()
        self._fit_speed_y()

    def loss_is_log(self, value_range: tuple[float, float] | None = None) -> bool:
        """Whether the loss axis is (to be) logarithmic, following the scale choice."""
        choice = self.scale_combo.currentData()
        if choice == "auto":
            return wants_log_scale(value_range or self.history.loss_range())
        return choice == "log"

    def _set_loss_view(self, log: bool, low: float, high: float) -> None:
        self._loss_view = (log, low, high)
        self.loss_plot.setLogMode(x=False, y=log)
        self.loss_plot.setYRange(low, high, padding=0)

    def _fit_loss_y(self) -> None:
        """Loss axis changed only when needed: auto-range would move it with every new point.

        Linear: 0 to just above the highest loss. Log: whole decades around the losses.
        """
        value_range = self.history.loss_range()
        if value_range is None:
            return
        log = self.loss_is_log(value_range)
        if log:
            low, high = decade_range(value_range)
        else:
            low, high = 0.0, value_range[1] * 1.05
        view = self._loss_view
        if (
            view is None
            or view[0] != log
            or high > view[2]
            or high < 0.6 * view[2]
            or low < view[1]
        ):
            self._set_loss_view(log, low, high)
            self._dirty.update(run.number for run in self.runs)  # log mode re-maps the data

    def _fit_accuracy_y(self) -> None:
        accuracies = [
            100 * e.test_accuracy for run in self.history.visible_runs for e in run.epochs
        ]
        low = min(accuracies, default=0.0)
        self.acc_plot.setYRange(max(0.0, 10 * math.floor((low - 2) / 10)), 100, padding=0.02)

    def _fit_speed_y(self) -> None:
        """Whole decades on the log axis, so 10^3, 10^4... labels are always shown."""
        decades = decade_range(self.history.speed_range()) or EMPTY_SPEED_DECADES
        if decades != self._speed_decades:
            self._speed_decades = decades
            self.speed_plot.setYRange(*decades, padding=0)

    def _on_scale_changed(self) -> None:
        self._loss_view = None
        self._fit_loss_y()

    # ---------------------------------------------------------------- redraw
    def _on_smoothing_changed(self, value: int) -> None:
        self.history.set_smoothing(value / 100)
        self._dirty.update(run.number for run in self.runs)

    def redraw(self) -> None:
        """Push changed buffers into their curves; called by the timer, cheap when idle."""
        self._redraw_speed()
        if not self._dirty:
            return
        self._fit_loss_y()
        dirty, self._dirty = self._dirty, set()
        for run in self.runs:
            if run.number in dirty:
                self._redraw_run(run)
        self._update_nonfinite_label()
        self.redraw_count += 1

    def _redraw_run(self, run: RunRecord) -> None:
        curves = self.curves[run.number]
        steps = run.steps.view
        # The finite check is skipped only for clean data on a linear axis (FACTS: Live plots);
        # otherwise NaN/inf points are left out and the line breaks there.
        clean = run.nonfinite_losses == 0 and not (self._loss_view and self._loss_view[0])
        connect = "all" if clean else "finite"
        curves["raw"].setData(steps, run.losses.view, skipFiniteCheck=clean, connect=connect)
        curves["smoothed"].setData(steps, run.smoothed.view, connect=connect)
        if len(run.epochs) != self._drawn_epochs.get(run.number, 0) or not clean:
            self._drawn_epochs[run.number] = len(run.epochs)
            epoch_x = np.array([e.epoch * run.steps_per_epoch for e in run.epochs], float)
            test_loss = np.array([e.test_loss for e in run.epochs], float)
            keep = np.isfinite(test_loss)
            curves["test_loss"].setData(epoch_x[keep], test_loss[keep])
            curves["accuracy"].setData(
                np.array([e.epoch for e in run.epochs], float),
                [100 * e.test_accuracy for e in run.epochs],
            )
            self._fit_accuracy_y()

    def _update_nonfinite_label(self) -> None:
        self.controls.show_nonfinite(self.runs)

    def _redraw_speed(self) -> None:
        self._speed_ticks += 1
        if not self._speed_dirty:
            return
        current = self.current
        if self._speed_ticks % SPEED_EVERY and current is not None and current.status == "running":
            return
        for run in self.runs:
            if run.number in self._speed_dirty:
                self.curves[run.number]["speed"].setData(run.steps.view, run.speed_smoothed.view)
        self._speed_dirty.clear()
        self._fit_speed_y()

    def point_count(self) -> int:
        """Loss points drawn for the current run (what the tests look at)."""
        run = self.current
        if run is None:
            return 0
        x, _ = self.curves[run.number]["raw"].getData()
        return 0 if x is None else len(x)

    # ----------------------------------------------------------------- hover
    def _on_mouse_moved(self, plot: pg.PlotWidget, pos) -> None:  # noqa: ANN001
        item = plot.getPlotItem()
        if not item.sceneBoundingRect().contains(pos):
            return
        x = item.vb.mapSceneToView(pos).x()
        self.hover_label.setText(self.readout(plot, x))
        if plot is self.loss_plot:
            self._hover_line.setPos(x)
            self._hover_line.setVisible(True)

    def readout(self, plot: pg.PlotWidget, x: float) -> str:
        """Values of every visible run nearest to ``x`` on ``plot``, as sentences."""
        kind = {id(self.acc_plot): "accuracy", id(self.speed_plot): "speed"}.get(id(plot), "loss")
        return readout_text(kind, self.history.visible_runs, x)


def _make_curves(plots: TrainingPlots, colour: str) -> dict[str, pg.PlotDataItem]:
    """One run's curves on the three plots, created once (``redraw`` fills them)."""
    base = QColor(colour)
    curves = {
        "raw": plots.loss_plot.plot(pen=pg.mkPen(_faint(colour), width=1)),
        "smoothed": plots.loss_plot.plot(pen=pg.mkPen(base, width=2.5)),
        "test_loss": plots.loss_plot.plot(
            pen=pg.mkPen(base, width=1.5, style=Qt.PenStyle.DashLine),
            symbol="o",
            symbolSize=9,
            symbolBrush=base,
            symbolPen=pg.mkPen(theme.PLOT_BG),
        ),
        "accuracy": plots.acc_plot.plot(
            pen=pg.mkPen(base, width=2.5), symbol="o", symbolSize=9, symbolBrush=base
        ),
        "speed": plots.speed_plot.plot(pen=pg.mkPen(base, width=1.5)),
    }
    for key in ("raw", "smoothed", "speed"):
        curves[key].setDownsampling(auto=True, method="peak")
        curves[key].setClipToView(True)
    return curves


def _lr_mark(change: LrChanged, colour: str) -> pg.InfiniteLine:
    """The mark of a mid-run learning-rate change on the loss plot (issue 26)."""
    return pg.InfiniteLine(
        pos=change.step,
        angle=90,
        movable=False,
        pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine),
        label=f"lr → {change.lr:g}",
        labelOpts={"position": 0.92, "color": colour, "anchors": [(0, 0), (0, 0)]},
    )
