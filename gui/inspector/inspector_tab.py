"""The "Inside the network" tab: the learner's digit flowing through every layer, live.

Why a tab of its own rather than a panel shared by the Draw and Training tabs: the flow needs
the width (five layers of feature maps and heat strips, the logits, softmax, a unit's template,
the map), which neither full tab has to spare at 1280x800; one view that both drawing and
training feed keeps one set of widgets and one place to look. It has its own small canvas, so
the learner draws here and watches every layer change as the pen moves; the Draw tab's digit,
an opened picture or a test digit clicked on the map come in through ``show_picture``.

A thin view: ``core.inspection.activations`` computes (one forward pass with hooks, well under a
millisecond for the default CNN on a CPU), this module draws. The map and the test digits that
excite each unit (seconds for 10,000 CNN digits) are computed in a worker thread on a model of
its own, through the app's one worker bridge (``gui.workers.start_worker``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.data.datasets import checkpoint_info
from core.errors import UserError
from core.inference.answer import answer_text, centre_pictures_for
from core.inference.classifier import Classifier, Prediction
from core.inference.preprocess import is_dark_on_light
from core.inspection.activations import (
    Inspection,
    StageSpec,
    stages_of,
    unit_template,
    weight_histograms,
)
from core.inspection.embedding_map import ReferenceDigits
from core.storage.checkpoint import Checkpoint
from core.training.models import MODELS
from gui import theme
from gui.app_state import AppState
from gui.draw.draw_canvas import DrawCanvas
from gui.draw.draw_views import ProbabilityChart
from gui.inspector.inspector_panels import MapPanel, TrainingPanel, UnitPanel, WeightsPanel
from gui.inspector.inspector_widgets import ArrayView, UnitGridView
from gui.workers import SHUTDOWN_WAIT_MS, FunctionWorker, is_running, start_worker, wait_for

log = logging.getLogger(__name__)

DEBOUNCE_MS = 25
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"


class ReferenceWorker(QObject):
    """Reads the model's "is this a digit?" statistics, then the test digits, and builds the
    map and the exemplars, in whatever thread calls ``work``; always ends with ``finished``.
    ``oodReady`` carries (token, OodStats | None) — a model without its own statistics has
    them fitted once, which must not happen on the window's thread; ``ready`` carries
    (token, ReferenceDigits)."""

    oodReady = Signal(object)
    ready = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, checkpoint: Checkpoint, token: int, dataset: str, data=None) -> None:  # noqa: ANN001
        super().__init__()
        self.checkpoint, self.token, self.dataset, self.data = checkpoint, token, dataset, data
        self._stop = threading.Event()
        self.done = False

    def stop(self) -> None:
        """Ask the pass to end at its next chunk (any thread)."""
        self._stop.set()

    @Slot()
    def work(self) -> None:
        from core.data.mnist import load_mnist
        from core.inference.ood import ood_stats_for
        from core.inspection.activations import Cancelled
        from core.inspection.embedding_map import build_reference

        try:
            model = self.checkpoint.build()  # its own model: hooks are per model object
            self.oodReady.emit((self.token, ood_stats_for(self.checkpoint, model)))
            data = self.data if self.data is not None else load_mnist(self.dataset)
            name = self.checkpoint.model_name
            reference = build_reference(model, name, data, should_stop=self._stop.is_set)
            self.ready.emit((self.token, reference))
        except Cancelled:
            pass  # a newer model or the end of the app: nobody waits for this map
        except UserError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 (reaches the user, never kills the thread)
            log.exception("building the map failed")
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        finally:
            self.done = True
            self.finished.emit()


def _grid_height(stage: StageSpec, shape: tuple[int, ...]) -> int:
    if stage.kind == "conv":
        return 150 if shape[-1] >= 28 else 116 if shape[-1] >= 14 else 92
    return 40 if stage.kind == "logits" else 48


def template_caption(stage: StageSpec, weight_shape: tuple[int, ...], unit: int) -> str:
    """What the hovered unit's template shows, in words a learner can use; ``weight_shape`` is
    the shape of the stage's weight tensor (out, in[, k, k])."""
    colours = "Orange: ink (or activity) there raises it; blue: lowers it."
    if stage.kind == "conv":
        inputs, k = weight_shape[1], weight_shape[-1]
        where = "the picture" if inputs == 1 else f"each of the {inputs} maps below (one tile each)"
        return f"Map {unit} is one {k}x{k} filter slid over {where}. {colours}"
    if weight_shape[1] == 28 * 28:
        return (
            f"Unit {unit} weighs all 784 pixels; its weights drawn as a 28x28 picture are the "
            f"pattern it looks for. {colours}"
        )
    what = "digit's score" if stage.kind == "logits" else f"unit {unit}"
    return (
        f"The {weight_shape[1]} weights of this {what}, one per value of the layer below, laid "
        f"out like that layer. {colours}"
    )


@dataclass
class PreparedModel:
    """A model ready for the tab: built and run once, its layers' shapes, its weights' spread."""

    classifier: Classifier
    shapes: dict[str, tuple[int, ...]]
    histograms: object  # core.inspection.activations.weight_histograms


def prepare_model(checkpoint: Checkpoint) -> PreparedModel:
    """Everything a new model needs before the tab can show it, in whatever thread calls it
    (a worker: the first passes pick torch's kernels, 100 ms to a second). The classifier
    has no "is this a digit?" statistics yet: ``ReferenceWorker`` reads or fits them.
    Raises ``UserError`` for a model the tab cannot show."""
    from core.inspection.activations import stage_shapes

    classifier = Classifier(checkpoint, ood=None)
    stages_of(checkpoint.model_name)
    classifier.warm_up()
    name = checkpoint.model_name
    return PreparedModel(classifier, stage_shapes(name), weight_histograms(classifier.model, name))


class LayerRow(QWidget):
    """One stage in the flow: a title line and its units."""

    def __init__(self, stage: StageSpec, shape: tuple[int, ...], parent: QWidget | None = None):
        super().__init__(parent)
        self.stage = stage
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.setSpacing(1)
        self.title = QLabel(stage.name)
        self.title.setWordWrap(True)  # a narrow window wraps the caption, never cuts it
        self.title.setToolTip(stage.about)
        layout.addWidget(self.title)
        self.grid = UnitGridView(height=_grid_height(stage, shape))
        self.grid.unit_label = {"conv": "map", "dense": "unit", "logits": "digit"}[stage.kind]
        self.grid.show_indices = stage.kind == "logits"
        self.grid.setToolTip(stage.about)
        layout.addWidget(self.grid)
        self.shape_text = "×".join(str(n) for n in shape)

    def show(self, layer) -> None:  # noqa: ANN001 (LayerActivation)
        active = layer.active_fraction
        active_text = "" if active is None else f" · {active:.0%} of its ReLUs fire"
        kind = {"conv": "feature maps", "dense": "units", "logits": "scores"}[layer.kind]
        self.title.setText(f"<b>{layer.name}</b> · {kind} {self.shape_text}{active_text}")
        signed = self.stage.activation is None
        top = [i for i, _ in layer.top_units]
        self.grid.set_values(
            layer.values, signed=signed, marked=top[:1] if layer.kind == "logits" else top
        )


class InsideNetworkTab(QWidget):
    """Canvas on the left, the flow through the layers in the middle, panels on the right."""

    digitInspected = Signal(object)  # Inspection, after the views took it
    modelReady = Signal()  # a new model is prepared and shown (``set_checkpoint``)

    def __init__(
        self,
        state: AppState,
        parent: QWidget | None = None,
        dataset: str = "auto",
        data=None,  # noqa: ANN001
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.dataset, self._data = dataset, data
        self.classifier: Classifier | None = None
        self.inspection: Inspection | None = None
        self.prediction: Prediction | None = None  # the answer for the picture shown
        self.verdict = None  # core.inference.answer.AnswerText for it
        self.reference: ReferenceDigits | None = None
        self.rows: list[LayerRow] = []
        self.last_latency_ms = 0.0
        self.inspect_ms = 0.0
        self._token = 0
        self._model_token = 0
        self._threads: list[QThread] = []
        self._dirty = True
        self._ever_shown = False
        self._pending_checkpoint: Checkpoint | None = None
        self._offered: int | None = None
        self._center = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.update_now)
        self._build_ui()
        state.modelChanged.connect(self.set_checkpoint)
        self._live_workers: list[ReferenceWorker] = []
        app = QCoreApplication.instance()
        if app is not None:  # quitting without closing the window must also end the thread
            app.aboutToQuit.connect(self.shutdown)
        if state.current_model is not None:
            self.set_checkpoint(state.current_model)

    # ================================================================== layout
    def _build_ui(self) -> None:
        root = QHBoxLayout(self)
        root.setContentsMargins(10, 10, 10, 10)
        root.setSpacing(12)
        # The input column scrolls when the window is short (1024x700), so no tab sets the
        # window's minimum height.
        column = QWidget()
        column.setLayout(build_input_column(self))
        column.layout().setContentsMargins(0, 0, 0, 0)
        column_scroll = QScrollArea()
        column_scroll.setWidget(column)
        column_scroll.setWidgetResizable(True)
        column_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        column_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = column_scroll.verticalScrollBar().sizeHint().width()
        column_scroll.setFixedWidth(column.sizeHint().width() + bar + 2)
        root.addWidget(column_scroll)
        self.flow = QWidget()
        self.flow_layout = QVBoxLayout(self.flow)
        self.flow_layout.setContentsMargins(0, 0, 6, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.flow)
        root.addWidget(scroll, 5)
        self.panels = QTabWidget()
        self.unit_panel = UnitPanel()
        self.map_panel = MapPanel()
        self.training_panel = TrainingPanel()
        self.weights_panel = WeightsPanel()
        self.panels.addTab(self.unit_panel, "Unit")
        self.panels.addTab(self.map_panel, "Map")
        self.panels.addTab(self.training_panel, "Training")
        self.panels.addTab(self.weights_panel, "Weights")
        self.panels.setMinimumWidth(380)
        self.map_panel.digitChosen.connect(self.show_test_digit)
        root.addWidget(self.panels, 4)

    def _build_rows(self, model_name: str, shapes: dict[str, tuple[int, ...]]) -> None:
        for row in self.rows:
            self.flow_layout.removeWidget(row)
            row.deleteLater()
        while self.flow_layout.count():
            self.flow_layout.takeAt(0)
        self.rows = [LayerRow(stage, shapes[stage.name]) for stage in stages_of(model_name)]
        for row in self.rows:
            row.grid.unitHovered.connect(lambda unit, r=row: self._unit_hovered(r, unit))
            self.flow_layout.addWidget(row)
        self.flow_layout.addStretch(1)

    # =================================================================== model
    def set_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Use ``checkpoint`` from now on (connected to ``AppState.modelChanged``).

        While the tab has never been shown the work (a warm-up pass, the layer rows, the map's
        scan) waits for its first showing: start-up must not pay for a tab nobody opened. The
        model is then prepared on a worker (``prepare_model``: 0.3-1.5 s of first passes on
        this machine) and shown when ready (``model_ready``), so the window never waits.
        """
        if not self._ever_shown:
            self._pending_checkpoint = checkpoint
            return
        self._pending_checkpoint = None
        self._model_token += 1
        worker = FunctionWorker(lambda: prepare_model(checkpoint), tag=self._model_token)
        worker.done.connect(self._model_prepared)
        worker.failed.connect(self._model_failed)
        self._threads = [t for t in self._threads if is_running(t)]
        self._threads.append(start_worker(worker, self, name="inspector-model-thread"))
        self.model_label.setText(f"Loading {checkpoint.summary()}…")

    def _model_failed(self, token: object, message: str) -> None:
        if token == self._model_token:
            self.error_label.setText(message)

    def _model_prepared(self, token: object, prepared: PreparedModel) -> None:
        if token != self._model_token:
            return  # a newer model was chosen meanwhile
        checkpoint = prepared.classifier.checkpoint
        previous = self.classifier.checkpoint.model_name if self.classifier else None
        self.classifier = prepared.classifier
        # Digits are centred as MNIST's were; a Fashion-MNIST/KMNIST picture is only resized.
        self._center = centre_pictures_for(checkpoint)
        if previous != checkpoint.model_name:
            self._build_rows(checkpoint.model_name, prepared.shapes)
        self.model_label.setText(f"{checkpoint.summary()}.")
        self.error_label.setText("")
        self.weights_panel.set_histograms(prepared.histograms)
        self._start_reference(checkpoint)
        self._dirty = True
        self.update_now()
        self.modelReady.emit()

    def _start_reference(self, checkpoint: Checkpoint) -> None:
        self._token += 1
        self.reference = None
        self.map_panel.set_reference(None)
        worker = ReferenceWorker(checkpoint, self._token, self.dataset, self._data)
        worker.ready.connect(self._reference_ready)
        worker.oodReady.connect(self._ood_ready)
        worker.failed.connect(self._reference_failed)
        thread = start_worker(worker, self, name="inspector-map-thread")
        for old in self._live_workers:
            old.stop()  # its map is for a model no longer shown
        self._threads = [t for t in self._threads if is_running(t)] + [thread]
        self._live_workers = [worker]  # a Python reference until it finishes
        worker.finished.connect(self._prune_workers)  # queued: runs in the GUI thread

    def _prune_workers(self) -> None:
        self._live_workers = [w for w in self._live_workers if not w.done]

    def _reference_ready(self, payload: tuple[int, ReferenceDigits]) -> None:
        token, reference = payload
        if token != self._token:
            return  # a newer model is being mapped
        self.reference = reference
        self.map_panel.set_reference(reference)
        self._place_marker()

    def _ood_ready(self, payload: tuple[int, object]) -> None:
        token, stats = payload
        if token != self._token or self.classifier is None:
            return
        self.classifier.set_ood(stats)
        if self.inspection is not None:
            self.update_now()  # the verdict may change: "not a digit?"

    def _reference_failed(self, message: str) -> None:
        self.map_panel.status.setText(f"The map could not be built: {message}")

    # =================================================================== input
    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def show_picture(self, pixels: np.ndarray) -> None:
        """Put a picture (any size, either polarity, uint8 grayscale) on the canvas."""
        pixels = np.asarray(pixels, dtype=np.uint8)
        if not is_dark_on_light(pixels):
            pixels = 255 - pixels  # the canvas is paper: dark ink on light
        pixels = np.ascontiguousarray(pixels)
        height, width = pixels.shape
        image = QImage(pixels.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
        self.canvas.set_background(image)
        self.update_now()

    def offer_picture(self, pixels: np.ndarray | None) -> bool:
        """Show the Draw tab's digit when it changed since it was last offered (so switching
        tabs follows the Draw tab, but never replaces what the learner drew here meanwhile
        with the same old picture). Returns whether it was shown."""
        if pixels is None:
            return False
        key = hash(np.asarray(pixels).tobytes())
        if key == self._offered:
            return False
        self._offered = key
        self.show_picture(pixels)
        return True

    def show_test_digit(self, index: int) -> None:
        """Follow test digit ``index`` (a click on the map) through the network."""
        if self.reference is not None:
            self.show_picture(self.reference.images[index])
            label = int(self.reference.map.labels[index])
            self.answer_note.setText(f"Test digit {index} (a {label}): " + self.answer_note.text())

    def open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a picture of a digit", "", IMAGE_FILTER)
        if path:
            self.open_image(path)

    def open_image(self, path: str) -> bool:
        from core.inference.image_io import read_picture

        try:
            picture = read_picture(path)
        except UserError as exc:
            self.error_label.setText(str(exc))
            return False
        self.error_label.setText("")
        self.show_picture(picture.pixels)
        return True

    # ================================================================= answer
    def update_now(self) -> None:
        """Preprocess the canvas and run it through the network (debounced while drawing)."""
        self._timer.stop()
        if self.classifier is None:
            return
        if not self.isVisible():
            self._dirty = True  # drawn when shown: no cost while another tab is in front
            return
        self._dirty = False
        started = time.perf_counter()
        item = self.classifier.preprocess(self.canvas.render_array(), center=self._center)
        if item.is_empty or item.tensor is None:
            self._show_empty()
            return
        from core.inspection.activations import inspect_tensor

        t0 = time.perf_counter()
        result = inspect_tensor(
            self.classifier.model,
            self.classifier.checkpoint.model_name,
            item.tensor,
            temperature=self.classifier.temperature,
        )
        self.prediction = self.classifier.predict_preprocessed([item])[0]
        self.inspect_ms = (time.perf_counter() - t0) * 1000.0
        self.inspection = result
        self.input_view.set_array(item.steps.get("centred", item.steps.get("resized")))
        for row in self.rows:
            row.show(result.layer(row.stage.name))
        self._show_answer(self.prediction)
        self._place_marker()
        self.last_latency_ms = (time.perf_counter() - started) * 1000.0
        self.timing_note.setText(
            f"Through the network in {self.inspect_ms:.1f} ms, shown in "
            f"{self.last_latency_ms:.1f} ms. Hover any square to see what it looks for."
        )
        self.digitInspected.emit(result)

    def _show_answer(self, prediction: Prediction) -> None:
        """The verdict in the Draw tab's words (``core.inference.answer``): the digit, "not
        sure", or "not a digit?" with every bar greyed."""
        stats = self.classifier.ood_stats
        info = checkpoint_info(self.classifier.checkpoint)
        text = answer_text(prediction, info, threshold=stats.threshold if stats else None)
        self.answer.setText(text.label)
        self.verdict = text
        self.chart.set_probabilities(
            prediction.probabilities,
            prediction.is_confident,
            logits=prediction.logits,
            greyed=not prediction.looks_like_digit,
        )
        self.answer_note.setText(f"<b>{text.verdict}</b> {text.detail}")

    def _show_empty(self) -> None:
        self.inspection = None
        self.input_view.set_array(None)
        for row in self.rows:
            row.grid.set_values(None)
            row.title.setText(f"<b>{row.stage.name}</b>")
        self.prediction = None
        self.answer.setText("–")
        self.chart.set_probabilities(None)
        self.map_panel.set_marker(None)
        self.answer_note.setText("Draw a digit: every layer below follows your pen.")
        self.timing_note.setText("")

    def _place_marker(self) -> None:
        if self.reference is None or self.inspection is None:
            self.map_panel.set_marker(None)
            return
        stage = self.reference.map.stage
        values = self.inspection.layer(stage).values.reshape(1, -1)
        self.map_panel.set_marker(self.reference.map.projection.project(values)[0])

    def _unit_hovered(self, row: LayerRow, unit: int) -> None:
        if unit < 0 or self.classifier is None or self.inspection is None:
            return
        name = self.classifier.checkpoint.model_name
        template = unit_template(self.classifier.model, name, row.stage.name, unit)
        values = self.inspection.layer(row.stage.name).values
        value = float(values[unit].max()) if values.ndim == 3 else float(values[unit])
        weights = dict(self.classifier.model.named_modules())[row.stage.weights].weight
        about = template_caption(row.stage, tuple(weights.shape), unit)
        self.unit_panel.show_unit(row.stage.name, unit, template, value, about, self.reference)
        if self.panels.currentWidget() is not self.unit_panel:
            self.panels.setCurrentWidget(self.unit_panel)

    def showEvent(self, event) -> None:  # noqa: ANN001, N802
        super().showEvent(event)
        self._ever_shown = True
        if self._pending_checkpoint is not None:
            self.set_checkpoint(self._pending_checkpoint)
        if self._dirty:
            QTimer.singleShot(0, self.update_now)

    # =============================================================== training
    def on_training_event(self, event: object) -> None:
        """Take the trainer's events (RunStarted, GradientReport, DeadReluReport, RunEnded)."""
        from core.inspection.activations import DeadReluReport, GradientReport
        from core.training.train_types import RunEnded, RunStarted

        if isinstance(event, RunStarted):
            title = MODELS[event.config.model].title if event.config.model in MODELS else ""
            recording = event.config.gradient_stats
            self.training_panel.reset(f"{title} on {event.dataset}", recording, title)
        elif isinstance(event, GradientReport):
            self.training_panel.add_report(event)
        elif isinstance(event, DeadReluReport):
            self.training_panel.add_dead(event)
        elif isinstance(event, RunEnded):
            self.training_panel.finish(f"Run {event.status}. {event.reason}".strip())

    # =============================================================== shutdown
    def shutdown(self) -> None:
        """Stop the map worker and wait for its thread (it stops within one chunk of digits).
        Also connected to ``aboutToQuit``: the app may end without a close event."""
        self._token += 1
        self._model_token += 1
        for worker in self._live_workers:
            worker.stop()
        self._live_workers = []
        for thread in self._threads:
            if is_running(thread):
                thread.quit()
                wait_for(thread, SHUTDOWN_WAIT_MS)
        self._threads = []


def build_input_column(tab: InsideNetworkTab) -> QVBoxLayout:
    """The left column: the canvas and its buttons, what the network receives, the answer,
    the bars, the model; the widgets become attributes of ``tab``."""
    column = QVBoxLayout()
    column.addWidget(QLabel("<b>Your digit</b>"))
    tab.canvas = DrawCanvas(tab)
    tab.canvas.setFixedSize(280, 280)
    tab.canvas.changed.connect(tab._schedule)
    column.addWidget(tab.canvas)
    buttons = QHBoxLayout()
    for text, tip, slot in (
        ("Clear", "Empty the canvas (Esc)", tab.canvas.clear),
        ("Undo", "Take back the last stroke (Ctrl+Z)", tab.canvas.undo),
        ("Open…", "Put a picture file on the canvas", tab.open_image_dialog),
    ):
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        buttons.addWidget(button)
    column.addLayout(buttons)
    row = QHBoxLayout()
    tab.input_view = ArrayView(84)
    tab.input_view.setToolTip("What the network receives: your digit cropped and centred, 28×28.")
    row.addWidget(tab.input_view)
    tab.answer = QLabel("–")
    tab.answer.setStyleSheet(
        theme.text_style(theme.ACCENT, size_px=40, extra=" font-weight: bold;")
    )
    row.addWidget(tab.answer)
    column.addLayout(row)
    tab.answer_note = QLabel("Draw a digit: every layer below follows your pen.")
    tab.answer_note.setWordWrap(True)
    tab.answer_note.setMaximumWidth(280)
    column.addWidget(tab.answer_note)
    tab.timing_note = QLabel("")
    tab.timing_note.setWordWrap(True)
    tab.timing_note.setMaximumWidth(280)
    tab.timing_note.setStyleSheet(theme.text_style(theme.MUTED))
    column.addWidget(tab.timing_note)
    tab.chart = ProbabilityChart()
    tab.chart.setFixedSize(280, 150)
    column.addWidget(tab.chart)
    tab.model_label = QLabel("")
    tab.model_label.setWordWrap(True)
    tab.model_label.setMaximumWidth(280)
    tab.model_label.setStyleSheet(theme.text_style(theme.MUTED))
    column.addWidget(tab.model_label)
    tab.error_label = QLabel("")
    tab.error_label.setWordWrap(True)
    tab.error_label.setMaximumWidth(280)
    tab.error_label.setStyleSheet(theme.text_style(theme.ERROR))
    column.addWidget(tab.error_label)
    column.addStretch(1)
    return column
