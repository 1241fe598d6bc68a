"""Two models, one drawing: "Side by side" and "Turn it", a dialog of the Draw tab.

A view over ``core.inference.compare``: the model in use and another one from the Models library
(a run just trained is kept there) read the drawing on the canvas. "Side by side" shows both
answers, both bars, where they disagree and each one's saliency; "Turn it" plots each model's
probability of a digit while the drawing is rotated −45°…45° and shifted ±8 px — where an MLP
breaks and a CNN holds. Everything is computed in a ``gui.workers.FunctionWorker`` with models
of its own (the Draw tab keeps using its classifier meanwhile).
"""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QThread, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.data.datasets import MNIST
from core.errors import UserError
from core.inference.answer import describe
from core.inference.classifier import Classifier
from core.inference.compare import SideBySide, TurnSweep, side_by_side, turn_sweep
from core.storage.checkpoint import Checkpoint
from core.storage.model_library import BUNDLED_NAME, bundled_checkpoint
from gui import theme
from gui.app_state import AppState
from gui.draw.answer_panel import heading, note
from gui.draw.draw_views import PixelView, ProbabilityChart
from gui.draw.picture_opener import keep_until_ended
from gui.workers import FunctionWorker, start_worker, wait_for

BUNDLED = "bundled"
SWEEPS = (
    ("rotated", "Turned (degrees, anticlockwise +)", "angles"),
    ("shifted_x", "Shifted right (pixels of 28)", "shifts"),
    ("shifted_y", "Shifted down (pixels of 28)", "shifts"),
)


def run_compare(
    models: list[tuple[Checkpoint | Callable[[], Checkpoint], float]],
    picture: np.ndarray,
    names: list[str],
) -> tuple[SideBySide, TurnSweep]:
    """In the worker: a classifier per model (a callable is loaded here: a library file), then
    ``side_by_side`` and ``turn_sweep`` on the same picture."""
    classifiers = [
        Classifier(model() if callable(model) else model, ood=None, temperature=temperature)
        for model, temperature in models
    ]
    return side_by_side(classifiers, picture, names), turn_sweep(classifiers, picture, names)


class ModelColumn(QWidget):
    """One model in "Side by side": its name, its answer, its bars and its saliency."""

    def __init__(self, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = heading("")
        self.title.setStyleSheet(theme.text_style(colour))
        self.answer = QLabel()
        self.answer.setWordWrap(True)
        self.chart = ProbabilityChart()
        self.chart.setMinimumHeight(120)
        self.saliency = PixelView(112, grid=True)
        self.saliency.setToolTip(
            "The 28×28 input with this model's saliency over it: the pixels its answer leans on"
        )
        row = QHBoxLayout()
        row.addWidget(self.saliency)
        row.addWidget(note("Where it looks: |∂ logit / ∂ pixel| of its answer.", size_px=11))
        layout.addWidget(self.title)
        layout.addWidget(self.answer)
        layout.addWidget(self.chart, stretch=1)
        layout.addLayout(row)

    def show_reading(self, reading, picture: np.ndarray) -> None:  # noqa: ANN001 - ModelReading
        self.title.setText(reading.name)
        self.answer.setText(describe(reading.prediction, MNIST))
        self.chart.set_probabilities(
            list(reading.probabilities),
            reading.prediction.is_confident,
            logits=reading.prediction.logits,
        )
        self.saliency.set_array(picture)
        self.saliency.set_overlay(reading.saliency)


class CompareDialog(QDialog):
    """The model in use against one chosen from the library, on the Draw tab's drawing."""

    compared = Signal(object)  # (SideBySide, TurnSweep) just shown (the lessons panel listens)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setWindowTitle("Side by side")
        self.result: tuple[SideBySide, TurnSweep] | None = None
        self._job: tuple[QThread, FunctionWorker] | None = None
        self._serial = 0
        self._picture: np.ndarray | None = None
        self._classifier: Classifier | None = None
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_controls())
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_side_by_side(), "Side by side")
        self.tabs.addTab(self._build_turn_it(), "Turn it")
        layout.addWidget(self.tabs, stretch=1)
        self.resize(860, 600)

    # ------------------------------------------------------------------ layout
    def _build_controls(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.first_label = QLabel()
        row.addWidget(self.first_label)
        row.addWidget(QLabel("against"))
        self.other_box = QComboBox()
        self.other_box.setToolTip("Any model kept in Models… (every run you keep is there)")
        self.other_box.setMinimumContentsLength(18)
        self.other_box.activated.connect(lambda _i: self.compare(self._picture, self._classifier))
        row.addWidget(self.other_box, stretch=1)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(80)
        self.busy.hide()
        row.addWidget(self.busy)
        self.status = note()
        row.addWidget(self.status)
        return row

    def _build_side_by_side(self) -> QWidget:
        page = QWidget()
        row = QHBoxLayout(page)
        self.columns = [ModelColumn(theme.RUN_COLOURS[i], page) for i in range(2)]
        for column in self.columns:
            row.addWidget(column, stretch=1)
        return page

    def _build_turn_it(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        top = QHBoxLayout()
        top.addWidget(QLabel("Probability of the digit"))
        self.digit_box = QComboBox()
        self.digit_box.addItems([str(d) for d in range(10)])
        self.digit_box.currentIndexChanged.connect(self._plot_sweeps)
        top.addWidget(self.digit_box)
        self.holds_label = note()
        top.addWidget(self.holds_label, stretch=1)
        layout.addLayout(top)
        grid = QGridLayout()
        self.sweep_plots: dict[str, pg.PlotWidget] = {}
        self.sweep_curves: dict[str, list[pg.PlotDataItem]] = {}
        for index, (kind, title, _steps) in enumerate(SWEEPS):
            plot = pg.PlotWidget(background=None)
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            item = plot.getPlotItem()
            item.setYRange(-0.02, 1.06, padding=0)
            item.setLabel("bottom", title)
            item.setLabel("left", "probability")
            item.showGrid(x=True, y=True, alpha=0.15)
            theme.style_plot(item)
            self.sweep_curves[kind] = [
                item.plot(pen=pg.mkPen(theme.RUN_COLOURS[m], width=2), name=f"model {m + 1}")
                for m in range(2)
            ]
            self.sweep_plots[kind] = plot
            grid.addWidget(plot, index // 2, index % 2)
        grid.addWidget(
            note(
                "Each curve: one model's probability of the chosen digit as the drawing turns "
                "or moves. A fully connected network saw MNIST's digits only centred; a CNN's "
                "shared filters and pooling carry its answer further."
            ),
            1,
            1,
        )
        layout.addLayout(grid, stretch=1)
        return page

    # ------------------------------------------------------------------ models
    def _fill_models(self) -> None:
        """The library's models (not the one in use), and the bundled one when it is not."""
        chosen = self.other_box.currentData()
        self.other_box.clear()
        current = self.state.current_entry_id
        try:
            entries = [e for e in self.state.library.entries() if not e.problem]
        except UserError as exc:
            entries = []
            self._say(str(exc), theme.ERROR)
        for entry in entries:
            if entry.id != current:
                self.other_box.addItem(entry.name, entry.id)
        if current is not None or self.state.current_name != BUNDLED_NAME:
            self.other_box.insertItem(0, BUNDLED_NAME, BUNDLED)
        index = self.other_box.findData(chosen)
        self.other_box.setCurrentIndex(max(0, index))

    def _other(self) -> tuple[Callable[[], Checkpoint], str] | None:
        key = self.other_box.currentData()
        if key is None:
            return None
        name = self.other_box.currentText()
        if key == BUNDLED:
            return bundled_checkpoint, name
        library = self.state.library
        return (lambda: library.load(key)), name

    # ------------------------------------------------------------------ running
    def compare(self, picture: np.ndarray | None, classifier: Classifier | None) -> bool:
        """Compare the model in use (``classifier``) with the chosen one on ``picture`` (the
        canvas; None: nothing drawn), in a worker. False (said in place) if it cannot."""
        self._picture, self._classifier = picture, classifier
        self._fill_models()
        self.first_label.setText(f"<b>{self.state.current_name}</b>")
        other = self._other()
        if picture is None or classifier is None:
            return self._say("Draw a digit first: there is nothing to compare on.", theme.ERROR)
        if other is None:
            return self._say(
                "There is no other model yet: train one (every run you keep is in Models…).",
                theme.ERROR,
            )
        self._serial += 1
        names = [self.state.current_name, other[1]]
        models = [(classifier.checkpoint, classifier.temperature), (other[0], 1.0)]
        copy = np.array(picture, copy=True)
        worker = FunctionWorker(lambda: run_compare(models, copy, names), self._serial)
        worker.done.connect(self._done)
        worker.failed.connect(self._failed)
        self._job = (start_worker(worker, None, name="draw-compare"), worker)
        keep_until_ended(self._job)  # unparented: it may outlive this dialog
        self.busy.show()
        self._say("Reading the drawing with both models…", theme.MUTED)
        return True

    @Slot(object, object)
    def _done(self, serial: object, result: object) -> None:
        if serial != self._serial:
            return
        self.busy.hide()
        pair, sweep = result  # type: ignore[misc]
        self.show_result(pair, sweep)

    @Slot(object, str)
    def _failed(self, serial: object, message: str) -> None:
        if serial == self._serial:
            self.busy.hide()
            self._say(message[:1].upper() + message[1:], theme.ERROR)

    def show_result(self, pair: SideBySide, sweep: TurnSweep) -> None:
        self.result = (pair, sweep)
        for column, reading in zip(self.columns, pair.readings, strict=False):
            column.show_reading(reading, pair.input)
        gap = pair.probability_gap[pair.widest_gap_digit]
        where = (
            f" They differ most on {pair.widest_gap_digit}: {abs(gap):.0%} apart."
            if abs(gap) >= 0.01
            else ""
        )
        self.summary.setText(pair.summary + where)
        colour = theme.OK if pair.agree else theme.NOTE
        self.summary.setStyleSheet(theme.text_style(colour))
        self.digit_box.blockSignals(True)
        self.digit_box.setCurrentIndex(sweep.digits[0])
        self.digit_box.blockSignals(False)
        self._plot_sweeps()
        self._say(f"Done in {pair.seconds + sweep.seconds:.2f} s.", theme.MUTED)
        self.compared.emit(self.result)

    def _plot_sweeps(self) -> None:
        if self.result is None:
            return
        sweep = self.result[1]
        digit = self.digit_box.currentIndex()
        for kind, _title, steps in SWEEPS:
            x = getattr(sweep, steps)
            for model, curve in enumerate(self.sweep_curves[kind]):
                probabilities = getattr(sweep, kind)[model][:, digit]
                curve.setData(x, probabilities, name=sweep.names[model])
        holds = []
        for model, name in enumerate(sweep.names):  # the curves' legend, in their colours
            low, high = sweep.holds(model)
            colour = theme.RUN_COLOURS[model]
            holds.append(
                f"<span style='color:{colour}'>■ <b>{html.escape(name)}</b></span> keeps its "
                f"{sweep.digits[model]} from {low:+.0f}° to {high:+.0f}° of turning"
            )
        self.holds_label.setText("; ".join(holds) + ".")

    def _say(self, text: str, colour: str) -> bool:
        self.status.setText(text)
        self.status.setStyleSheet(theme.text_style(colour))
        return False

    def shutdown(self, timeout_ms: int) -> bool:
        """Drop the answer on the way and wait at most ``timeout_ms`` for the worker."""
        self._serial += 1
        ended = wait_for(self._job[0], timeout_ms) if self._job is not None else True
        self._job = None
        self.busy.hide()
        return ended
