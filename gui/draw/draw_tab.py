"""The Draw tab: draw a digit and watch the current model read it, live.

A thin view: the canvas gives a picture, ``core.inference.preprocess.canvas_to_input`` turns it into what
the model sees, ``core.inference.classifier.Classifier`` answers, with its "is this a digit" verdict.
Inference takes a few milliseconds on a CPU, so it runs in the GUI thread, debounced while the
pen moves. Slow work runs in a worker thread through ``gui.training.train_worker.start_worker``: decoding
an opened picture (``core.inference.preprocess.read_paper``, the same reader as ``classify``) and fitting
a model's "is this a digit" statistics the first time it is used.

Signals for the main window: ``trainingRequested`` (show the Training tab) and ``inputChanged``
(the preprocessed 28x28 input, float32 in model units, or None, each time the answer updates;
the network inspector listens). Slot: ``show_digit(image, label)`` ("Try in Draw").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QSettings, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QFont, QImage, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.data.datasets import MNIST, checkpoint_info
from core.errors import UserError
from core.inference.classifier import (
    Classifier,
    Prediction,
    checkpoint_temperature,
    default_checkpoint,
)
from core.inference.ood import ood_stats_for
from core.inference.preprocess import Paper, Preprocessed, blank_message, digit_to_paper, read_paper
from core.storage.atomic import atomic_path
from core.storage.checkpoint import Checkpoint
from gui import theme
from gui.app_state import AppState
from gui.draw.draw_canvas import RENDER_SIZE, DrawCanvas
from gui.draw.draw_views import HeatScale, PixelView, ProbabilityChart
from gui.draw.own_digits_view import AddToMyDigitsBar
from gui.file_dialogs import ask_open_path, ask_save_path
from gui.training.train_worker import start_worker

log = logging.getLogger(__name__)

DEBOUNCE_MS = 25  # live answer at most this far behind the pen (plus a few ms of inference)
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"
STEP_SIDE = 52
INPUT_SIDE = 112

STEP_TITLES = {
    "crop": ("crop", "The ink's bounding box, light on dark (inverted if drawn dark on light)."),
    "fit20": ("fit 20×20", "Scaled to fit a 20×20 box, keeping the aspect ratio, anti-aliased."),
    "centred": (
        "centre",
        "Placed in 28×28 so the centre of mass of the ink is at the centre, as MNIST did.",
    ),
    "resized": ("resize", "The whole canvas squeezed to 28×28: no crop, no centring."),
    "normalised": (
        "normalise",
        "(x − 0.1307) / 0.3081: the same normalisation as the training data.",
    ),
}
NOT_A_DIGIT = "this does not look like a digit to the model"


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


def _note(text: str = "", size_px: int | None = None) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(theme.text_style(theme.MUTED, size_px=size_px))
    return label


def _check_box(text: str, tooltip: str, slot, checked: bool = False) -> QCheckBox:  # noqa: ANN001
    box = QCheckBox(text)
    box.setChecked(checked)
    box.setToolTip(tooltip)
    box.toggled.connect(slot)
    return box


class BackgroundCall(QObject):
    """Run one function in a worker thread; its result or its error comes back as a signal.

    ``done(tag, result)`` or ``failed(tag, message)``, then ``finished``; ``tag`` lets the tab
    drop answers to requests it no longer cares about (a second picture opened meanwhile).
    """

    done = Signal(object, object)
    failed = Signal(object, str)
    finished = Signal()

    def __init__(self, tag: object, function: Callable[[], Any]) -> None:
        super().__init__()
        self.tag = tag
        self.function = function

    @Slot()
    def work(self) -> None:
        try:
            self.done.emit(self.tag, self.function())
        except UserError as exc:
            self.failed.emit(self.tag, str(exc))
        except Exception as exc:  # reported in place, never lost in a thread
            log.exception("background work failed")
            self.failed.emit(self.tag, f"unexpected error: {type(exc).__name__}: {exc}")
        finally:
            self.finished.emit()


class DrawTab(QWidget):
    """Canvas on the left; the answer, what the model sees and which model it is on the right."""

    trainingRequested = Signal()
    inputChanged = Signal(object)  # np.ndarray (28, 28) float32 in model units, or None
    pictureOpened = Signal(bool)  # an opened file is on the canvas (True) or was refused (False)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.classifier: Classifier | None = None
        self.prediction: Prediction | None = None
        self.preprocessed: Preprocessed | None = None
        self.last_latency_ms = 0.0
        self.saliency_peak = 0.0
        self.reference_label: int | None = None  # the label of a digit sent by "Try in Draw"
        self.dataset_info = MNIST  # whose classes the current model names (core.data.datasets)
        self._model_is_random = False
        self._background: list[tuple[QThread, BackgroundCall]] = []
        self._open_serial = 0
        self.opening: str | None = None  # name of the picture being decoded
        self.ood_pending = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.update_now)
        self.setAcceptDrops(True)

        self._build_ui()
        self._restore_settings()
        state.modelChanged.connect(self.set_checkpoint)
        self._load_initial_model()
        self.update_now()

    # ================================================================== layout
    def _build_ui(self) -> None:
        root = QHBoxLayout(self)
        root.setContentsMargins(12, 12, 12, 12)
        root.setSpacing(14)
        root.addLayout(self._build_canvas_column(), stretch=5)
        root.addWidget(self._build_answer_column(), stretch=4)

    def _build_canvas_column(self) -> QVBoxLayout:
        column = QVBoxLayout()
        column.setSpacing(8)
        self.canvas = DrawCanvas(self)
        self.canvas.changed.connect(self._schedule)
        self.canvas.strokeFinished.connect(self.update_now)
        column.addWidget(self.canvas, stretch=1)
        column.addLayout(self._build_tools())
        # "Add to my digits as N" (Ctrl+D): the drawing as the learner sees it, or None if blank
        self.own_digits_bar = AddToMyDigitsBar(
            lambda: None if self.canvas.is_blank() else self.canvas.render_array(), parent=self
        )
        column.addWidget(self.own_digits_bar)

        self.center_box = _check_box(
            "MNIST preprocessing: crop, fit 20×20, centre of mass",
            "MNIST digits were fitted into a 20×20 box and centred by their centre of mass in\n"
            "28×28. The model never saw anything else. Switch this off to feed the whole canvas\n"
            "squeezed to 28×28 and watch an off-centre or small digit fool the model.",
            self._preprocessing_toggled,
            checked=True,
        )
        column.addWidget(self.center_box)
        self.hint_label = _note(
            "Left button draws · right button erases · drop an image file here to classify it"
        )
        column.addWidget(self.hint_label)
        self._update_tool_buttons()
        self.canvas.changed.connect(self._update_tool_buttons)
        self.canvas.strokeFinished.connect(self._clear_error)
        return column

    def _build_tools(self) -> QHBoxLayout:
        tools = QHBoxLayout()
        tools.setSpacing(6)
        tools.addWidget(QLabel("Pen"))
        self.pen_slider = QSlider(Qt.Orientation.Horizontal)
        self.pen_slider.setRange(6, 40)
        self.pen_slider.setValue(18)
        self.pen_slider.setFixedWidth(100)
        self.pen_slider.setToolTip(
            "Pen width in pixels of a 280×280 canvas. Preprocessing scales the digit to 20×20,\n"
            "so a very thick pen makes blobs and a very thin one faint lines (MNIST strokes are\n"
            "about 2–3 of the 28 pixels wide)."
        )
        self.pen_slider.valueChanged.connect(self._set_pen_width)
        tools.addWidget(self.pen_slider)
        self.pen_value = QLabel()
        self.pen_value.setMinimumWidth(34)
        tools.addWidget(self.pen_value)
        self._set_pen_width(self.pen_slider.value())
        self.undo_button = self._tool("Undo", "Undo the last stroke (Ctrl+Z)", self.canvas.undo)
        self.redo_button = self._tool("Redo", "Redo (Ctrl+Y)", self.canvas.redo)
        self.clear_button = self._tool("Clear", "Clear the canvas (Esc or Delete)", self.clear)
        self.open_button = self._tool(
            "Open…",
            "Classify a picture file (PNG, JPEG, BMP…; any size, either polarity).\n"
            "You can also drag and drop a file onto this tab. (Ctrl+O)",
            self.open_image_dialog,
        )
        self.open_button.setShortcut(QKeySequence.StandardKey.Open)
        self.save_button = self._tool(
            "Save PNG…", "Save the drawing as a PNG (Ctrl+S)", self.save_png_dialog
        )
        self.save_button.setShortcut(QKeySequence.StandardKey.Save)
        for button in (
            self.undo_button,
            self.redo_button,
            self.clear_button,
            self.open_button,
            self.save_button,
        ):
            tools.addWidget(button)
        tools.addStretch(1)
        return tools

    def _tool(self, text: str, tip: str, slot: Callable[[], None]) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setAutoRaise(False)
        button.clicked.connect(slot)
        return button

    def _build_answer_column(self) -> QWidget:
        panel = QWidget(self)
        panel.setMinimumWidth(430)
        panel.setMaximumWidth(620)
        column = QVBoxLayout(panel)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(8)
        column.addWidget(self._build_answer_box())
        column.addLayout(self._build_chart(), stretch=1)
        column.addWidget(self._build_sees_box())
        column.addWidget(self._build_model_box())
        return panel

    def _build_answer_box(self) -> QFrame:
        answer = QFrame()
        answer.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(answer)
        layout.setContentsMargins(14, 6, 14, 6)
        self.digit_label = QLabel("–")
        big = QFont(self.font())
        big.setPointSize(48)
        big.setBold(True)
        self.digit_label.setFont(big)
        self.digit_label.setFixedWidth(84)
        self.digit_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.digit_label.setToolTip("The digit with the highest probability")
        layout.addWidget(self.digit_label)
        words = QVBoxLayout()
        words.setSpacing(2)
        self.verdict_label = QLabel()
        verdict_font = QFont(self.font())
        verdict_font.setPointSizeF(verdict_font.pointSizeF() * 1.5)
        verdict_font.setBold(True)
        self.verdict_label.setFont(verdict_font)
        self.detail_label = _note()
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(theme.text_style(theme.ERROR))
        self.error_label.hide()
        words.addStretch(1)
        for label in (self.verdict_label, self.detail_label, self.error_label):
            words.addWidget(label)
        words.addStretch(1)
        layout.addLayout(words, stretch=1)
        return answer

    def _build_chart(self) -> QVBoxLayout:
        box = QVBoxLayout()
        box.setSpacing(0)
        header = QHBoxLayout()
        header.addWidget(_heading("Probabilities"))
        header.addStretch(1)
        self.logits_box = QCheckBox("show logits")
        self.logits_box.setToolTip(
            "Write the logits above the bars instead of the probabilities: the raw scores of\n"
            "the output layer. softmax turns them into probabilities: p = exp(z) / Σ exp(z),\n"
            "so only their differences matter."
        )
        header.addWidget(self.logits_box)
        self.calibrated_box = _check_box(
            "calibrated",
            "Probabilities after temperature scaling: softmax(z / T), with T fitted on digits\n"
            "the model never trained on so that '90 % sure' is right about 90 % of the time.\n"
            "Untick to compare with the raw softmax(z); the answer itself never changes.",
            self._set_calibrated,
            checked=True,
        )
        header.addWidget(self.calibrated_box)
        box.addLayout(header)
        self.chart = ProbabilityChart()
        self.chart.setMinimumHeight(120)
        self.logits_box.toggled.connect(self.chart.set_show_logits)
        box.addWidget(self.chart, stretch=1)
        return box

    def _build_sees_box(self) -> QGroupBox:
        sees = QGroupBox("What the model sees")
        layout = QHBoxLayout(sees)
        layout.setSpacing(12)
        left = QVBoxLayout()
        left.setSpacing(6)
        self.input_view = PixelView(INPUT_SIDE, grid=True)
        self.input_view.setToolTip(
            "The 28×28 picture the model actually receives (before normalisation).\n"
            "Every square is one input pixel."
        )
        left.addWidget(self.input_view, alignment=Qt.AlignmentFlag.AlignTop)
        self.saliency_box = _check_box(
            "Saliency",
            "Overlay |∂ score(predicted digit) / ∂ input pixel|, the score being the digit's logit:\n"
            "the same autograd as in the loss playground, pointed at the input instead of the\n"
            "weights. Bright pixels are where a little more or less ink would change it most.",
            self._refresh_saliency,
        )
        left.addWidget(self.saliency_box)
        self.heat_scale = HeatScale()
        self.heat_scale.setFixedWidth(INPUT_SIDE)
        self.heat_scale_label = _note("", size_px=10)
        self.heat_scale_label.setFixedWidth(INPUT_SIDE)
        left.addWidget(self.heat_scale)
        left.addWidget(self.heat_scale_label)
        left.addStretch(1)
        layout.addLayout(left)
        layout.addLayout(self._build_steps(), stretch=1)
        return sees

    def _build_steps(self) -> QVBoxLayout:
        steps = QVBoxLayout()
        steps.setSpacing(4)
        steps.addWidget(_heading("Preprocessing steps"))
        self.steps_grid = QGridLayout()
        self.steps_grid.setHorizontalSpacing(4)
        self.steps_grid.setVerticalSpacing(2)
        self.step_views: list[PixelView] = []
        self.step_labels: list[QLabel] = []
        self.step_arrows: list[QLabel] = []
        for index in range(4):
            if index:
                arrow = QLabel("→")
                arrow.setStyleSheet(theme.text_style(theme.FAINT))
                self.steps_grid.addWidget(arrow, 0, 2 * index - 1)
                self.step_arrows.append(arrow)
            view = PixelView(STEP_SIDE)
            label = QLabel()
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            label.setWordWrap(True)
            label.setMinimumWidth(STEP_SIDE)
            label.setStyleSheet(theme.text_style(theme.INK, size_px=11))
            self.steps_grid.addWidget(view, 0, 2 * index, alignment=Qt.AlignmentFlag.AlignHCenter)
            self.steps_grid.addWidget(label, 1, 2 * index)
            self.step_views.append(view)
            self.step_labels.append(label)
        self.steps_grid.setColumnStretch(7, 1)  # pack the steps to the left when some are hidden
        steps.addLayout(self.steps_grid)
        self.steps_note = _note(size_px=11)
        steps.addWidget(self.steps_note)
        steps.addStretch(1)
        return steps

    def _build_model_box(self) -> QGroupBox:
        model_box = QGroupBox("Model")
        layout = QVBoxLayout(model_box)
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        layout.addWidget(self.model_label)
        buttons = QHBoxLayout()
        self.train_button = QPushButton("Train a better model…")
        self.train_button.setToolTip(
            "Open the Training tab. A CNN trained on full MNIST (60,000 digits) reads\n"
            "hand-drawn digits far more reliably than the small bundled model."
        )
        self.train_button.clicked.connect(self.trainingRequested)
        self.load_button = QPushButton("Load model…")
        self.load_button.setToolTip("Use a Digit Lab model file (.pt) saved earlier")
        self.load_button.clicked.connect(self.load_model_dialog)
        self.bundled_button = QPushButton("Use bundled model")
        self.bundled_button.setToolTip(
            "Go back to the model shipped with Digit Lab (your models stay in Models…, Ctrl+M)"
        )
        self.bundled_button.clicked.connect(self.state.use_bundled)
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.load_button)
        buttons.addWidget(self.bundled_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        return model_box

    # =================================================================== model
    def _load_initial_model(self) -> None:
        if self.state.current_model is not None:
            self.set_checkpoint(self.state.current_model)
            return
        try:
            checkpoint = default_checkpoint()
        except UserError as exc:
            log.warning("no trained model: %s", exc)
            self._use_random_model(str(exc))
            return
        # The app's current model from now on; it already lives on disk, so no need to save it.
        self.state.set_current_model(checkpoint, persist=False)

    def _use_random_model(self, reason: str) -> None:
        """Keep the tab usable without any model file: an untrained CNN, clearly labelled."""
        from core.training.models import build_model

        self._model_is_random = True
        self.classifier = Classifier(
            Checkpoint.from_model(build_model("cnn"), "cnn", "nll", dataset="nothing (untrained)"),
            ood=None,
        )
        self.classifier.warm_up()
        self.model_label.setText(
            "<b>Untrained CNN</b>: its answers are random guesses. "
            f"<span style='color:{theme.ERROR}'>{reason}</span>"
        )

    def _set_calibrated(self, on: bool) -> None:
        """Show temperature-scaled or raw probabilities for the model in use."""
        if self.classifier is None:
            return
        checkpoint = self.classifier.checkpoint
        self.classifier.temperature = checkpoint_temperature(checkpoint) if on else 1.0
        self._show_temperature()
        self.update_now()

    def _show_temperature(self) -> None:
        temperature = checkpoint_temperature(self.classifier.checkpoint) if self.classifier else 1.0
        self.calibrated_box.setEnabled(temperature != 1.0)
        self.calibrated_box.setText(
            f"calibrated (T = {temperature:.2f})" if temperature != 1.0 else "calibrated (no T)"
        )

    def set_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Use ``checkpoint`` from now on (connected to ``AppState.modelChanged``).

        The model answers at once; its "is this a digit" statistics are read or fitted in a
        worker thread (fitting on the bundled sample takes a second or two, once per model).
        """
        try:
            classifier = Classifier(checkpoint, ood=None)
        except UserError as exc:
            self._show_error(str(exc))
            return
        if not self.calibrated_box.isChecked():
            classifier.temperature = 1.0
        self.classifier = classifier
        self._show_temperature()
        self._model_is_random = False
        self.dataset_info = checkpoint_info(checkpoint)  # e.g. Fashion-MNIST: bars named
        self.chart.getPlotItem().getAxis("bottom").setTicks(
            [list(enumerate(self.dataset_info.short_names))]
        )
        self.center_box.setEnabled(self.dataset_info.fit_like_mnist)
        classifier.warm_up()
        self.model_label.setText(self._describe_model(checkpoint))
        acc = checkpoint.test_accuracy
        self.model_label.setToolTip(
            f"Model: {checkpoint.model_name}, loss {checkpoint.loss}\n"
            f"Dataset: {checkpoint.dataset or 'unknown'}\n"
            f"Test accuracy: {'unknown' if acc is None else f'{acc:.2%}'}\n"
            f"Saved by Digit Lab {checkpoint.app_version or '?'}"
        )
        self.ood_pending = True
        self._run_in_background(
            classifier, lambda: ood_stats_for(checkpoint), self._ood_ready, self._ood_failed
        )
        self.update_now()

    @staticmethod
    def _describe_model(checkpoint: Checkpoint) -> str:
        acc = checkpoint.test_accuracy
        parts = [f"<b>{checkpoint.summary()}</b>"]
        if checkpoint.dataset.lower().startswith("bundled"):  # "bundled MNIST sample (4,000…"
            parts.append(
                "Trained on the small bundled sample only; a model trained on full MNIST in "
                "the Training tab reads your handwriting better."
            )
        elif acc is not None and acc < 0.97:
            parts.append("Below 97% on its test set: training longer or a CNN should help.")
        return "<br>".join(parts)

    def _ood_ready(self, classifier: object, stats: object) -> None:
        if classifier is not self.classifier:
            return  # the model changed meanwhile; its own fit is on the way
        self.ood_pending = False
        self.classifier.set_ood(stats)
        self.update_now()

    def _ood_failed(self, classifier: object, message: str) -> None:
        if classifier is self.classifier:
            self.ood_pending = False
            log.warning("no 'is this a digit' check for this model: %s", message)

    def load_model_dialog(self) -> None:
        path = ask_open_path(self, "model", "Load model", "Digit Lab models (*.pt);;All files (*)")
        if path is not None:
            self.load_model(path)

    def load_model(self, path: str | Path) -> bool:
        try:
            self.state.load_model_file(path)
        except UserError as exc:
            self._show_error(str(exc))
            return False
        self.state.show_status(f"Model loaded from {Path(path).name}")
        return True

    # ================================================================ answer
    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _set_pen_width(self, pixels: int) -> None:
        self.canvas.pen_width = pixels / RENDER_SIZE
        self.pen_value.setText(f"{pixels} px")

    def _preprocessing_toggled(self, on: bool) -> None:
        QSettings().setValue("draw/preprocess", on)
        self.update_now()

    def _update_tool_buttons(self) -> None:
        self.undo_button.setEnabled(self.canvas.can_undo())
        self.redo_button.setEnabled(self.canvas.can_redo())
        self.clear_button.setEnabled(not self.canvas.is_blank())

    def clear(self) -> None:
        self.reference_label = None
        self.canvas.clear()

    def update_now(self) -> None:
        """Preprocess the canvas and show the model's answer (called debounced while drawing)."""
        self._timer.stop()
        if self.classifier is None:
            return
        if self.canvas.background is None:
            self.reference_label = None  # the data set digit is gone (cleared, undone)
        started = time.perf_counter()
        picture = self.canvas.render_array()
        self.preprocessed = self.classifier.preprocess(picture, center=self.centred)
        self.prediction = self.classifier.predict_preprocessed([self.preprocessed])[0]
        self.last_latency_ms = (time.perf_counter() - started) * 1000.0
        self._show_prediction(self.prediction)
        self._show_steps(self.preprocessed)
        self._refresh_saliency()
        tensor = self.preprocessed.tensor
        self.inputChanged.emit(None if tensor is None else tensor[0].numpy().copy())

    def _show_prediction(self, prediction: Prediction) -> None:
        self.own_digits_bar.set_answer(None if prediction.is_empty else prediction.digit)
        if prediction.is_empty:
            self._show_empty()
        elif not prediction.looks_like_digit:
            self._show_not_a_digit(prediction)
        else:
            self._show_answer(prediction)

    def _show_empty(self) -> None:
        self.digit_label.setText("–")
        self.digit_label.setStyleSheet(theme.text_style(theme.FAINT))
        if self.opening:
            self.verdict_label.setText(f"Opening {self.opening}…")
            self.detail_label.setText("Reading the picture; you can keep working meanwhile.")
        else:
            self.verdict_label.setText("Nothing drawn")
            self.detail_label.setText("Draw a digit on the canvas, or drop a picture file here.")
        self.chart.set_probabilities(None)

    def _show_not_a_digit(self, prediction: Prediction) -> None:
        stats = self.classifier.ood_stats if self.classifier is not None else None
        self.digit_label.setText("?")
        self.digit_label.setStyleSheet(theme.text_style(theme.FAINT))
        self.verdict_label.setText("Not a digit?")
        limit = f", real digits stay under {stats.threshold:.1f}" if stats is not None else ""
        self.detail_label.setText(
            f"{NOT_A_DIGIT[0].upper()}{NOT_A_DIGIT[1:]} (unusualness {prediction.ood_score:.1f}"
            f"{limit}). Its closest guess would be {prediction.digit} "
            f"({prediction.confidence:.1%}): the softmax must add up to 100% even for a scribble."
        )
        self.chart.set_probabilities(
            prediction.probabilities, False, logits=prediction.logits, greyed=True
        )

    def _show_answer(self, prediction: Prediction) -> None:
        confident = prediction.is_confident
        self.digit_label.setText(str(prediction.digit))
        colour = theme.ACCENT if confident else theme.NOTE
        self.digit_label.setStyleSheet(theme.text_style(colour))
        if confident:
            sure = "over 99.9%" if prediction.confidence > 0.999 else f"{prediction.confidence:.1%}"
            self.verdict_label.setText(f"{self._class_prefix(prediction.digit)}{sure} sure")
        else:
            self.verdict_label.setText(
                f"Not sure: {self._class(prediction.digit)} or {self._class(prediction.runner_up)}?"
            )
        runner = prediction.runner_up
        detail = (
            f"Next best: {self._class(runner)} ({prediction.probabilities[runner]:.1%}). "
            f"Answered in {self.last_latency_ms:.1f} ms."
        )
        if self.reference_label is not None:
            detail = f"Labelled {self.reference_label} in the data set. " + detail
        if self._model_is_random:
            detail = "Untrained model: this is a random guess. " + detail
        self.detail_label.setText(detail)
        self.chart.set_probabilities(prediction.probabilities, confident, logits=prediction.logits)

    def _class(self, index: int) -> str:
        """Class ``index`` for people: the digit, or its name for e.g. a Fashion-MNIST model."""
        names = self.dataset_info.class_names
        return names[index] if 0 <= index < len(names) else str(index)

    def _class_prefix(self, index: int) -> str:
        """The class name before "98.1% sure" when classes have names (the big label shows 7)."""
        return "" if self.dataset_info.shows_digits else f"{self._class(index)}: "

    @property
    def centred(self) -> bool:
        """MNIST's crop-fit-centre: when ticked and the model's pictures were made so (digits;
        a Fashion-MNIST or KMNIST picture fills its frame and is only resized)."""
        return self.center_box.isChecked() and self.dataset_info.fit_like_mnist

    def _show_steps(self, item: Preprocessed) -> None:
        centred = self.centred
        names = ["crop", "fit20", "centred", "normalised"] if centred else ["resized", "normalised"]
        for index, (view, label) in enumerate(zip(self.step_views, self.step_labels, strict=True)):
            name = names[index] if index < len(names) else None
            visible = name is not None
            view.setVisible(visible)
            label.setVisible(visible)
            if index:
                self.step_arrows[index - 1].setVisible(visible)
            if name is None:
                continue
            title, tip = STEP_TITLES[name]
            label.setText(title)
            view.setToolTip(tip)
            label.setToolTip(tip)
            values = item.steps.get(name)
            if name == "normalised":
                view.set_array(values, None, None)  # min..max: the values are in model units
            else:
                view.set_array(values)
        self.input_view.set_array(item.steps.get("centred", item.steps.get("resized")))
        if item.is_empty:
            self.steps_note.setText("Nothing to show until there is ink on the canvas.")
        elif centred:
            self.steps_note.setText("Hover a step for what it does.")
        else:
            self.steps_note.setText(
                "Preprocessing is off: a small or off-centre digit reaches the model as it is."
            )

    def _refresh_saliency(self) -> None:
        heat = None
        item = self.preprocessed
        on = self.saliency_box.isChecked()
        if on and self.classifier is not None and item is not None and item.tensor is not None:
            heat, self.saliency_peak = self.classifier.saliency_map(item.tensor)
        self.input_view.set_overlay(heat)
        self.heat_scale.setVisible(on)
        self.heat_scale_label.setVisible(on)
        if heat is not None:
            self.heat_scale_label.setText(f"0 … {self.saliency_peak:.2g} ∂logit/∂pixel")
            self.heat_scale.setToolTip(
                "Black: the answer does not depend on that pixel. Brightest: a change of one\n"
                f"input unit there moves the digit's logit by {self.saliency_peak:.2g}."
            )
        else:
            self.heat_scale_label.setText("draw something first" if on else "")

    # ================================================================= files
    def open_image_dialog(self) -> None:
        path = ask_open_path(self, "picture", "Open a picture of a digit", IMAGE_FILTER)
        if path is not None:
            self.open_image(path)

    def open_image(self, path: str | Path) -> None:
        """Read a picture file in a worker thread, then put it on the canvas and classify it.

        ``pictureOpened`` fires when it is on the canvas (True) or refused (False); a refused
        or blank picture is said in words in place.
        """
        self._open_serial += 1
        self.opening = Path(path).name
        self._clear_error()
        self.open_button.setEnabled(False)
        self.state.show_status(f"Opening {self.opening}…")
        self._run_in_background(
            self._open_serial, lambda: read_paper(path), self._picture_read, self._picture_failed
        )
        if self.canvas.is_blank():
            self._show_empty()

    def _picture_read(self, serial: object, paper: object) -> None:
        if serial != self._open_serial:
            return  # a newer picture was asked for meanwhile
        self._picture_done()
        assert isinstance(paper, Paper)
        self.show_paper(paper)

    def _picture_failed(self, serial: object, message: str) -> None:
        if serial == self._open_serial:
            self._picture_done()
            self.update_now()
            self._show_error(message)
            self.pictureOpened.emit(False)

    def _picture_done(self) -> None:
        self.opening = None
        self.open_button.setEnabled(True)

    def show_paper(self, paper: Paper) -> None:
        """Put ``paper`` on the canvas (it can be drawn over) and classify it."""
        side = paper.pixels.shape[0]
        square = np.ascontiguousarray(paper.pixels)
        image = QImage(square.data, side, side, side, QImage.Format.Format_Grayscale8).copy()
        self.reference_label = None
        self.canvas.set_background(image)
        if paper.is_blank or (self.prediction is not None and self.prediction.is_empty):
            self._show_error(blank_message(paper.name))
        else:
            self.state.show_status(f"Classified {paper.name}")
        self.pictureOpened.emit(True)

    @Slot(object, object)
    def show_digit(self, image: object, label: object = None) -> None:
        """Put a data set digit on the canvas ("Try in Draw" from the evaluation view).

        ``image``: (28, 28) uint8 or float 0..1, ink high as MNIST stores it; ``label``: its
        true class (shown next to the answer) or None.
        """
        paper = digit_to_paper(np.asarray(image))
        side = paper.shape[0]
        qimage = QImage(paper.data, side, side, side, QImage.Format.Format_Grayscale8).copy()
        self._clear_error()
        self.canvas.set_background(qimage)
        self.reference_label = None if label is None else int(label)
        self.update_now()

    def save_png_dialog(self) -> None:
        path = ask_save_path(self, "drawing", "Save drawing", "digit.png", ".png", "PNG (*.png)")
        if path is not None:
            self.save_png(path)

    def save_png(self, path: str | Path) -> bool:
        """Write the drawing as a PNG at the canvas's render size, atomically."""
        path = Path(path)
        try:
            with atomic_path(path, suffix=".png") as tmp:
                if not self.canvas.render_image().save(str(tmp), "PNG"):
                    raise OSError("the PNG could not be written")
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self._show_error(f"Could not save {path.name}: {reason}")
            return False
        self.state.show_status(f"Saved {path}")
        return True

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt naming)
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            self.open_image(files[0])
            event.acceptProposedAction()

    # ========================================================= background work
    def _run_in_background(
        self,
        tag: object,
        function: Callable[[], Any],
        done: Callable[[object, object], None],
        failed: Callable[[object, str], None],
    ) -> None:
        """``function()`` in a worker thread (the app's one bridge); results come back queued."""
        worker = BackgroundCall(tag, function)
        worker.done.connect(done)
        worker.failed.connect(failed)
        thread = start_worker(worker, self)
        thread.setObjectName("draw-background")
        # The Python side of both must outlive the work; finished ones are dropped here.
        self._background = [(t, w) for t, w in self._background if _is_running(t)]
        self._background.append((thread, worker))

    # ================================================================ errors
    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        self.state.show_status(message, 8000)

    def _clear_error(self) -> None:
        self.error_label.hide()
        self.error_label.clear()

    # ============================================================== settings
    def _restore_settings(self) -> None:
        settings = QSettings()
        self.pen_slider.setValue(_int_setting(settings, "draw/pen", 18, self.pen_slider))
        self.center_box.setChecked(settings.value("draw/preprocess", True, type=bool))
        self.logits_box.setChecked(settings.value("draw/logits", False, type=bool))
        self.pen_slider.valueChanged.connect(lambda v: QSettings().setValue("draw/pen", v))
        self.logits_box.toggled.connect(lambda on: QSettings().setValue("draw/logits", on))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        self.shutdown()  # a QThread destroyed while running aborts the process
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop the debounce timer and wait for any picture decoding or fitting to end."""
        self._timer.stop()
        for thread, _worker in self._background:
            if _is_running(thread):
                thread.wait()
        self._background.clear()


def _is_running(thread: QThread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:  # deleted after it finished
        return False


def _int_setting(settings: QSettings, key: str, default: int, slider: QSlider) -> int:
    """A saved integer clamped to ``slider``'s range; anything unreadable gives ``default``."""
    try:
        value = int(str(settings.value(key, default)))
    except (TypeError, ValueError):
        return default
    return min(max(value, slider.minimum()), slider.maximum())
