"""The Draw tab: draw a digit and watch the current model read it, live.

A thin view: the canvas gives a picture, ``core.preprocess.canvas_to_input`` turns it into what
the model sees, ``core.inference.Classifier`` answers. Inference takes a few milliseconds on a
CPU, so it runs in the GUI thread, debounced while the pen moves.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFont, QImage, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
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

from core.atomic import atomic_path
from core.checkpoint import Checkpoint, load_checkpoint
from core.errors import UserError
from core.inference import Classifier, Prediction, default_checkpoint
from core.preprocess import Preprocessed, background_level, is_dark_on_light, load_image_file
from gui.app_state import AppState
from gui.draw_canvas import RENDER_SIZE, DrawCanvas
from gui.draw_views import PixelView, ProbabilityChart

log = logging.getLogger(__name__)

DEBOUNCE_MS = 25  # live answer at most this far behind the pen (plus a few ms of inference)
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"

STEP_TITLES = {
    "crop": ("crop", "The ink's bounding box, light on dark (inverted if drawn dark on light)."),
    "fit20": ("fit 20×20", "Scaled to fit a 20×20 box, keeping the aspect ratio, anti-aliased."),
    "centred": (
        "centre of mass",
        "Placed in 28×28 so the centre of mass of the ink is at the centre, as MNIST did.",
    ),
    "resized": ("resize 28×28", "The whole canvas squeezed to 28×28: no crop, no centring."),
    "normalised": (
        "normalised",
        "(x − 0.1307) / 0.3081: the same normalisation as the training data.",
    ),
}


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


class DrawTab(QWidget):
    """Canvas on the left; the answer, what the model sees and which model it is on the right."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.classifier: Classifier | None = None
        self.prediction: Prediction | None = None
        self.preprocessed: Preprocessed | None = None
        self.last_latency_ms = 0.0
        self._model_is_random = False
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

        tools = QHBoxLayout()
        tools.setSpacing(6)
        tools.addWidget(QLabel("Pen"))
        self.pen_slider = QSlider(Qt.Orientation.Horizontal)
        self.pen_slider.setRange(6, 40)
        self.pen_slider.setValue(18)
        self.pen_slider.setFixedWidth(110)
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
        self.clear_button = self._tool(
            "Clear", "Clear the canvas (Esc or Delete)", self.canvas.clear
        )
        self.open_button = self._tool(
            "Open…",
            "Classify a picture file (PNG, JPEG, BMP…; any size, either polarity).\n"
            "You can also drag and drop a file onto this tab. (Ctrl+O)",
            self.open_image_dialog,
        )
        self.open_button.setShortcut(QKeySequence.StandardKey.Open)
        self.save_button = self._tool(
            "Save PNG…", "Save the drawing as a 280×280 PNG (Ctrl+S)", self.save_png_dialog
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
        column.addLayout(tools)

        self.center_box = QCheckBox("MNIST preprocessing: crop, fit 20×20, centre of mass")
        self.center_box.setChecked(True)
        self.center_box.setToolTip(
            "MNIST digits were fitted into a 20×20 box and centred by their centre of mass in\n"
            "28×28. The model never saw anything else. Switch this off to feed the whole canvas\n"
            "squeezed to 28×28 and watch an off-centre or small digit fool the model."
        )
        self.center_box.toggled.connect(self._preprocessing_toggled)
        column.addWidget(self.center_box)
        self.hint_label = QLabel(
            "Left button draws · right button erases · drop an image file here to classify it"
        )
        self.hint_label.setStyleSheet("color: #777;")
        column.addWidget(self.hint_label)
        self._update_tool_buttons()
        self.canvas.changed.connect(self._update_tool_buttons)
        self.canvas.strokeFinished.connect(self._clear_error)
        return column

    def _tool(self, text: str, tip: str, slot) -> QToolButton:  # noqa: ANN001
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setAutoRaise(False)
        button.clicked.connect(slot)
        return button

    def _build_answer_column(self) -> QWidget:
        panel = QWidget(self)
        panel.setMinimumWidth(440)
        panel.setMaximumWidth(620)
        column = QVBoxLayout(panel)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(10)

        # --- the answer
        answer = QFrame()
        answer.setFrameShape(QFrame.Shape.StyledPanel)
        answer_layout = QHBoxLayout(answer)
        answer_layout.setContentsMargins(14, 8, 14, 8)
        self.digit_label = QLabel("–")
        big = QFont(self.font())
        big.setPointSize(56)
        big.setBold(True)
        self.digit_label.setFont(big)
        self.digit_label.setFixedWidth(96)
        self.digit_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.digit_label.setToolTip("The digit with the highest probability")
        answer_layout.addWidget(self.digit_label)
        words = QVBoxLayout()
        words.setSpacing(2)
        self.verdict_label = QLabel()
        verdict_font = QFont(self.font())
        verdict_font.setPointSizeF(verdict_font.pointSizeF() * 1.5)
        verdict_font.setBold(True)
        self.verdict_label.setFont(verdict_font)
        self.detail_label = QLabel()
        self.detail_label.setWordWrap(True)
        self.detail_label.setStyleSheet("color: #666;")
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c0392b;")
        self.error_label.hide()
        words.addStretch(1)
        words.addWidget(self.verdict_label)
        words.addWidget(self.detail_label)
        words.addWidget(self.error_label)
        words.addStretch(1)
        answer_layout.addLayout(words, stretch=1)
        column.addWidget(answer)

        # --- the probabilities
        self.chart = ProbabilityChart()
        self.chart.setMinimumHeight(140)
        column.addWidget(self.chart, stretch=1)

        # --- what the model sees
        sees = QGroupBox("What the model sees")
        sees_layout = QHBoxLayout(sees)
        sees_layout.setSpacing(12)
        left = QVBoxLayout()
        self.input_view = PixelView(140, grid=True)
        self.input_view.setToolTip(
            "The 28×28 picture the model actually receives (before normalisation).\n"
            "Every square is one input pixel."
        )
        left.addWidget(self.input_view, alignment=Qt.AlignmentFlag.AlignTop)
        left.addStretch(1)
        self.saliency_box = QCheckBox("Saliency overlay")
        self.saliency_box.setToolTip(
            "Overlay |∂ log p(predicted digit) / ∂ input pixel|: the same autograd as in the loss\n"
            "playground, pointed at the input instead of the weights. Bright pixels are where a\n"
            "little more or less ink would change the answer most."
        )
        self.saliency_box.toggled.connect(self._refresh_saliency)
        sees_layout.addLayout(left)

        steps = QVBoxLayout()
        steps.setSpacing(4)
        steps.addWidget(_heading("Preprocessing steps"))
        self.steps_grid = QGridLayout()
        self.steps_grid.setHorizontalSpacing(8)
        self.steps_grid.setVerticalSpacing(2)
        self.step_views: list[PixelView] = []
        self.step_labels: list[QLabel] = []
        self.step_arrows: list[QLabel] = []
        for index in range(4):
            view = PixelView(58)
            label = QLabel()
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            label.setStyleSheet("font-size: 10px;")
            if index:
                arrow = QLabel("→")
                arrow.setStyleSheet("color: #999;")
                self.steps_grid.addWidget(arrow, 0, 2 * index - 1)
                self.step_arrows.append(arrow)
            self.steps_grid.addWidget(view, 0, 2 * index, alignment=Qt.AlignmentFlag.AlignHCenter)
            self.steps_grid.addWidget(label, 1, 2 * index)
            self.step_views.append(view)
            self.step_labels.append(label)
        self.steps_grid.setColumnStretch(7, 1)  # pack the steps to the left when some are hidden
        steps.addLayout(self.steps_grid)
        self.steps_note = QLabel()
        self.steps_note.setWordWrap(True)
        self.steps_note.setStyleSheet("color: #777; font-size: 11px;")
        steps.addWidget(self.steps_note)
        steps.addStretch(1)
        steps.addWidget(self.saliency_box)
        sees_layout.addLayout(steps, stretch=1)
        column.addWidget(sees)

        # --- which model
        model_box = QGroupBox("Model")
        model_layout = QVBoxLayout(model_box)
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        model_layout.addWidget(self.model_label)
        buttons = QHBoxLayout()
        self.train_button = QPushButton("Train a better model…")
        self.train_button.setToolTip(
            "Open the Training tab. A CNN trained on full MNIST (60,000 digits) reads\n"
            "hand-drawn digits far more reliably than the small bundled model."
        )
        self.train_button.clicked.connect(self.go_to_training)
        self.load_button = QPushButton("Load model…")
        self.load_button.setToolTip("Use a Digit Lab model file (.pt) saved earlier")
        self.load_button.clicked.connect(self.load_model_dialog)
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.load_button)
        buttons.addStretch(1)
        model_layout.addLayout(buttons)
        column.addWidget(model_box)
        return panel

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
        from core.models import build_model

        self._model_is_random = True
        self.classifier = Classifier(
            Checkpoint.from_model(build_model("cnn"), "cnn", "nll", dataset="nothing (untrained)")
        )
        self.classifier.warm_up()
        self.model_label.setText(
            "<b>Untrained CNN</b>: its answers are random guesses. "
            f"<span style='color:#c0392b'>{reason}</span>"
        )

    def set_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Use ``checkpoint`` from now on (connected to ``AppState.modelChanged``)."""
        try:
            self.classifier = Classifier(checkpoint)
        except UserError as exc:
            self._show_error(str(exc))
            return
        self._model_is_random = False
        self.classifier.warm_up()
        acc = checkpoint.test_accuracy
        parts = [f"<b>{checkpoint.summary()}</b>"]
        if checkpoint.dataset and "sample" in checkpoint.dataset.lower():
            parts.append(
                "Trained on the small bundled sample only; a model trained on full MNIST in "
                "the Training tab reads your handwriting better."
            )
        elif acc is not None and acc < 0.97:
            parts.append("Below 97% on its test set: training longer or a CNN should help.")
        self.model_label.setText("<br>".join(parts))
        self.model_label.setToolTip(
            f"Model: {checkpoint.model_name}, loss {checkpoint.loss}\n"
            f"Dataset: {checkpoint.dataset or 'unknown'}\n"
            f"Test accuracy: {'unknown' if acc is None else f'{acc:.2%}'}\n"
            f"Saved by Digit Lab {checkpoint.app_version or '?'}"
        )
        self.update_now()

    def go_to_training(self) -> None:
        window = self.window()
        tabs = getattr(window, "tabs", None)
        training = getattr(window, "training_tab", None)
        if tabs is not None and training is not None:
            tabs.setCurrentWidget(training)

    def load_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Load model", "", "Digit Lab models (*.pt);;All files (*)"
        )
        if path:
            self.load_model(path)

    def load_model(self, path: str | Path) -> bool:
        try:
            checkpoint = load_checkpoint(path)
        except UserError as exc:
            self._show_error(str(exc))
            return False
        self.state.set_current_model(checkpoint)
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

    def update_now(self) -> None:
        """Preprocess the canvas and show the model's answer (called debounced while drawing)."""
        self._timer.stop()
        if self.classifier is None:
            return
        started = time.perf_counter()
        picture = self.canvas.render_array()
        self.preprocessed = self.classifier.preprocess(picture, center=self.center_box.isChecked())
        self.prediction = self.classifier.predict_preprocessed([self.preprocessed])[0]
        self.last_latency_ms = (time.perf_counter() - started) * 1000.0
        self._show_prediction(self.prediction)
        self._show_steps(self.preprocessed)
        self._refresh_saliency()

    def _show_prediction(self, prediction: Prediction) -> None:
        if prediction.is_empty:
            self.digit_label.setText("–")
            self.digit_label.setStyleSheet("color: palette(mid);")
            self.verdict_label.setText("Nothing drawn")
            self.detail_label.setText("Draw a digit on the canvas, or drop a picture file here.")
            self.chart.set_probabilities(None)
            return
        confident = prediction.is_confident
        self.digit_label.setText(str(prediction.digit))
        self.digit_label.setStyleSheet("color: #1f5fbf;" if confident else "color: #d35400;")
        if confident:
            sure = "over 99.9%" if prediction.confidence > 0.999 else f"{prediction.confidence:.1%}"
            self.verdict_label.setText(f"{sure} sure")
        else:
            self.verdict_label.setText(f"Not sure: {prediction.digit} or {prediction.runner_up}?")
        runner = prediction.runner_up
        detail = (
            f"Next best: {runner} ({prediction.probabilities[runner]:.1%}). "
            f"Answered in {self.last_latency_ms:.1f} ms."
        )
        if self._model_is_random:
            detail = "Untrained model: this is a random guess. " + detail
        self.detail_label.setText(detail)
        self.chart.set_probabilities(prediction.probabilities, confident)

    def _show_steps(self, item: Preprocessed) -> None:
        names = (
            ["crop", "fit20", "centred", "normalised"]
            if self.center_box.isChecked()
            else ["resized", "normalised"]
        )
        for index, (view, label) in enumerate(zip(self.step_views, self.step_labels, strict=True)):
            name = names[index] if index < len(names) else None
            visible = name is not None
            view.setVisible(visible)
            label.setVisible(visible)
            if index:
                self.step_arrows[index - 1].setVisible(visible)
            if not visible:
                continue
            title, tip = STEP_TITLES[name]
            label.setText(title)
            view.setToolTip(tip)
            values = item.steps.get(name)
            if name == "normalised":
                view.set_array(values, None, None)  # min..max: the values are in model units
            else:
                view.set_array(values)
        model_view = item.steps.get("centred", item.steps.get("resized"))
        self.input_view.set_array(model_view)
        if item.is_empty:
            self.steps_note.setText("Nothing to show until there is ink on the canvas.")
        elif self.center_box.isChecked():
            self.steps_note.setText("Hover a step for what it does.")
        else:
            self.steps_note.setText(
                "Preprocessing is off: a small or off-centre digit reaches the model as it is."
            )

    def _refresh_saliency(self) -> None:
        heat = None
        item = self.preprocessed
        if (
            self.saliency_box.isChecked()
            and self.classifier is not None
            and item is not None
            and item.tensor is not None
        ):
            heat = self.classifier.saliency(item.tensor)
        self.input_view.set_overlay(heat)

    # ================================================================= files
    def open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a picture of a digit", "", IMAGE_FILTER)
        if path:
            self.open_image(path)

    def open_image(self, path: str | Path) -> bool:
        """Put a picture file on the canvas (you can draw over it) and classify it."""
        try:
            pixels = load_image_file(path)
        except UserError as exc:
            self._show_error(str(exc))
            return False
        if not is_dark_on_light(pixels):
            pixels = 255 - pixels  # the canvas is paper: show every picture dark on light
        height, width = pixels.shape
        side = max(height, width)
        fill = int(round(background_level(pixels.astype(np.float32) / 255.0) * 255))
        square = np.full((side, side), fill, dtype=np.uint8)
        top, left = (side - height) // 2, (side - width) // 2
        square[top : top + height, left : left + width] = pixels
        square = np.ascontiguousarray(square)
        image = QImage(square.data, side, side, side, QImage.Format.Format_Grayscale8).copy()
        self._clear_error()
        self.canvas.set_background(image)
        self.state.show_status(f"Classifying {Path(path).name}")
        return True

    def save_png_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save drawing", "digit.png", "PNG (*.png)")
        if path:
            self.save_png(path if path.lower().endswith(".png") else path + ".png")

    def save_png(self, path: str | Path) -> bool:
        """Write the drawing as a 280×280 PNG, atomically (temp file, then rename)."""
        path = Path(path)
        try:
            with atomic_path(path, suffix=".png") as tmp:
                if not self.canvas.render_image().save(str(tmp), "PNG"):
                    raise OSError("the PNG could not be written")
        except OSError as exc:
            self._show_error(f"Could not save {path.name}: {exc}")
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
        self.pen_slider.setValue(settings.value("draw/pen", 18, type=int))
        self.center_box.setChecked(settings.value("draw/preprocess", True, type=bool))
        self.pen_slider.valueChanged.connect(lambda v: QSettings().setValue("draw/pen", v))

    def shutdown(self) -> None:
        """No threads to stop: inference runs in the GUI thread in a few milliseconds."""
        self._timer.stop()
