"""Live training curves: loss per batch (raw and smoothed), test loss/accuracy per epoch, speed.

This module only draws: what is drawn lives in ``core.training.run_history.RunHistory`` (buffers,
smoothing, CSV). pyqtgraph's habits for live data (examples/scrollingPlots.py): every curve
object is created once per run, and a ``QTimer`` calls ``setData`` at most 5 times a second and
only for the runs that changed, whatever the batch rate.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSlider,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
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
from core.training.train_types import EpochEvent, RunEnded, RunStarted, TrainConfig
from gui import theme

# 5 redraws a second look live and cost half of 10: a repaint runs in the GUI thread holding the
# GIL (pyqtgraph paints in Python), and the training thread needs the GIL between torch ops.
REDRAW_INTERVAL_MS = 200
SPEED_EVERY = 5  # the speed plot changes slowly: redraw it every 5th redraw (once a second)
EMPTY_SPEED_DECADES = (2, 5)  # 100 to 100,000 samples/s: where CPU and GPU runs land
EMPTY_LOSS_TOP = 2.5  # just above ln(10), the loss of a network that guesses
EMPTY_STEPS = 100  # whole steps on an empty axis, not 0.2 of a batch
LOSS_SCALES = {
    "auto": "auto (log when one run dwarfs the others)",
    "linear": "linear",
    "log": "log",
}
RUN_COLUMNS = ["Run", "Model", "Loss", "Optimizer", "Batch", "Data", "Status", "Test acc."]
PLACEHOLDER = "Press Start (Ctrl+Enter) to train: the curves appear here as the network learns."


def _plot(left: str, bottom: str, title: str, tooltip: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(background=theme.PLOT_BG)
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

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = RunHistory()
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
        )
        # Log scale: an MLP and a CNN differ by 10-50x, and overlaid runs should both be legible.
        self.speed_plot.setLogMode(x=False, y=True)
        self.speed_plot.getAxis("left").setStyle(maxTextLevel=0)  # label decades only
        for plot in (self.loss_plot, self.acc_plot, self.speed_plot):
            plot.getPlotItem().disableAutoRange()

    def _build_hover(self) -> None:
        self.hover_label = QLabel("Move the mouse over a plot to read values.")
        self.hover_label.setObjectName("hoverReadout")
        self.hover_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
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

    def _build_controls(self) -> QHBoxLayout:
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(int(round(self.history.smoothing * 100)))
        self.smoothing_slider.setMaximumWidth(180)
        self.smoothing_slider.setToolTip(
            "Exponential moving average of the batch loss: each point of the bold line is\n"
            "smoothing x previous + (1 - smoothing) x this batch. 0 = raw, 0.99 = very smooth\n"
            "(and slow to follow real changes)."
        )
        self.smoothing_label = QLabel()
        self.smoothing_slider.valueChanged.connect(self._on_smoothing_changed)
        self._update_smoothing_label()
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
        self.scale_combo.currentIndexChanged.connect(self._on_scale_changed)
        self.nonfinite_label = QLabel()
        self.nonfinite_label.setStyleSheet(theme.text_style(theme.NOTE))
        self.nonfinite_label.setVisible(False)
        controls = QHBoxLayout()
        for text, widget in (
            ("Smoot&hing", self.smoothing_slider),
            ("Loss a&xis", self.scale_combo),
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            controls.addWidget(label)
            controls.addWidget(widget)
            if widget is self.smoothing_slider:
                controls.addWidget(self.smoothing_label)
            controls.addSpacing(8)
        controls.addWidget(self.nonfinite_label)
        controls.addWidget(self.hover_label, 1)
        return controls

    def _build_run_list(self) -> QWidget:
        self.run_table = QTableWidget(0, len(RUN_COLUMNS))
        self.run_table.setHorizontalHeaderLabels(RUN_COLUMNS)
        self.run_table.verticalHeader().setVisible(False)
        self.run_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.run_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.run_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.run_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.run_table.setToolTip(
            "Tick a run (or select it and press Space) to overlay its curves; each run keeps its "
            "colour."
        )
        self.run_table.itemChanged.connect(self._on_run_item_changed)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setShortcut(QKeySequence("Ctrl+E"))
        self.export_button.setToolTip(
            "Save every run's curves as one CSV file, one row per point (Ctrl+E)."
        )
        self.export_button.clicked.connect(self.exportRequested)
        self.script_button = QPushButton("Export as &script…")
        self.script_button.setToolTip(
            "Write the selected run (or, with none selected, the current settings) as one\n"
            "standalone PyTorch script: the same model, loss, optimizer and seed, with only\n"
            "torch and torchvision. Run it with python, or on several GPUs with torchrun."
        )
        self.script_button.clicked.connect(lambda: self.scriptRequested.emit(self.selected_run()))
        self.clear_button = QPushButton("C&lear old runs")
        self.clear_button.setToolTip("Forget every finished run and its curves.")
        self.clear_button.clicked.connect(self.clear_finished_runs)
        runs_box = QWidget()
        runs_layout = QVBoxLayout(runs_box)
        runs_layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("<b>Runs</b> (tick to overlay)"))
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.script_button)
        buttons.addWidget(self.export_button)
        runs_layout.addLayout(buttons)
        runs_layout.addWidget(self.run_table)
        return runs_box

    def _build_layout(self, controls: QHBoxLayout, runs_box: QWidget) -> None:
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
        layout.addLayout(controls)
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

    @property
    def smoothing(self) -> float:
        return self.history.smoothing

    def colour_of(self, run: RunRecord) -> str:
        return theme.RUN_COLOURS[(run.number - 1) % len(theme.RUN_COLOURS)]

    def start_run(self, started: RunStarted) -> RunRecord:
        """A new run with its own colour and curves (created once, filled by ``redraw``)."""
        run = self.history.start_run(started)
        self.placeholder.setVisible(False)
        self.curves[run.number] = self._make_curves(self.colour_of(run))
        self._relabel_legend(run)
        self._fit_x()
        self._add_table_row(run)
        self._dirty.add(run.number)
        return run

    def _make_curves(self, colour: str) -> dict[str, pg.PlotDataItem]:
        base = QColor(colour)
        curves = {
            "raw": self.loss_plot.plot(pen=pg.mkPen(_faint(colour), width=1)),
            "smoothed": self.loss_plot.plot(pen=pg.mkPen(base, width=2.5)),
            "test_loss": self.loss_plot.plot(
                pen=pg.mkPen(base, width=1.5, style=Qt.PenStyle.DashLine),
                symbol="o",
                symbolSize=9,
                symbolBrush=base,
                symbolPen=pg.mkPen(theme.PLOT_BG),
            ),
            "accuracy": self.acc_plot.plot(
                pen=pg.mkPen(base, width=2.5), symbol="o", symbolSize=9, symbolBrush=base
            ),
            "speed": self.speed_plot.plot(pen=pg.mkPen(base, width=1.5)),
        }
        for key in ("raw", "smoothed", "speed"):
            curves[key].setDownsampling(auto=True, method="peak")
            curves[key].setClipToView(True)
        return curves

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
        run = self.history.add_batches(block)
        if run is not None:
            self._dirty.add(run.number)
            self._speed_dirty.add(run.number)

    def add_epoch(self, event: EpochEvent) -> None:
        run = self.history.add_epoch(event)
        if run is not None:
            self._set_row(run)
            self._dirty.add(run.number)

    def end_run(self, ended: RunEnded) -> None:
        run = self.history.end_run(ended)
        if run is not None:
            self._set_row(run)
            self._dirty.add(run.number)
            self._speed_dirty.add(run.number)

    def clear_finished_runs(self) -> None:
        for run in self.history.clear_finished():
            for curve in self.curves.pop(run.number).values():
                if curve.getViewBox() is not None:
                    curve.getViewBox().removeItem(curve)
        self.run_table.setRowCount(0)
        for run in self.runs:
            self._add_table_row(run)
        if not self.runs:
            self.loss_legend.clear()
            self._show_empty()
        else:
            self._fit_x()
        self._update_nonfinite_label()

    # ----------------------------------------------------------------- table
    def _add_table_row(self, run: RunRecord) -> None:
        row = self.run_table.rowCount()
        self.run_table.blockSignals(True)
        self.run_table.insertRow(row)
        self.run_table.blockSignals(False)
        self._set_row(run)

    def _set_row(self, run: RunRecord) -> None:
        row = next(i for i, r in enumerate(self.runs) if r is run)
        c = run.config
        acc = run.accuracy
        momentum = f" m={c.momentum:g}" if c.optimizer == "sgd" else ""
        cells = [
            f"#{run.number}",
            c.model,
            c.loss,
            f"{c.optimizer} lr={c.lr:g}{momentum}",
            str(c.batch_size),
            f"{run.dataset}, {c.epochs} ep, seed {c.seed}",
            run.status_text,
            f"{acc:.2%}" if acc is not None else "—",
        ]
        self.run_table.blockSignals(True)
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            if col == 0:
                self._style_run_cell(item, run)
            if col == 6 and run.status_text == "stopped, scored":
                item.setToolTip(
                    "Stopped early; the model as it was then was scored on the test set."
                )
            self.run_table.setItem(row, col, item)
        self.run_table.blockSignals(False)

    def _style_run_cell(self, item: QTableWidgetItem, run: RunRecord) -> None:
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if run.visible else Qt.CheckState.Unchecked)
        item.setForeground(QColor(self.colour_of(run)))
        bold = QFont()
        bold.setBold(True)
        item.setFont(bold)
        item.setToolTip(f"{run.label}\ndevice: {run.device}")

    def selected_run(self) -> RunRecord | None:
        rows = self.run_table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.runs):
            return None
        return self.runs[rows[0].row()]

    def _on_run_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 0 or item.row() >= len(self.runs):
            return
        self.set_run_visible(self.runs[item.row()], item.checkState() == Qt.CheckState.Checked)

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
        self._update_smoothing_label()
        self._dirty.update(run.number for run in self.runs)

    def _update_smoothing_label(self) -> None:
        self.smoothing_label.setText(f"{self.history.smoothing:.2f}")

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
        bad = [(run.number, run.nonfinite_losses) for run in self.runs if run.nonfinite_losses]
        text = ", ".join(f"run #{n}: {count:,}" for n, count in bad)
        self.nonfinite_label.setText(f"⚠ NaN/inf losses not drawn ({text})" if bad else "")
        self.nonfinite_label.setToolTip(
            "These batches' losses are not finite numbers (the run diverged: try a smaller\n"
            "learning rate); the curve has a gap where they are."
        )
        self.nonfinite_label.setVisible(bool(bad))

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
        """Values of every visible run nearest to ``x`` on ``plot``, as one line of text."""
        parts = [self._run_readout(plot, run, x) for run in self.history.visible_runs]
        parts = [p for p in parts if p]
        return "   ".join(parts) if parts else "no data here yet"

    def _run_readout(self, plot: pg.PlotWidget, run: RunRecord, x: float) -> str:
        if plot is self.acc_plot:
            if not run.epochs:
                return ""
            event = min(run.epochs, key=lambda e: abs(e.epoch - x))
            return (
                f"#{run.number} epoch {event.epoch}: acc {event.test_accuracy:.2%}, "
                f"test loss {event.test_loss:.4f}"
            )
        i = run.nearest_index(x)
        if i is None:
            return ""
        step = int(run.steps.view[i])
        if plot is self.speed_plot:
            return (
                f"#{run.number} step {step}: {run.speed_smoothed.view[i]:,.0f} samples/s "
                f"(this report {run.speed.view[i]:,.0f})"
            )
        return (
            f"#{run.number} step {step}: loss {run.losses.view[i]:.4f} "
            f"(smoothed {run.smoothed.view[i]:.4f})"
        )

    # ------------------------------------------------------------------ CSV
    def csv_text(self) -> str:
        return self.history.csv_text()

    def export_csv(self, path: str | os.PathLike[str]) -> Path:
        return self.history.export_csv(path)
