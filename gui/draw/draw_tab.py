"""The Draw tab: draw a digit and watch the current model read it, live.

A thin view over ``gui.draw.state.DrawSession`` (the model, the switches, the words): the canvas
gives a picture, the session reads it through the one preprocessing path
(``core.inference.preprocess.canvas_to_input``) and ``gui.draw.answer_panel.AnswerPanel`` shows
the answer. Inference takes about a millisecond, so it runs on the window's thread (with one
intra-op thread, see ``gui.draw.state``), debounced while the pen moves. Slow work runs in
``gui.workers`` workers: opening a picture (``gui.draw.picture_opener``, with a time limit and
a Cancel) and fitting a model's "is this a digit" statistics the first time it is used.

Signals for the main window: ``trainingRequested`` (show the Training tab) and ``inputChanged``
(the preprocessed 28x28 input, float32 in model units, or None, each time the answer updates;
the network inspector listens). Slot: ``show_digit(image, label, model)`` ("Try in Draw").
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import (
    QHBoxLayout,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from core.errors import UserError
from core.inference.classifier import Prediction
from core.inference.ood import ood_stats_for
from core.inference.preprocess import Paper, Preprocessed, blank_message, digit_to_paper
from core.storage.checkpoint import Checkpoint
from gui import theme
from gui.app_state import AppState
from gui.draw.answer_panel import AnswerPanel, ModelBox, ModelOfferBar
from gui.draw.attack_panel import AttackDialog
from gui.draw.canvas_panel import CanvasPanel
from gui.draw.compare_view import CompareDialog
from gui.draw.picture_opener import PictureOpener, keep_until_ended
from gui.draw.state import DrawAnswer, DrawSession, OfferedModel, pin_to_one_intra_op_thread
from gui.file_dialogs import ask_open_path, ask_save_path
from gui.workers import SHUTDOWN_WAIT_MS, FunctionWorker, is_running, start_worker, wait_for

log = logging.getLogger(__name__)

DEBOUNCE_MS = 25  # live answer at most this far behind the pen (plus a few ms of inference)
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"
# The answer panel's widgets, reachable as the tab's own (tests, the self-test, benchmarks).
CANVAS_WIDGETS = [
    "canvas",
    "pen_slider",
    "undo_button",
    "redo_button",
    "clear_button",
    "open_button",
    "cancel_button",
    "save_button",
    "own_digits_bar",
    "center_box",
    "hint_label",
]
PANEL_WIDGETS = [
    "digit_label",
    "verdict_label",
    "detail_label",
    "error_label",
    "chart",
    "logits_box",
    "calibrated_box",
    "input_view",
    "saliency_box",
    "heat_scale",
    "heat_scale_label",
    "step_views",
    "step_labels",
    "steps_note",
]


class DrawTab(QWidget):
    """Canvas on the left; the answer, what the model sees and which model it is on the right."""

    trainingRequested = Signal()
    inputChanged = Signal(object)  # np.ndarray (28, 28) float32 in model units, or None
    pictureOpened = Signal(bool)  # an opened file is on the canvas (True) or was refused (False)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.session = DrawSession()
        self.answer: DrawAnswer | None = None
        self.saliency_peak = 0.0
        self._ood_jobs: list[tuple[QThread, FunctionWorker]] = []
        self.ood_pending = False
        self.attack_dialog: AttackDialog | None = None
        self.compare_dialog: CompareDialog | None = None
        pin_to_one_intra_op_thread()  # this is the window's thread (issue 22)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.update_now)
        self.opener = PictureOpener(self)
        self.opener.opened.connect(self._picture_read)
        self.opener.failed.connect(self._picture_failed)
        self.opener.busyChanged.connect(self._opening_changed)
        self.setAcceptDrops(True)

        self._build_ui()
        self._restore_settings()
        state.modelChanged.connect(self.set_checkpoint)
        self._load_initial_model()
        self.update_now()

    # ================================================================ reading
    @property
    def classifier(self):  # noqa: ANN201 - core.inference.classifier.Classifier | None
        return self.session.classifier

    @property
    def prediction(self) -> Prediction | None:
        return None if self.answer is None else self.answer.prediction

    @property
    def preprocessed(self) -> Preprocessed | None:
        return None if self.answer is None else self.answer.preprocessed

    # ================================================================= layout
    def _build_ui(self) -> None:
        root = QHBoxLayout(self)
        root.setContentsMargins(12, 12, 12, 12)
        root.setSpacing(14)
        self.canvas_panel = CanvasPanel(self)
        self.canvas_panel.clearRequested.connect(self.clear)
        self.canvas_panel.openRequested.connect(self.open_image_dialog)
        self.canvas_panel.cancelRequested.connect(self.cancel_opening)
        self.canvas_panel.saveRequested.connect(self.save_png_dialog)
        self.canvas_panel.center_box.toggled.connect(self._preprocessing_toggled)
        for name in CANVAS_WIDGETS:
            setattr(self, name, getattr(self.canvas_panel, name))
        self.canvas.changed.connect(self._schedule)
        self.canvas.strokeFinished.connect(self.update_now)
        self.canvas.strokeFinished.connect(self._clear_error)
        root.addWidget(self.canvas_panel, stretch=5)
        column = QWidget(self)
        column.setMinimumWidth(400)
        column.setMaximumWidth(620)
        layout = QVBoxLayout(column)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.offer_bar = ModelOfferBar(column)
        self.offer_bar.clicked.connect(self._offer_clicked)
        layout.addWidget(self.offer_bar)
        self.answer_panel = AnswerPanel(column)
        self.answer_panel.calibratedToggled.connect(self._set_calibrated)
        self.answer_panel.saliencyToggled.connect(self._refresh_saliency)
        layout.addWidget(self.answer_panel, stretch=1)
        self.model_box = ModelBox(column)
        self.model_box.train_button.clicked.connect(self.trainingRequested)
        self.model_box.load_button.clicked.connect(self.load_model_dialog)
        self.model_box.bundled_button.clicked.connect(self.state.use_bundled)
        self.model_label, self.train_button = self.model_box.label, self.model_box.train_button
        self.model_box.fool_button.clicked.connect(self.show_attack)
        self.model_box.compare_button.clicked.connect(self.show_compare)
        layout.addWidget(self.model_box)
        root.addWidget(column, stretch=4)
        for name in PANEL_WIDGETS:
            setattr(self, name, getattr(self.answer_panel, name))

    # ================================================================== model
    def _load_initial_model(self) -> None:
        """The model ``AppState`` chose at start-up (chosen there, once, for every tab)."""
        if self.state.current_model is None:
            self.state.load_startup_model()  # a no-op when the window already chose
        checkpoint = self.state.current_model
        if checkpoint is None:
            reason = self.state.startup_note or "no model could be read"
            log.warning("no trained model: %s", reason)
            self._use_random_model(reason)
        elif self.classifier is None or self.classifier.checkpoint is not checkpoint:
            self.set_checkpoint(checkpoint)

    def _use_random_model(self, reason: str) -> None:
        """Keep the tab usable without any model file: an untrained CNN, clearly labelled."""
        self.session.use_random_model()
        self.model_label.setText(
            "<b>Untrained CNN</b>: its answers are random guesses. "
            f"<span style='color:{theme.ERROR}'>{reason}</span>"
        )

    def _set_calibrated(self, on: bool) -> None:
        """Show temperature-scaled or raw probabilities for the model in use."""
        self.session.set_calibrated(on)
        self.answer_panel.set_calibration(self.session.temperature)
        self.update_now()

    def set_checkpoint(self, checkpoint: Checkpoint, borrowed_as: str | None = None) -> None:
        """Use ``checkpoint`` from now on (connected to ``AppState.modelChanged``).

        ``borrowed_as``: a run's name when its model answers here only (``show_digit``). The
        model answers at once; its "is this a digit" statistics are read or fitted in a
        worker (fitting on the bundled sample takes a second or two, once per model).
        """
        try:
            self.session.use_checkpoint(checkpoint, borrowed_as=borrowed_as)
        except UserError as exc:
            self._show_error(str(exc))
            return
        info = self.session.dataset_info
        self.chart.set_class_names(info.short_names)
        self.center_box.setEnabled(info.fit_like_mnist)
        self.answer_panel.set_calibration(self.session.temperature)
        self.model_label.setText(self.session.model_html())
        self.model_label.setToolTip(self.session.model_tooltip())
        self._show_offer()
        self.ood_pending = True
        worker = FunctionWorker(lambda: ood_stats_for(checkpoint), self.session.classifier)
        worker.done.connect(self._ood_ready)
        worker.failed.connect(self._ood_failed)
        self._ood_jobs = [(t, w) for t, w in self._ood_jobs if is_running(t)]
        # Unparented: a fit that outlives the tab must not be destroyed while it runs.
        job = (start_worker(worker, None, name="draw-ood-fit"), worker)
        keep_until_ended(job)  # even if the tab is destroyed first
        self._ood_jobs.append(job)
        self.update_now()

    @Slot(object, object)
    def _ood_ready(self, classifier: object, stats: object) -> None:
        if classifier is not self.session.classifier:
            return  # the model changed meanwhile; its own fit is on the way
        self.ood_pending = False
        self.session.classifier.set_ood(stats)
        self.update_now()

    @Slot(object, str)
    def _ood_failed(self, classifier: object, message: str) -> None:
        if classifier is self.session.classifier:
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

    # ============================================================ "Try in Draw"
    def show_digit(
        self, image: object, label: object = None, model: OfferedModel | None = None
    ) -> None:
        """Put a data-set digit on the canvas ("Try in Draw" from the evaluation view).

        ``image``: (28, 28) uint8 or float 0..1, ink high as MNIST stores it; ``label``: its
        true class (shown next to the answer, and preselected in "Add to my digits as") or
        None; ``model``: the run whose mistake it is, offered in place (one click scores the
        digit with it) when it is not the model answering here.
        """
        paper = digit_to_paper(np.asarray(image))
        side = paper.shape[0]
        qimage = QImage(paper.data, side, side, side, QImage.Format.Format_Grayscale8).copy()
        self._clear_error()
        self.canvas.set_background(qimage)
        self.session.receive_digit(None if label is None else int(label), model)
        self.own_digits_bar.set_known_label(self.session.label_for_saving)
        self._show_offer()
        self.update_now()

    def _show_offer(self) -> None:
        self.offer_bar.show_for(self.session, self.state.current_name)

    def _offer_clicked(self) -> None:
        offered = self.session.offered
        if offered is not None:
            self.set_checkpoint(offered.checkpoint, borrowed_as=offered.name)
        elif self.state.current_model is not None:
            self.set_checkpoint(self.state.current_model)

    # ================================================================= answer
    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _preprocessing_toggled(self, on: bool) -> None:
        self.session.centre_wanted = on
        QSettings().setValue("draw/preprocess", on)
        self.update_now()

    def clear(self) -> None:
        self._forget_digit()
        self.canvas.clear()

    def _forget_digit(self) -> None:
        self.session.forget_digit()
        self.own_digits_bar.set_known_label(None)
        self._show_offer()

    def update_now(self) -> None:
        """Read the canvas and show the model's answer (called debounced while drawing)."""
        self._timer.stop()
        if self.session.classifier is None:
            return
        if self.canvas.background is None and self.session.reference_label is not None:
            self._forget_digit()  # the data-set digit is gone (cleared, undone)
        self.answer = self.session.read(self.canvas.render_array())
        self._show_answer(self.answer)
        self._refresh_saliency()
        tensor = self.answer.preprocessed.tensor
        self.inputChanged.emit(None if tensor is None else tensor[0].numpy().copy())

    def _show_answer(self, answer: DrawAnswer) -> None:
        prediction = answer.prediction
        self.own_digits_bar.set_answer(None if prediction.is_empty else prediction.digit)
        self.answer_panel.show_answer(answer)
        if prediction.is_empty and self.opener.opening:
            self.answer_panel.show_words(
                self.session.words(prediction, 0.0, opening=self.opener.opening)
            )

    def _refresh_saliency(self) -> None:
        result = None
        if self.saliency_box.isChecked():
            result = self.session.saliency(self.preprocessed)
        self.saliency_peak = 0.0 if result is None else result[1]
        self.answer_panel.show_saliency(result)

    # ========================================================= fool, compare
    def show_attack(self) -> AttackDialog:
        """ "Fool the model" on the drawing (a non-modal dialog, one at a time)."""
        if self.attack_dialog is None:
            self.attack_dialog = AttackDialog(self)
            self.attack_dialog.putOnCanvas.connect(self.put_on_canvas)
            self.attack_dialog.run_button.clicked.connect(self._attack_now)
        self.attack_dialog.show()
        self.attack_dialog.raise_()
        self._attack_now()
        return self.attack_dialog

    def _attack_now(self) -> None:
        drawing = None if self.canvas.is_blank() else self.canvas.render_array()
        self.attack_dialog.attack_picture(drawing, self.classifier, self.state.current_name)

    def show_compare(self) -> CompareDialog:
        """ "Side by side" and "Turn it" on the drawing (a non-modal dialog, one at a time)."""
        if self.compare_dialog is None:
            self.compare_dialog = CompareDialog(self.state, self)
        self.compare_dialog.show()
        self.compare_dialog.raise_()
        drawing = None if self.canvas.is_blank() else self.canvas.render_array()
        self.compare_dialog.compare(drawing, self.classifier)
        return self.compare_dialog

    @Slot(object)
    def put_on_canvas(self, picture: object) -> None:
        """Make ``picture`` ((H, W) uint8, dark on light) the drawing; read it at once."""
        pixels = np.ascontiguousarray(picture, dtype=np.uint8)
        height, width = pixels.shape
        image = QImage(pixels.data, width, height, width, QImage.Format.Format_Grayscale8)
        self._forget_digit()
        self.canvas.set_background(image.copy())
        self.update_now()

    # ================================================================== files
    def open_image_dialog(self) -> None:
        path = ask_open_path(self, "picture", "Open a picture of a digit", IMAGE_FILTER)
        if path is not None:
            self.open_image(path)

    def open_image(self, path: str | Path) -> None:
        """Read a picture file in a worker, then put it on the canvas and classify it.

        ``pictureOpened`` fires when it is on the canvas (True) or refused, given up after the
        time limit or cancelled (False); why is said in words in place.
        """
        self._clear_error()
        self.opener.open(path)
        self.state.show_status(f"Opening {self.opener.opening}…")
        if self.canvas.is_blank() and self.prediction is not None:
            self._show_answer(self.answer)

    def cancel_opening(self) -> None:
        self.opener.cancel()

    @Slot(bool)
    def _opening_changed(self, busy: bool) -> None:
        self.open_button.setEnabled(not busy)
        self.cancel_button.setVisible(busy)

    @Slot(object)
    def _picture_read(self, paper: object) -> None:
        assert isinstance(paper, Paper)
        self.show_paper(paper)

    @Slot(str)
    def _picture_failed(self, message: str) -> None:
        self.update_now()
        self._show_error(message)
        self.pictureOpened.emit(False)

    def show_paper(self, paper: Paper) -> None:
        """Put ``paper`` on the canvas (it can be drawn over) and classify it."""
        side = paper.pixels.shape[0]
        square = np.ascontiguousarray(paper.pixels)
        image = QImage(square.data, side, side, side, QImage.Format.Format_Grayscale8).copy()
        self._forget_digit()
        self.canvas.set_background(image)
        if paper.is_blank or (self.prediction is not None and self.prediction.is_empty):
            self._show_error(blank_message(paper.name))
        else:
            self.state.show_status(f"Classified {paper.name}")
        self.pictureOpened.emit(True)

    def save_png_dialog(self) -> None:
        path = ask_save_path(self, "drawing", "Save drawing", "digit.png", ".png", "PNG (*.png)")
        if path is not None:
            self.save_png(path)

    def save_png(self, path: str | Path) -> bool:
        """Write the drawing as a PNG at the canvas's render size, atomically."""
        problem = self.canvas_panel.write_png(Path(path))
        if problem:
            self._show_error(problem)
        else:
            self.state.show_status(f"Saved {path}")
        return problem is None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt naming)
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        files = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            self.open_image(files[0])
            event.acceptProposedAction()

    # ========================================================= errors, settings
    def _show_error(self, message: str) -> None:
        self.answer_panel.show_error(message)
        self.state.show_status(message, 8000)

    def _clear_error(self) -> None:
        self.answer_panel.clear_error()

    def _restore_settings(self) -> None:
        settings = QSettings()
        self.pen_slider.setValue(_int_setting(settings, "draw/pen", 18, self.pen_slider))
        self.center_box.setChecked(settings.value("draw/preprocess", True, type=bool))
        self.session.centre_wanted = self.center_box.isChecked()
        self.logits_box.setChecked(settings.value("draw/logits", False, type=bool))
        self.pen_slider.valueChanged.connect(lambda v: QSettings().setValue("draw/pen", v))
        self.logits_box.toggled.connect(lambda on: QSettings().setValue("draw/logits", on))

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        self.shutdown()  # a QThread destroyed while running aborts the process
        super().closeEvent(event)

    def shutdown(self, timeout_ms: int = SHUTDOWN_WAIT_MS) -> bool:
        """Stop the debounce timer and wait, at most ``timeout_ms``, for background work.

        True when nothing is left running. A picture still decoding is given up and left to
        end on its own (``PictureOpener`` keeps its thread alive); a model fit that will not
        end is logged and left too, so closing the window never hangs.
        """
        self._timer.stop()
        ended = self.opener.shutdown(timeout_ms)
        for dialog in (self.attack_dialog, self.compare_dialog):
            ended = (dialog is None or dialog.shutdown(timeout_ms)) and ended
        for thread, _worker in self._ood_jobs:
            ended = wait_for(thread, timeout_ms) and ended
        self._ood_jobs = []
        return ended


def _int_setting(settings: QSettings, key: str, default: int, slider: QSlider) -> int:
    """A saved integer clamped to ``slider``'s range; anything unreadable gives ``default``."""
    try:
        value = int(str(settings.value(key, default)))
    except (TypeError, ValueError):
        return default
    return min(max(value, slider.minimum()), slider.maximum())
