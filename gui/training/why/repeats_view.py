"""Runs over seeds: repeat the current settings with seeds 1..N, draw the loss as the mean with a
min-max band, and overlay a second configuration's band: a difference means something only where
the bands part. A thin view over ``RepeatsState``; the runs go one after another in a worker.

Each finished repetition is a group (R1, R2, ...) of the tab's ``RunHistory``: a row of the run
list with its accuracy as mean +- sd, saved with the list. The newest two are drawn; ticking
groups in the run list chooses which bands overlay here (``redraw``)."""

from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.training.repeats import RepeatResult
from core.training.run_history import RunHistory
from core.training.train_types import TrainConfig
from gui import theme
from gui.training.run_list import group_colour
from gui.training.why.jobs import JobSlot
from gui.training.why.state import RepeatsState, lr_text


class RepeatsView(QWidget):
    """``settings()`` gives the configuration to repeat (the tab's current settings); ``history``
    the tab's ``RunHistory``, which keeps the groups (a private one when alone)."""

    groupsChanged = Signal()  # a group was added or the groups cleared: the run list follows

    def __init__(
        self,
        settings: Callable[[], TrainConfig] | None = None,
        parent: QWidget | None = None,
        history: RunHistory | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings or TrainConfig
        self.state = RepeatsState(history=history if history is not None else RunHistory())
        self.jobs = JobSlot(self, "repeats")
        self.count = QSpinBox(minimum=2, maximum=10, value=3)
        self.count.setPrefix("\u00d7")
        self.count.setToolTip("How many runs: seeds 1, 2, … N, everything else the same.")
        self.run_button = QPushButton("&Repeat over seeds")
        self.run_button.setToolTip(
            "Run the current settings once per seed, one after another. Run it again with other\n"
            "settings to overlay the two bands. Each repetition becomes a row (R1, R2, …) of the\n"
            "run list with its accuracy as mean \u00b1 sd; tick rows there to choose the bands."
        )
        self.run_button.clicked.connect(lambda: self.start())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.jobs.stop)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Forget every repeat group, here and in the run list.")
        self.clear_button.clicked.connect(self.clear)
        self.progress = QProgressBar()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.plot = pg.PlotWidget(background=theme.PLOT_BG)
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "training loss: mean of the seeds, band = lowest to highest")
        self.plot.addLegend(offset=(-10, 10))
        self._items: list = []
        row = QHBoxLayout()
        for widget in (self.count, self.run_button, self.cancel_button, self.clear_button):
            row.addWidget(widget)
        row.addWidget(self.progress, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        layout.addWidget(self.plot, 1)
        self._refresh()

    def start(self, config: TrainConfig | None = None) -> None:
        if self.state.busy:  # the window asks once; the previous job may still be ending
            return
        config = config or self.settings()
        self.state.repeats = self.count.value()
        label = (
            f"{config.model} {config.optimizer} lr {lr_text(config.lr)} batch {config.batch_size}"
        )
        try:
            job = self.state.job(config, label)
        except Exception as exc:  # noqa: BLE001 (a bad setting is said in place)
            self.state.fail(str(exc))
            self._refresh()
            return
        self.progress.setValue(0)
        self.jobs.start(job, self._on_progress, self._on_done, self._on_failed)
        self._refresh()

    def clear(self) -> None:
        self.state.clear()
        self._draw()
        self._refresh()
        self.groupsChanged.emit()

    def redraw(self) -> None:
        """The groups changed outside this page (ticked or cleared in the run list)."""
        self.state.refresh()
        self._draw()
        self._refresh()

    def shutdown(self) -> bool:
        return self.jobs.shutdown()

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)

    def _on_done(self, result: RepeatResult) -> None:
        self.state.finish(result)
        self._draw()
        self._refresh()
        self.groupsChanged.emit()

    def _on_failed(self, message: str) -> None:
        self.state.fail(message)
        self._refresh()

    def _refresh(self) -> None:
        busy = self.state.busy
        self.run_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.clear_button.setEnabled(not busy and bool(self.state.history.groups))
        self.progress.setVisible(busy)
        self.summary.setText(self.state.status)

    def _draw(self) -> None:
        for item in self._items:
            self.plot.removeItem(item)
        self._items = []
        legend = self.plot.plotItem.legend
        if legend is not None:
            legend.clear()
        for result in self.state.results:
            colour = group_colour(result)
            band = result.loss_band()
            if band is None:
                continue
            low = pg.PlotCurveItem(band.x, band.low, pen=pg.mkPen(None))
            high = pg.PlotCurveItem(band.x, band.high, pen=pg.mkPen(None))
            fill = QColor(colour)
            fill.setAlpha(60)
            shade = pg.FillBetweenItem(low, high, brush=pg.mkBrush(fill))
            mean = pg.PlotDataItem(
                band.x,
                band.mean,
                pen=pg.mkPen(colour, width=2),
                name=f"R{result.number} {result.summary()}",
            )
            for item in (low, high, shade, mean):
                self.plot.addItem(item)
                self._items.append(item)
        if self.state.results:
            self.plot.enableAutoRange()
