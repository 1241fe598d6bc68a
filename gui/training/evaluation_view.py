"""After training: where the model goes wrong, not only how often.

A confusion matrix (pyqtgraph image, colour = share of the true class, text = counts), the
accuracy of each digit, and a gallery of misclassified test digits; click one to enlarge it.
For a model of another dataset (``core.data.datasets``: Fashion-MNIST, KMNIST) every axis, bar and
caption names its classes instead of digits.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.data.datasets import MNIST, DatasetInfo, resolve
from core.inference.answer import class_name
from core.inference.calibration import CalibrationReport
from core.training.train_types import EvalResult, Misclassified
from gui import theme
from gui.training.reliability_plot import ReliabilityPlot

THUMB = 56
MAX_GALLERY = 200
GALLERY_CHUNK = 25
TRY_TIP = (
    "Put this digit on the Draw tab's canvas: see what the model reads there, how sure it\n"
    "is and which pixels decided it, and draw over it to find what would change its mind."
)


def digit_pixmap(image: np.ndarray, size: int) -> QPixmap:
    """A 28x28 uint8 digit (ink high) as a pixmap of ``size`` pixels, dark ink on white paper."""
    paper = np.ascontiguousarray(255 - np.asarray(image, dtype=np.uint8))
    h, w = paper.shape
    qimage = QImage(paper.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(qimage).scaled(
        size,
        size,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.FastTransformation,  # keep the pixels visible: this is the input
    )


def _class_ticks(plot: pg.PlotWidget, axis: str, names: tuple[str, ...]) -> None:
    """Label ``axis`` of ``plot`` with one name per class (0..9).

    Names longer than a digit are staggered on a bottom axis (every second one a line lower),
    so "Trouser Pullover Dress" do not run into each other under narrow columns.
    """
    stagger = axis == "bottom" and max(len(name) for name in names) > 3
    labels = [("\n" + name if stagger and i % 2 else name) for i, name in enumerate(names)]
    plot.getPlotItem().getAxis(axis).setTicks([list(enumerate(labels))])


def _styled_plot(title: str, left: str, bottom: str, digit_axes: tuple[str, ...]) -> pg.PlotWidget:
    plot = pg.PlotWidget(background=theme.PLOT_BG)
    theme.style_plot(plot, left=left, bottom=bottom, title=title)
    item = plot.getPlotItem()
    for name in digit_axes:
        _class_ticks(plot, name, MNIST.class_names)
    item.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    return plot


class CountsItem(pg.GraphicsObject):
    """The count in every non-empty cell of a matrix, drawn as text at a fixed pixel size.

    One item painting 100 numbers, instead of 100 ``TextItem``s that took ~60 ms to create.
    """

    def __init__(self) -> None:
        super().__init__()
        self._counts = np.zeros((0, 0), dtype=np.int64)
        self._light = np.zeros((0, 0), dtype=bool)
        self.font = QFont()
        self.font.setPointSize(8)

    def set_counts(self, counts: np.ndarray, light: np.ndarray) -> None:
        """``light[i, j]`` chooses white text (for dark cells)."""
        self.prepareGeometryChange()
        self._counts, self._light = counts, light
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt naming)
        rows, cols = self._counts.shape
        return QRectF(-0.5, -0.5, cols, rows)

    def paint(self, painter: QPainter, *_args) -> None:  # noqa: ANN002
        transform = painter.transform()
        painter.save()
        painter.resetTransform()
        painter.setFont(self.font)
        for (row, col), n in np.ndenumerate(self._counts):
            if n == 0:
                continue
            centre = transform.map(QPointF(col, row))
            box = QRectF(centre.x() - 30, centre.y() - 10, 60, 20)
            painter.setPen(QColor(theme.ON_DARK) if self._light[row, col] else QColor(theme.INK))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, str(int(n)))
        painter.restore()


class DigitDialog(QDialog):
    """One misclassified digit, large, with what the model thought."""

    tryInDraw = Signal()

    def __init__(
        self,
        image: np.ndarray,
        entry: Misclassified,
        parent: QWidget | None = None,
        info: DatasetInfo = MNIST,
    ):
        super().__init__(parent)
        self.setWindowTitle(f"Test {info.item} #{entry.index}")
        picture = QLabel()
        picture.setPixmap(digit_pixmap(image, 280))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text = QLabel(
            f"<p style='font-size:14pt'>True label <b>{_named(info, entry.true_label)}</b>, "
            f"predicted <b style='color:{theme.ERROR}'>{_named(info, entry.predicted)}</b> "
            f"with {entry.confidence:.1%} confidence.</p>"
            f"<p>Test set index {entry.index}. Shown as the network sees it: 28x28 pixels.</p>"
        )
        text.setWordWrap(True)
        self.try_button = QPushButton("Try in &Draw")
        self.try_button.setToolTip(TRY_TIP)
        self.try_button.clicked.connect(self.tryInDraw)
        self.try_button.clicked.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(picture)
        layout.addWidget(text)
        layout.addWidget(self.try_button, 0, Qt.AlignmentFlag.AlignRight)


CONFUSION_MIN_WIDTH = 270


def _named(info: DatasetInfo, label: int) -> str:
    """A class for people: "4" for a digit, "Coat (4)" for a named class."""
    return str(label) if info.shows_digits else f"{class_name(info, label)} ({label})"


class EvaluationView(QWidget):
    """Shows one ``EvalResult``; ``show_result`` replaces what is shown.

    ``tryInDraw(image, true_label)`` asks for a misclassified digit (28x28 uint8, ink high) on
    the Draw tab; the main window wires it.
    """

    tryInDraw = Signal(object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: EvalResult | None = None
        self.info: DatasetInfo = MNIST  # whose classes the shown result names
        self._images: np.ndarray | None = None
        self._bar_texts: list[pg.TextItem] = []

        self.summary = QLabel("Train a model to see where it goes wrong.")
        self.summary.setWordWrap(True)
        font = self.summary.font()
        font.setPointSize(font.pointSize() + 1)
        self.summary.setFont(font)
        self._build_plots()
        self._build_gallery()
        self._build_reliability()
        self._build_layout()

    def _build_plots(self) -> None:
        self.confusion_plot = _styled_plot(
            "Confusion matrix (counts)", "true digit", "predicted", ("left", "bottom")
        )
        self.confusion_plot.getPlotItem().getViewBox().invertY(True)
        self.confusion_plot.getPlotItem().getViewBox().setAspectLocked(True)
        self.confusion_plot.setToolTip(
            "Row = the true digit, column = what the model said. The diagonal counts correct\n"
            "answers; every other cell is a kind of mistake (e.g. row 4, column 9: fours read\n"
            "as nines). Colour shows the share of that row, so rare mistakes stand out."
        )
        self.confusion_image = pg.ImageItem()
        colours = pg.ColorMap([0.0, 0.5, 1.0], [QColor(c) for c in theme.CONFUSION_RAMP])
        self.confusion_image.setLookupTable(colours.getLookupTable(0.0, 1.0, 256))
        self.confusion_plot.addItem(self.confusion_image)
        self.confusion_counts = CountsItem()
        self.confusion_plot.addItem(self.confusion_counts)

        self.class_plot = _styled_plot(
            "Accuracy per digit (%)", "accuracy (%)", "digit", ("bottom",)
        )
        self.class_plot.setToolTip(
            "Share of each digit's test images classified correctly; each digit has its own\n"
            "colour, the same in every view (colour-blind-safe)."
        )
        self.class_bars = pg.BarGraphItem(
            x=np.arange(10),
            height=np.zeros(10),
            width=0.7,
            brushes=[pg.mkBrush(c) for c in theme.CLASS_COLOURS],
        )
        self.class_plot.addItem(self.class_bars)
        self.class_plot.getPlotItem().setRange(xRange=(-0.6, 9.6), yRange=(0, 104), padding=0)
        self.confusion_plot.getPlotItem().setRange(xRange=(-0.5, 9.5), yRange=(-0.5, 9.5))

    def _build_reliability(self) -> None:
        self.reliability = ReliabilityPlot()
        self.reliability.setToolTip(
            "Is the model as sure as it is right? Each bar: the share of right answers among\n"
            "the test digits answered with that confidence. Bars below the diagonal mean\n"
            "over-confidence; the ECE is the average gap."
        )

    def _build_gallery(self) -> None:
        self.gallery_title = QLabel("<b>Misclassified test digits</b> (click to enlarge)")
        self.gallery = QListWidget()
        self.gallery.setViewMode(QListWidget.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(THUMB, THUMB))
        self.gallery.setGridSize(QSize(THUMB + 26, THUMB + 40))
        self.gallery.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.gallery.setMovement(QListWidget.Movement.Static)
        self.gallery.setUniformItemSizes(True)
        self.gallery.setToolTip("Label under each digit: true → predicted, and the confidence.")
        self.gallery.itemActivated.connect(self._enlarge)
        self.gallery.itemClicked.connect(self._enlarge)
        self.gallery.currentItemChanged.connect(self._update_try_button)
        self.try_button = QPushButton("Try in &Draw")
        self.try_button.setShortcut(QKeySequence("Ctrl+T"))  # Alt+D is the Device box's
        self.try_button.setToolTip(TRY_TIP + "\nSelect a digit first (arrow keys or a click).")
        self.try_button.clicked.connect(lambda: self.try_in_draw(self.gallery.currentItem()))
        self.try_button.setEnabled(False)
        self.dialog: DigitDialog | None = None
        self._pending: list[Misclassified] = []
        self._gallery_timer = QTimer(self)
        self._gallery_timer.setInterval(0)
        self._gallery_timer.timeout.connect(self._add_gallery_chunk)

    def _build_layout(self) -> None:
        # Per-digit accuracy and calibration share a place: both read best at the same size.
        self.side_tabs = QTabWidget()
        self.side_tabs.addTab(self.class_plot, "Per di&git")
        self.side_tabs.addTab(self.reliability, "Confidence")
        self.side_tabs.setTabToolTip(0, "How often each digit is read correctly")
        self.side_tabs.setTabToolTip(1, self.reliability.toolTip())
        # The diagram's toggle and title need this much, the matrix's ten columns and title
        # the rest of a 1024x700 window: neither is cut (issue 22).
        self.side_tabs.setMinimumWidth(max(270, self.reliability.minimumSizeHint().width() + 12))
        self.confusion_plot.setMinimumWidth(CONFUSION_MIN_WIDTH)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.confusion_plot)
        top.addWidget(self.side_tabs)
        top.setChildrenCollapsible(False)
        top.setSizes([480, 460])
        gallery_box = QWidget()
        gallery_layout = QVBoxLayout(gallery_box)
        gallery_layout.setContentsMargins(0, 0, 0, 0)
        title_row = QHBoxLayout()
        title_row.addWidget(self.gallery_title, 1)
        title_row.addWidget(self.try_button)
        gallery_layout.addLayout(title_row)
        gallery_layout.addWidget(self.gallery)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(top)
        body.addWidget(gallery_box)
        body.setSizes([430, 260])
        layout = QVBoxLayout(self)
        header = QHBoxLayout()
        header.addWidget(self.summary, 1)
        layout.addLayout(header)
        layout.addWidget(body, 1)

    def show_result(
        self,
        result: EvalResult,
        test_images: np.ndarray | None,
        title: str = "",
        dataset: str = "mnist",
    ) -> None:
        """Display ``result``; ``test_images`` (N, 28, 28) uint8 supplies the gallery pictures;
        ``dataset`` (a ``TrainConfig.dataset`` or a checkpoint's description) names the classes."""
        self.result = result
        self._images = test_images
        self._set_classes(resolve(dataset))
        wrong = result.samples - int(round(result.accuracy * result.samples))
        self.summary.setText(
            f"{title + ': ' if title else ''}<b>{result.accuracy:.2%}</b> test accuracy, "
            f"test loss {result.loss:.4f}, {result.samples:,} test {self.info.item}s, "
            f"{wrong:,} wrong."
        )
        self._show_confusion(np.asarray(result.confusion, dtype=np.int64))
        self._show_per_class(np.asarray(result.per_class_accuracy, dtype=float))
        self._fill_gallery(result.misclassified[:MAX_GALLERY], wrong)
        self.reliability.set_report(None)
        self.side_tabs.setTabText(1, "Confidence")
        self.reliability.caption.setText("Scoring how far the confidence can be trusted…")

    def _set_classes(self, info: DatasetInfo) -> None:
        """Axes, titles and the gallery's grid for ``info``'s classes."""
        self.info = info
        item = info.item
        theme.style_plot(self.confusion_plot, left=f"true {item}")
        _class_ticks(self.confusion_plot, "left", info.class_names)
        _class_ticks(self.confusion_plot, "bottom", info.short_names)
        theme.style_plot(self.class_plot, bottom=item, title=f"Accuracy per {item} (%)")
        _class_ticks(self.class_plot, "bottom", info.short_names)
        self.side_tabs.setTabText(0, "Per di&git" if info.shows_digits else f"Per {item}")
        self.side_tabs.setTabToolTip(0, f"How often each {item} is read correctly")
        # Names need a wider caption than "4 → 9".
        wide = 0 if info.shows_digits else 70
        self.gallery.setGridSize(QSize(THUMB + 26 + wide, THUMB + 40))

    def show_calibration(self, report: CalibrationReport | None) -> None:
        """The shown model's reliability on the test digits (None: it could not be scored)."""
        self.reliability.set_report(report)
        if report is not None:
            bins = self.reliability.shown_bins
            self.side_tabs.setTabText(1, f"Confidence (ECE {bins.ece:.1%})")
        else:
            self.side_tabs.setTabText(1, "Confidence")
            self.reliability.caption.setText(
                "The calibration of this model could not be scored (the log says why)."
            )

    def _show_confusion(self, counts: np.ndarray) -> None:
        rows = counts.sum(axis=1, keepdims=True).clip(min=1)
        share = np.sqrt(counts / rows)  # sqrt: small mistakes still get a visible tint
        # ImageItem indexes [x, y]: x = predicted (column), y = true (row).
        self.confusion_image.setImage(share.T, levels=(0.0, 1.0), autoLevels=False)
        self.confusion_image.setRect(-0.5, -0.5, counts.shape[1], counts.shape[0])
        self.confusion_counts.set_counts(counts, share > 0.6)
        self.confusion_plot.getPlotItem().setRange(xRange=(-0.5, 9.5), yRange=(-0.5, 9.5))

    def _show_per_class(self, accuracy: np.ndarray) -> None:
        percent = 100 * accuracy
        brushes = [pg.mkBrush(theme.CLASS_COLOURS[d % 10]) for d in range(len(percent))]
        self.class_bars.setOpts(x=np.arange(len(percent)), height=percent, brushes=brushes)
        for text in self._bar_texts:
            self.class_plot.removeItem(text)
        self._bar_texts = []
        low = float(max(0.0, min(percent.min() - 10, 80))) if len(percent) else 0.0
        for digit, value in enumerate(percent):
            text = pg.TextItem(f"{value:.0f}", color=theme.INK, anchor=(0.5, 1.0))
            text.setPos(digit, value)
            self.class_plot.addItem(text)
            self._bar_texts.append(text)
        self.class_plot.getPlotItem().setRange(xRange=(-0.6, 9.6), yRange=(low, 104), padding=0)

    def _fill_gallery(self, entries: list[Misclassified], wrong: int) -> None:
        self.gallery.clear()
        shown = entries if self._images is not None else []
        # Filled a chunk per event-loop turn: 200 thumbnails at once froze the window ~50 ms.
        self._pending = list(shown)
        self._gallery_timer.start()
        more = f", showing {len(shown)}" if len(shown) < wrong else ""
        self.gallery_title.setText(
            f"<b>Misclassified test {self.info.item}s</b>: {wrong:,}{more} (true → predicted, "
            "confidence; click to enlarge)"
        )

    def _add_gallery_chunk(self) -> None:
        chunk, self._pending = self._pending[:GALLERY_CHUNK], self._pending[GALLERY_CHUNK:]
        if not self._pending:
            self._gallery_timer.stop()
        short, info = self.info.short_names, self.info
        for entry in chunk:
            item = QListWidgetItem(
                QIcon(digit_pixmap(self._images[entry.index], THUMB)),
                f"{short[entry.true_label]} → {short[entry.predicted]}\n{entry.confidence:.0%}",
            )
            item.setData(Qt.ItemDataRole.UserRole, entry)
            item.setToolTip(
                f"true {_named(info, entry.true_label)}, predicted "
                f"{_named(info, entry.predicted)} ({entry.confidence:.1%} confident); "
                f"test index {entry.index}"
            )
            item.setForeground(QColor(theme.INK))
            self.gallery.addItem(item)

    @property
    def gallery_complete(self) -> bool:
        return not self._pending

    def _enlarge(self, item: QListWidgetItem) -> None:
        entry = item.data(Qt.ItemDataRole.UserRole)
        if entry is None or self._images is None:
            return
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = DigitDialog(self._images[entry.index], entry, self, self.info)
        self.dialog.tryInDraw.connect(lambda: self.try_in_draw(item))
        self.dialog.show()

    def _update_try_button(self) -> None:
        self.try_button.setEnabled(self.gallery.currentItem() is not None)

    def try_in_draw(self, item: QListWidgetItem | None) -> None:
        """Send ``item``'s digit and its true label to the Draw tab (``tryInDraw``)."""
        entry = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if entry is None or self._images is None:
            return
        self.tryInDraw.emit(np.array(self._images[entry.index], dtype=np.uint8), entry.true_label)
