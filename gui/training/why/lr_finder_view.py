"""The learning-rate finder: the loss against a growing learning rate (log axis), the suggestion
marked, one click to use it. A thin view over ``LrFinderState``; the test runs in a worker."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from core.training.lr_find import LrFindResult
from core.training.train_types import TrainConfig
from gui import theme
from gui.training.why.jobs import JobSlot
from gui.training.why.state import LrFinderState, lr_text


class LrFinderView(QWidget):
    """``find(config)`` runs the finder for those settings; ``useLearningRate(lr)`` is emitted
    when the learner clicks "Use it" (the tab sets its learning-rate field)."""

    useLearningRate = Signal(float)  # noqa: N815 (Qt naming)
    found = Signal(float)  # a search ended with this suggestion (the lessons panel listens)

    def __init__(
        self, settings: Callable[[], TrainConfig] | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.state = LrFinderState()
        self.jobs = JobSlot(self, "lr-finder")
        self.find_button = QPushButton("&Find learning rate")
        self.find_button.setToolTip(
            "Train a copy of the model for about 100 batches while the learning rate grows from\n"
            "1e-7 to 10 (fastai's lr_find); your model and settings are not touched."
        )
        self.find_button.clicked.connect(lambda: self.find())
        self.use_button = QPushButton("Use it")
        self.use_button.setToolTip("Put the suggested learning rate into the settings.")
        self.use_button.clicked.connect(self._use)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.jobs.stop)
        self.progress = QProgressBar()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.reading = QLabel(LrFinderState.reading())
        self.reading.setWordWrap(True)
        self.reading.setStyleSheet(f"color: {theme.MUTED};")
        self._build_plot()
        row = QHBoxLayout()
        for widget in (self.find_button, self.use_button, self.cancel_button, self.progress):
            row.addWidget(widget)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.reading)
        self._refresh()

    def _build_plot(self) -> None:
        self.plot = pg.PlotWidget(background=theme.PLOT_BG)
        self.plot.setLogMode(x=True, y=False)
        self.plot.setLabel("bottom", "learning rate (log scale)")
        self.plot.setLabel("left", "training loss (smoothed)")
        self.curve = self.plot.plot([], [], pen=pg.mkPen(theme.ACCENT, width=2))
        self.suggestion = pg.InfiniteLine(
            angle=90,
            pen=pg.mkPen(theme.OK, width=2),
            label="suggested",
            labelOpts={"position": 0.9},
        )
        self.minimum = pg.InfiniteLine(
            angle=90,
            pen=pg.mkPen(theme.MUTED, style=Qt.PenStyle.DashLine),
            label="lowest loss",
            labelOpts={"position": 0.75},
        )
        for line in (self.suggestion, self.minimum):
            line.setVisible(False)
            self.plot.addItem(line)

    def find(self, config: TrainConfig | None = None) -> None:
        """Run the finder for ``config`` (default: the tab's current settings)."""
        if self.state.busy:  # the window asks once; the previous job may still be ending
            return
        if config is None and self.settings is not None:
            config = self.settings()
        self.state.config = config or TrainConfig()
        self.state.result = None
        try:
            job = self.state.job()
        except Exception as exc:  # noqa: BLE001 (a bad setting is said in place)
            self.state.fail(str(exc))
            self._refresh()
            return
        self._draw(None)
        self.jobs.start(job, self._on_progress, self._on_done, self._on_failed)
        self._refresh()

    def shutdown(self) -> bool:
        return self.jobs.shutdown()

    def _use(self) -> None:
        if self.state.result is not None:
            self.useLearningRate.emit(float(self.state.result.suggested_lr))

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)

    def _on_done(self, result: LrFindResult) -> None:
        self.state.finish(result)
        self._draw(result)
        self._refresh()
        self.found.emit(float(result.suggested_lr))

    def _on_failed(self, message: str) -> None:
        self.state.fail(message)
        self._refresh()

    def _refresh(self) -> None:
        busy, result = self.state.busy, self.state.result
        self.find_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.progress.setVisible(busy)
        self.use_button.setEnabled(result is not None and not busy)
        self.use_button.setText(
            f"&Use {lr_text(result.suggested_lr)}" if result is not None else "&Use it"
        )
        self.status.setText(self.state.status)

    def _draw(self, result: LrFindResult | None) -> None:
        if result is None:
            self.curve.setData([], [])
            self.suggestion.setVisible(False)
            self.minimum.setVisible(False)
            return
        lrs, losses = np.asarray(result.curve).T
        self.curve.setData(lrs, losses)
        # in log mode an InfiniteLine's position is in log10 units
        self.suggestion.setValue(math.log10(result.suggested_lr))
        self.minimum.setValue(math.log10(result.minimum_lr))
        self.suggestion.label.setFormat(f"suggested {lr_text(result.suggested_lr)}")
        self.suggestion.setVisible(True)
        self.minimum.setVisible(True)
        top = min(float(losses.max()), 3.0 * float(losses.min()) + 1.0)
        self.plot.setYRange(float(losses.min()) * 0.9, top)
