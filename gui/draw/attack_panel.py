"""Fool the model: the smallest change to the learner's own drawing that flips the answer.

A view over ``core.inference.attack.attack`` (FGSM, PGD or fewest pixels; any other digit or a
chosen one). The attack runs in a ``gui.workers.FunctionWorker`` with its own copy of the model
(the Draw tab keeps reading the canvas with the original meanwhile; forward hooks on a shared
model would mix the two threads' passes). It shows the drawing, the perturbation (red: ink
added, blue: ink taken away), the altered picture, both sets of probabilities and a sentence on
why a network is this fragile. "Put it on the canvas" hands the altered picture to the Draw tab,
which reads it through its one preprocessing path: the adversarial answer, for real.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QThread, Signal, Slot
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.inference.attack import AttackResult, attack
from core.inference.classifier import Classifier
from core.inference.ood import OodStats
from core.storage.checkpoint import Checkpoint
from gui import theme
from gui.draw.answer_panel import heading, note
from gui.draw.draw_views import PixelView, ProbabilityChart
from gui.draw.picture_opener import keep_until_ended
from gui.workers import FunctionWorker, start_worker, wait_for

METHODS = (
    (
        "pgd",
        "PGD: a few small steps",
        "Projected gradient descent: ten steps along the gradient's sign, each kept within\n"
        "ε of the drawing (L∞), searching the smallest ε that flips the answer.",
    ),
    (
        "fgsm",
        "FGSM: one step",
        "Fast gradient sign method: one step of size ε along the sign of the gradient of the\n"
        "score, searching the smallest ε that flips the answer (Goodfellow et al., 2015).",
    ),
    (
        "pixels",
        "Fewest pixels",
        "Greedy L0 attack: paint one model-pixel-sized dot at a time, full ink or blank, the\n"
        "one the gradient says helps most, until the answer flips.",
    ),
)
FRAGILE = (
    "Why so fragile? A network's answer is a sum over hundreds of pixels; near the boundary "
    "between two digits, many tiny nudges in the direction its gradient points add up. People "
    "read strokes; the network reads sums — it was never shown a drawing built to fool it."
)
VIEW_SIDE = 150


def diverging_image(change: np.ndarray) -> QImage:
    """A change of ink (-1..1, the picture's scale) as colour: red where ink was added (the
    picture got darker), blue where it was taken away, white where nothing changed."""
    change = np.clip(np.asarray(change, dtype=np.float32), -1.0, 1.0)
    peak = float(np.abs(change).max()) or 1.0
    darker = np.clip(-change / peak, 0.0, 1.0)  # pixel value went down: more ink
    lighter = np.clip(change / peak, 0.0, 1.0)
    rgb = np.full(change.shape + (3,), 255.0, dtype=np.float32)
    rgb[..., 1] -= 200 * (darker + lighter)
    rgb[..., 2] -= 225 * darker
    rgb[..., 0] -= 225 * lighter
    pixels = np.ascontiguousarray(np.clip(rgb, 0, 255).astype(np.uint8))
    height, width = change.shape
    return QImage(pixels.data, width, height, width * 3, QImage.Format.Format_RGB888).copy()


def run_attack(
    checkpoint: Checkpoint,
    temperature: float,
    ood: OodStats | None,
    picture: np.ndarray,
    method: str,
    target: int | None,
) -> AttackResult:
    """In the worker: a model of its own, then the attack (``core.inference.attack.attack``)."""
    classifier = Classifier(checkpoint, ood=ood, temperature=temperature)
    return attack(classifier, picture, method, target=target)


class AttackDialog(QDialog):
    """ "Fool the model" for the drawing the Draw tab hands in (``attack_picture``).

    ``putOnCanvas(picture)`` asks the tab to make the altered picture its drawing.
    """

    putOnCanvas = Signal(object)  # (H, W) uint8, dark ink on light paper, as the canvas renders
    attacked = Signal(object)  # the AttackResult just shown (the lessons panel listens)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Fool the model")
        self.result: AttackResult | None = None
        self._job: tuple[QThread, FunctionWorker] | None = None
        self._serial = 0
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_controls())
        layout.addLayout(self._build_pictures())
        layout.addLayout(self._build_bars(), stretch=1)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.fragile = note(FRAGILE)
        layout.addWidget(self.explanation)
        layout.addWidget(self.fragile)
        layout.addLayout(self._build_buttons())
        self.resize(820, 600)

    # ------------------------------------------------------------------ layout
    def _build_controls(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Method"))
        self.method_box = QComboBox()
        for index, (key, title, tip) in enumerate(METHODS):
            self.method_box.addItem(title, key)
            self.method_box.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
        row.addWidget(self.method_box)
        row.addWidget(QLabel("Make it read"))
        self.target_box = QComboBox()
        self.target_box.addItem("any other digit", None)
        for digit in range(10):
            self.target_box.addItem(str(digit), digit)
        self.target_box.setToolTip("A target digit makes the attack harder: it must land there")
        row.addWidget(self.target_box)
        self.run_button = QPushButton("Fool it")
        self.run_button.setToolTip("Search the smallest change that flips the answer (Ctrl+Return)")
        self.run_button.setShortcut("Ctrl+Return")
        self.run_button.setDefault(True)
        row.addWidget(self.run_button)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(90)
        self.busy.hide()
        row.addWidget(self.busy)
        self.status = note()
        row.addWidget(self.status, stretch=1)
        return row

    def _build_pictures(self) -> QGridLayout:
        grid = QGridLayout()
        self.before_view = PixelView(VIEW_SIDE)
        self.change_view = PixelView(VIEW_SIDE)
        self.after_view = PixelView(VIEW_SIDE)
        self.change_view.setToolTip("Red: ink added. Blue: ink taken away. White: unchanged.")
        titles = ("Your drawing", "The change", "The altered picture")
        views = (self.before_view, self.change_view, self.after_view)
        self.captions: list[QLabel] = []
        for column, (title, view) in enumerate(zip(titles, views, strict=True)):
            grid.addWidget(heading(title), 0, column, Qt.AlignmentFlag.AlignHCenter)
            grid.addWidget(view, 1, column, Qt.AlignmentFlag.AlignHCenter)
            caption = note(size_px=11)
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            grid.addWidget(caption, 2, column)
            self.captions.append(caption)
        return grid

    def _build_bars(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.before_chart, self.after_chart = ProbabilityChart(), ProbabilityChart()
        for title, chart in (("Before", self.before_chart), ("After", self.after_chart)):
            column = QVBoxLayout()
            column.addWidget(heading(title))
            chart.setMinimumHeight(110)
            column.addWidget(chart, stretch=1)
            row.addLayout(column)
        return row

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addStretch(1)
        self.put_button = QPushButton("Put it on the canvas")
        self.put_button.setToolTip(
            "Make the altered picture the Draw tab's drawing: the tab reads it through its own\n"
            "preprocessing, as it reads your strokes (Undo there brings your drawing back)."
        )
        self.put_button.setEnabled(False)
        self.put_button.clicked.connect(self._put)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        row.addWidget(self.put_button)
        row.addWidget(close)
        return row

    # ------------------------------------------------------------------ running
    @property
    def method(self) -> str:
        return str(self.method_box.currentData())

    @property
    def target(self) -> int | None:
        value = self.target_box.currentData()
        return None if value is None else int(value)

    @property
    def is_running(self) -> bool:
        return not self.run_button.isEnabled()

    def attack_picture(
        self, picture: np.ndarray | None, classifier: Classifier | None, model_name: str
    ) -> bool:
        """Attack ``picture`` (the canvas; None: nothing drawn) with a copy of ``classifier``
        in a worker; False (said in place) when there is nothing to attack."""
        if picture is None or classifier is None:
            self._say("Draw a digit first: there is nothing to fool yet.", theme.ERROR)
            return False
        self._serial += 1
        self.before_view.set_array(picture, 0, 255)
        args = (
            classifier.checkpoint,
            classifier.temperature,
            classifier.ood_stats,
            np.array(picture, copy=True),
            self.method,
            self.target,
        )
        worker = FunctionWorker(lambda: run_attack(*args), self._serial)
        worker.done.connect(self._done)
        worker.failed.connect(self._failed)
        self._job = (start_worker(worker, None, name="draw-attack"), worker)
        keep_until_ended(self._job)  # unparented: it may outlive this dialog
        self.run_button.setEnabled(False)
        self.put_button.setEnabled(False)
        self.busy.show()
        self._say(f"Searching the smallest change that fools {model_name}…", theme.MUTED)
        return True

    @Slot(object, object)
    def _done(self, serial: object, result: object) -> None:
        if serial != self._serial:
            return
        self._finished()
        assert isinstance(result, AttackResult)
        self.show_result(result)

    @Slot(object, str)
    def _failed(self, serial: object, message: str) -> None:
        if serial == self._serial:
            self._finished()
            self._say(message[:1].upper() + message[1:], theme.ERROR)

    def _finished(self) -> None:
        self.busy.hide()
        self.run_button.setEnabled(True)

    def show_result(self, result: AttackResult) -> None:
        """The three pictures, both bars and the sentence for one attack."""
        self.result = result
        self.before_view.set_array(result.picture, 0, 255)
        self.after_view.set_array(result.adversarial_picture, 0, 255)
        self.change_view.set_image(diverging_image(result.perturbation))
        before, after = result.original, result.adversarial
        self.before_chart.set_probabilities(list(result.probabilities), logits=before.logits)
        self.after_chart.set_probabilities(
            list(result.adversarial_probabilities), logits=after.logits if after else None
        )
        changed = (
            f"{result.dots} dots, {result.pixels_changed:,} pixels"
            if result.method == "pixels"
            else f"ε = {result.epsilon:.3f} ({round(result.epsilon * 255)}/255), "
            f"{result.pixels_changed:,} pixels"
        )
        self.captions[0].setText(f"reads {result.digit}")
        self.captions[1].setText(changed)
        self.captions[2].setText(f"reads {result.adversarial_digit}")
        self.explanation.setText(result.explanation)
        self.put_button.setEnabled(result.flipped)
        colour = theme.OK if result.flipped else theme.NOTE
        verdict = "Fooled" if result.flipped else "Not fooled"
        self._say(f"{verdict} in {result.seconds:.2f} s.", colour)
        self.attacked.emit(result)

    def _put(self) -> None:
        if self.result is not None:
            self.putOnCanvas.emit(self.result.adversarial_picture.copy())

    def _say(self, text: str, colour: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(theme.text_style(colour))

    def shutdown(self, timeout_ms: int) -> bool:
        """Drop the answer on the way and wait at most ``timeout_ms`` for the attack."""
        self._serial += 1
        ended = wait_for(self._job[0], timeout_ms) if self._job is not None else True
        self._job = None
        self._finished()
        return ended
