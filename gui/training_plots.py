"""Live training curves: loss per batch (raw and smoothed), test loss/accuracy per epoch, speed.

pyqtgraph's habits for live data (examples/scrollingPlots.py): every curve object is created once,
data goes into preallocated numpy buffers that double when full, and a ``QTimer`` calls
``setData`` at most 5 times a second and only when something changed, whatever the batch rate.
Runs are kept: each run has its own colour and curves, shown or hidden from the run list.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
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

from core.atomic import write_text_atomic
from core.train_types import EpochEvent, RunEnded, RunStarted, TrainConfig
from gui.train_worker import BatchBlock

# 5 redraws a second look live and cost half of 10: a repaint runs in the GUI thread holding the
# GIL (pyqtgraph paints in Python), and the training thread needs the GIL between torch ops.
REDRAW_INTERVAL_MS = 200
SPEED_EVERY = 5  # the speed plot changes slowly: redraw it every 5th redraw (once a second)
RUN_COLOURS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#e377c2",
    "#8c564b",
)
AXIS_COLOUR = "#333333"


class GrowingArray:
    """A float64 buffer that appends in place and doubles its capacity when full."""

    def __init__(self, capacity: int = 1024) -> None:
        self._data = np.empty(capacity, dtype=np.float64)
        self.size = 0

    def extend(self, values: list[float] | np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        needed = self.size + len(values)
        if needed > len(self._data):
            bigger = np.empty(max(needed, 2 * len(self._data)), dtype=np.float64)
            bigger[: self.size] = self._data[: self.size]
            self._data = bigger
        self._data[self.size : needed] = values
        self.size = needed

    @property
    def view(self) -> np.ndarray:
        """The filled part, without a copy (valid until the next ``extend``)."""
        return self._data[: self.size]

    def __len__(self) -> int:
        return self.size


class _EmaState:
    """Debiased exponential moving average (TensorBoard's): starts at the first value, not 0."""

    def __init__(self, smoothing: float) -> None:
        self.smoothing = smoothing
        self.value = 0.0
        self.count = 0

    def update(self, x: float) -> float:
        if not math.isfinite(x):
            return self.value / (1 - self.smoothing**self.count) if self.count else x
        self.count += 1
        self.value = self.smoothing * self.value + (1 - self.smoothing) * x
        return self.value / (1 - self.smoothing**self.count)


@dataclass
class RunRecord:
    """Everything plotted for one run, and what the run list says about it."""

    number: int
    colour: str
    config: TrainConfig
    dataset: str = ""
    device: str = ""
    steps_per_epoch: int = 1
    total_steps: int = 1
    drawn_epochs: int = 0  # epoch points already pushed to their curves
    status: str = "running"
    final_accuracy: float | None = None
    steps: GrowingArray = field(default_factory=GrowingArray)
    losses: GrowingArray = field(default_factory=GrowingArray)
    smoothed: GrowingArray = field(default_factory=GrowingArray)
    speed: GrowingArray = field(default_factory=GrowingArray)
    epochs: list[EpochEvent] = field(default_factory=list)
    visible: bool = True
    curves: dict[str, pg.PlotDataItem] = field(default_factory=dict)

    @property
    def label(self) -> str:
        c = self.config
        return f"#{self.number} {c.model} {c.loss} {c.optimizer} lr={c.lr:g} bs={c.batch_size}"


def _style_plot(plot: pg.PlotWidget, left: str, bottom: str, title: str) -> None:
    item = plot.getPlotItem()
    font = QFont()
    font.setPointSize(9)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(AXIS_COLOUR))
        axis.setTextPen(pg.mkPen(AXIS_COLOUR))
        axis.setTickFont(font)
    label_style = {"color": AXIS_COLOUR, "font-size": "10pt"}
    item.setLabel("left", left, **label_style)
    item.setLabel("bottom", bottom, **label_style)
    item.setTitle(title, color=AXIS_COLOUR, size="11pt")
    # No grid: pyqtgraph draws it with the axes, and repainting long translucent lines on every
    # update was the largest cost of a live redraw (measured with benchmarks/gui_latency.py).
    item.setClipToView(True)
    item.setDownsampling(auto=True, mode="peak")
    item.setMenuEnabled(True)


class TrainingPlots(QWidget):
    """Three plots, a smoothing slider, a hover read-out, the run list and CSV export."""

    exportRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs: list[RunRecord] = []
        self._dirty: set[int] = set()
        self._speed_dirty: set[int] = set()
        self._speed_ticks = 0
        self._loss_top: float | None = None
        self._speed_decades: tuple[int, int] | None = None
        self._ema_states: dict[int, _EmaState] = {}
        self.smoothing = 0.6

        self.loss_plot = pg.PlotWidget(background="w")
        _style_plot(
            self.loss_plot, "loss", "step (batches)", "Loss: train per batch, test per epoch"
        )
        self.loss_legend = self.loss_plot.addLegend(
            offset=(-10, 10), labelTextColor=AXIS_COLOUR, brush=pg.mkBrush(255, 255, 255, 200)
        )
        self.acc_plot = pg.PlotWidget(background="w")
        _style_plot(self.acc_plot, "test accuracy (%)", "epoch", "Test accuracy")
        self.speed_plot = pg.PlotWidget(background="w")
        _style_plot(self.speed_plot, "samples / s", "step (batches)", "Training speed")
        # Log scale: an MLP and a CNN differ by 10-50x, and overlaid runs should both be legible.
        self.speed_plot.setLogMode(x=False, y=True)
        self.speed_plot.getAxis("left").setStyle(maxTextLevel=0)  # label decades only
        self.loss_plot.setToolTip(
            "Thin line: the loss of each reported batch (noisy, because every batch is a different\n"
            "sample of the data). Bold line: its moving average. Dots: the loss on the test set\n"
            "after each epoch. Test loss rising while train loss falls means over-fitting."
        )
        self.acc_plot.setToolTip("Share of test digits classified correctly after each epoch.")
        self.speed_plot.setToolTip(
            "Training samples processed per second (evaluation not counted)."
        )

        # Legend entries describe the line styles of the newest run; colours identify runs.
        self._legend_keys: list[pg.PlotDataItem] = []

        self.hover_label = QLabel("Move the mouse over a plot to read values.")
        self.hover_label.setObjectName("hoverReadout")
        self.hover_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._hover_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888", width=1))
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

        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setValue(int(self.smoothing * 100))
        self.smoothing_slider.setMaximumWidth(220)
        self.smoothing_slider.setToolTip(
            "Exponential moving average of the batch loss: each point of the bold line is\n"
            "smoothing x previous + (1 - smoothing) x this batch. 0 = raw, 0.99 = very smooth\n"
            "(and slow to follow real changes)."
        )
        self.smoothing_label = QLabel()
        self.smoothing_slider.valueChanged.connect(self._on_smoothing_changed)
        self._update_smoothing_label()

        self.run_table = QTableWidget(0, 8)
        self.run_table.setHorizontalHeaderLabels(
            ["Run", "Model", "Loss", "Optimizer", "Batch", "Data", "Status", "Test acc."]
        )
        self.run_table.verticalHeader().setVisible(False)
        self.run_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.run_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.run_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.run_table.setToolTip("Tick a run to overlay its curves; each run keeps its colour.")
        self.run_table.itemChanged.connect(self._on_run_item_changed)

        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip(
            "Save every run's curves as one CSV file (one row per point)."
        )
        self.export_button.clicked.connect(self.exportRequested)
        self.clear_button = QPushButton("Clear old runs")
        self.clear_button.setToolTip("Forget every finished run and its curves.")
        self.clear_button.clicked.connect(self.clear_finished_runs)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Smoothing"))
        controls.addWidget(self.smoothing_slider)
        controls.addWidget(self.smoothing_label)
        controls.addSpacing(12)
        controls.addWidget(self.hover_label, 1)

        bottom_plots = QSplitter(Qt.Orientation.Horizontal)
        bottom_plots.addWidget(self.acc_plot)
        bottom_plots.addWidget(self.speed_plot)

        runs_box = QWidget()
        runs_layout = QVBoxLayout(runs_box)
        runs_layout.setContentsMargins(0, 0, 0, 0)
        runs_buttons = QHBoxLayout()
        runs_title = QLabel("<b>Runs</b> (tick to overlay)")
        runs_buttons.addWidget(runs_title)
        runs_buttons.addStretch(1)
        runs_buttons.addWidget(self.clear_button)
        runs_buttons.addWidget(self.export_button)
        runs_layout.addLayout(runs_buttons)
        runs_layout.addWidget(self.run_table)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.loss_plot)
        splitter.addWidget(bottom_plots)
        splitter.addWidget(runs_box)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 2)
        splitter.setSizes([400, 220, 150])
        self.splitter = splitter

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(splitter, 1)

        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_INTERVAL_MS)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()
        self.redraw_count = 0

    # ------------------------------------------------------------------ runs
    @property
    def current(self) -> RunRecord | None:
        return self.runs[-1] if self.runs else None

    def start_run(self, started: RunStarted) -> RunRecord:
        """A new run with its own colour and curves (created once, filled by ``redraw``)."""
        number = (self.runs[-1].number + 1) if self.runs else 1
        colour = RUN_COLOURS[(number - 1) % len(RUN_COLOURS)]
        run = RunRecord(
            number=number,
            colour=colour,
            config=started.config,
            dataset=started.dataset,
            device=started.device,
            steps_per_epoch=max(1, started.steps_per_epoch),
            total_steps=max(1, started.total_steps),
        )
        base = QColor(colour)
        # An opaque pale tint rather than alpha: blending costs time at every repaint.
        faint = QColor(
            *(int(255 - 0.4 * (255 - c)) for c in (base.red(), base.green(), base.blue()))
        )
        run.curves["raw"] = self.loss_plot.plot(pen=pg.mkPen(faint, width=1), skipFiniteCheck=True)
        run.curves["smoothed"] = self.loss_plot.plot(pen=pg.mkPen(base, width=2.5))
        run.curves["test_loss"] = self.loss_plot.plot(
            pen=pg.mkPen(base, width=1.5, style=Qt.PenStyle.DashLine),
            symbol="o",
            symbolSize=9,
            symbolBrush=base,
            symbolPen=pg.mkPen("w"),
        )
        run.curves["accuracy"] = self.acc_plot.plot(
            pen=pg.mkPen(base, width=2.5), symbol="o", symbolSize=9, symbolBrush=base
        )
        run.curves["speed"] = self.speed_plot.plot(pen=pg.mkPen(base, width=1))
        for key in ("raw", "smoothed", "speed"):
            run.curves[key].setDownsampling(auto=True, method="peak")
            run.curves[key].setClipToView(True)
        self.runs.append(run)
        self._ema_states[run.number] = _EmaState(self.smoothing)
        self._relabel_legend(run)
        self._fit_x()
        self._add_table_row(run)
        self._dirty.add(run.number)
        return run

    def _relabel_legend(self, run: RunRecord) -> None:
        self.loss_legend.clear()
        self.loss_legend.addItem(run.curves["raw"], f"run {run.number}: train loss, per batch")
        self.loss_legend.addItem(run.curves["smoothed"], f"run {run.number}: train loss, smoothed")
        self.loss_legend.addItem(run.curves["test_loss"], f"run {run.number}: test loss, per epoch")

    def add_batches(self, block: BatchBlock) -> None:
        """Append a block of batch reports to the current run (cheap: numpy copies only)."""
        run = self.current
        if run is None or not len(block):
            return
        run.steps.extend(block.steps)
        run.losses.extend(block.losses)
        run.speed.extend(block.samples_per_second)
        state = self._ema_states[run.number]
        run.smoothed.extend([state.update(x) for x in block.losses])
        self._dirty.add(run.number)
        self._speed_dirty.add(run.number)

    def add_epoch(self, event: EpochEvent) -> None:
        run = self.current
        if run is None:
            return
        run.epochs.append(event)
        self._set_row(run)
        self._dirty.add(run.number)

    def end_run(self, ended: RunEnded) -> None:
        run = self.current
        if run is None or run.status != "running":
            return
        run.status = ended.status
        self._speed_dirty.add(run.number)
        result = ended.result
        if result is not None and result.evaluation is not None:
            run.final_accuracy = result.evaluation.accuracy
        elif run.epochs:
            run.final_accuracy = run.epochs[-1].test_accuracy
        self._set_row(run)
        self._dirty.add(run.number)

    def clear_finished_runs(self) -> None:
        keep = [r for r in self.runs if r.status == "running"]
        for run in self.runs:
            if run in keep:
                continue
            for curve in run.curves.values():
                curve.getViewBox().removeItem(curve) if curve.getViewBox() else None
        self.runs = keep
        self.run_table.setRowCount(0)
        for run in keep:
            self._add_table_row(run)
        if not keep:
            self.loss_legend.clear()

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
        acc = run.final_accuracy
        if acc is None and run.epochs:
            acc = run.epochs[-1].test_accuracy
        optimizer = f"{c.optimizer} lr={c.lr:g}" + (
            f" m={c.momentum:g}" if c.optimizer == "sgd" else ""
        )
        cells = [
            f"#{run.number}",
            c.model,
            c.loss,
            optimizer,
            str(c.batch_size),
            f"{run.dataset}, {c.epochs} ep, seed {c.seed}",
            run.status,
            f"{acc:.2%}" if acc is not None else "—",
        ]
        self.run_table.blockSignals(True)
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            if col == 0:
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(
                    Qt.CheckState.Checked if run.visible else Qt.CheckState.Unchecked
                )
                item.setForeground(QColor(run.colour))
                bold = QFont()
                bold.setBold(True)
                item.setFont(bold)
                item.setToolTip(f"{run.label}\ndevice: {run.device}")
            self.run_table.setItem(row, col, item)
        self.run_table.blockSignals(False)

    def _on_run_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 0 or item.row() >= len(self.runs):
            return
        self.set_run_visible(self.runs[item.row()], item.checkState() == Qt.CheckState.Checked)

    def set_run_visible(self, run: RunRecord, visible: bool) -> None:
        run.visible = visible
        for curve in run.curves.values():
            curve.setVisible(visible)
        self._fit_x()

    def _fit_x(self) -> None:
        """Fix the x axes to the whole length of the visible runs.

        Known in advance from ``RunStarted``, so the axes do not rescale (and repaint their
        ticks) with every new point; y keeps auto-ranging.
        """
        shown = [r for r in self.runs if r.visible] or self.runs
        if not shown:
            return
        steps = max(r.total_steps for r in shown)
        epochs = max(r.config.epochs for r in shown)
        for plot in (self.loss_plot, self.speed_plot):
            plot.setXRange(0, steps, padding=0.02)
        self._speed_decades = None
        self._loss_top = None
        self._fit_loss_y()
        self.acc_plot.setXRange(0.5, epochs + 0.5, padding=0)
        self.acc_plot.enableAutoRange(y=True)
        step = max(1, math.ceil(epochs / 10))
        self.acc_plot.getAxis("bottom").setTicks(
            [[(e, str(e)) for e in range(1, epochs + 1, step)]]
        )

    # ---------------------------------------------------------------- redraw
    def _on_smoothing_changed(self, value: int) -> None:
        self.smoothing = value / 100
        self._update_smoothing_label()
        for run in self.runs:
            state = _EmaState(self.smoothing)
            values = np.array([state.update(float(v)) for v in run.losses.view])
            run.smoothed = GrowingArray(max(1024, len(values)))
            run.smoothed.extend(values)
            self._ema_states[run.number] = state
            self._dirty.add(run.number)

    def _update_smoothing_label(self) -> None:
        self.smoothing_label.setText(f"{self.smoothing:.2f}")

    def redraw(self) -> None:
        """Push changed buffers into their curves; called by the timer, cheap when idle."""
        self._redraw_speed()
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, set()
        for run in self.runs:
            if run.number not in dirty:
                continue
            steps = run.steps.view
            run.curves["raw"].setData(steps, run.losses.view, skipFiniteCheck=True)
            run.curves["smoothed"].setData(steps, run.smoothed.view)
            if len(run.epochs) != run.drawn_epochs:
                run.drawn_epochs = len(run.epochs)
                epoch_x = np.array([e.epoch * run.steps_per_epoch for e in run.epochs], float)
                run.curves["test_loss"].setData(epoch_x, [e.test_loss for e in run.epochs])
                run.curves["accuracy"].setData(
                    np.array([e.epoch for e in run.epochs], float),
                    [100 * e.test_accuracy for e in run.epochs],
                )
        self._fit_loss_y()
        self.redraw_count += 1

    def _fit_loss_y(self) -> None:
        """Loss axis from 0 to just above the highest visible loss, changed only when needed.

        Auto-range would move the axis with every new point and repaint its ticks each time;
        losses are never negative, so only the top needs care.
        """
        tops = []
        for run in self.runs:
            if run.visible and len(run.losses):
                values = run.losses.view
                finite = values[np.isfinite(values)]
                if len(finite):
                    tops.append(float(finite.max()))
            if run.visible and run.epochs:
                tests = [e.test_loss for e in run.epochs if math.isfinite(e.test_loss)]
                tops.extend(tests)
        if not tops:
            return
        top = max(tops) * 1.05 or 1.0
        current = self._loss_top
        if current is None or top > current or top < 0.6 * current:
            self._loss_top = top
            self.loss_plot.setYRange(0, top, padding=0)

    def _redraw_speed(self) -> None:
        self._speed_ticks += 1
        if not self._speed_dirty:
            return
        current = self.current
        if self._speed_ticks % SPEED_EVERY and current is not None and current.status == "running":
            return
        for run in self.runs:
            if run.number in self._speed_dirty:
                run.curves["speed"].setData(run.steps.view, run.speed.view)
        self._speed_dirty.clear()
        self._fit_speed_y()

    def _fit_speed_y(self) -> None:
        """Whole decades on the log axis, so 10^3, 10^4... labels are always shown."""
        lows, highs = [], []
        for run in self.runs:
            values = run.speed.view
            values = values[np.isfinite(values) & (values > 0)]
            if run.visible and len(values):
                lows.append(float(values.min()))
                highs.append(float(values.max()))
        if not lows:
            return
        decades = (math.floor(math.log10(min(lows))), math.ceil(math.log10(max(highs))))
        if decades[1] == decades[0]:
            decades = (decades[0], decades[0] + 1)
        if decades != self._speed_decades:
            self._speed_decades = decades
            self.speed_plot.setYRange(*decades, padding=0)

    def point_count(self) -> int:
        """Loss points drawn for the current run (what the tests look at)."""
        run = self.current
        if run is None:
            return 0
        x, _ = run.curves["raw"].getData()
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
        parts = []
        for run in self.runs:
            if not run.visible:
                continue
            if plot is self.acc_plot:
                if not run.epochs:
                    continue
                event = min(run.epochs, key=lambda e: abs(e.epoch - x))
                parts.append(
                    f"#{run.number} epoch {event.epoch}: acc {event.test_accuracy:.2%}, "
                    f"test loss {event.test_loss:.4f}"
                )
                continue
            if not len(run.steps):
                continue
            steps = run.steps.view
            i = int(np.clip(np.searchsorted(steps, x), 0, len(steps) - 1))
            if i > 0 and abs(steps[i - 1] - x) < abs(steps[i] - x):
                i -= 1
            if plot is self.speed_plot:
                parts.append(
                    f"#{run.number} step {int(steps[i])}: {run.speed.view[i]:,.0f} samples/s"
                )
            else:
                parts.append(
                    f"#{run.number} step {int(steps[i])}: loss {run.losses.view[i]:.4f} "
                    f"(smoothed {run.smoothed.view[i]:.4f})"
                )
        return "   ".join(parts) if parts else "no data here yet"

    # ------------------------------------------------------------------ CSV
    def csv_text(self) -> str:
        """Every run's points: one row per batch report and one per epoch."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(
            [
                "run",
                "model",
                "loss_fn",
                "optimizer",
                "lr",
                "batch_size",
                "dataset",
                "kind",
                "step",
                "epoch",
                "train_loss",
                "train_loss_smoothed",
                "samples_per_second",
                "test_loss",
                "test_accuracy",
            ]
        )
        for run in self.runs:
            c = run.config
            head = [run.number, c.model, c.loss, c.optimizer, c.lr, c.batch_size, run.dataset]
            for i in range(len(run.steps)):
                step = int(run.steps.view[i])
                epoch = (step - 1) // run.steps_per_epoch + 1
                writer.writerow(
                    head
                    + ["batch", step, epoch]
                    + [
                        f"{run.losses.view[i]:.6g}",
                        f"{run.smoothed.view[i]:.6g}",
                        f"{run.speed.view[i]:.1f}",
                        "",
                        "",
                    ]
                )
            for e in run.epochs:
                writer.writerow(
                    head
                    + ["epoch", e.epoch * run.steps_per_epoch, e.epoch]
                    + [
                        f"{e.train_loss:.6g}",
                        "",
                        "",
                        f"{e.test_loss:.6g}",
                        f"{e.test_accuracy:.6g}",
                    ]
                )
        return buffer.getvalue()

    def export_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write ``csv_text()`` atomically (core/atomic.py)."""
        return write_text_atomic(path, self.csv_text())
