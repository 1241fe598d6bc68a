"""After training: where the model goes wrong, not only how often.

A confusion matrix (pyqtgraph image, colour = share of the true class, text = counts), the
accuracy of each digit, and a gallery of misclassified test digits; click one to enlarge it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.train_types import EvalResult, Misclassified

AXIS_COLOUR = "#333333"
THUMB = 56
MAX_GALLERY = 200


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


def _styled_plot(title: str, left: str, bottom: str, digit_axes: tuple[str, ...]) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w")
    item = plot.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(AXIS_COLOUR))
        axis.setTextPen(pg.mkPen(AXIS_COLOUR))
        if name in digit_axes:
            axis.setTicks([[(i, str(i)) for i in range(10)]])
    style = {"color": AXIS_COLOUR, "font-size": "10pt"}
    item.setLabel("left", left, **style)
    item.setLabel("bottom", bottom, **style)
    item.setTitle(title, color=AXIS_COLOUR, size="11pt")
    item.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    return plot


class DigitDialog(QDialog):
    """One misclassified digit, large, with what the model thought."""

    def __init__(self, image: np.ndarray, entry: Misclassified, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Test digit #{entry.index}")
        picture = QLabel()
        picture.setPixmap(digit_pixmap(image, 280))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text = QLabel(
            f"<p style='font-size:14pt'>True label <b>{entry.true_label}</b>, "
            f"predicted <b style='color:#c0392b'>{entry.predicted}</b> "
            f"with {entry.confidence:.1%} confidence.</p>"
            f"<p>Test set index {entry.index}. Shown as the network sees it: 28x28 pixels.</p>"
        )
        text.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(picture)
        layout.addWidget(text)


class EvaluationView(QWidget):
    """Shows one ``EvalResult``; ``show_result`` replaces what is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: EvalResult | None = None
        self._images: np.ndarray | None = None
        self._texts: list[pg.TextItem] = []
        self._bar_texts: list[pg.TextItem] = []

        self.summary = QLabel("Train a model to see where it goes wrong.")
        self.summary.setWordWrap(True)
        font = self.summary.font()
        font.setPointSize(font.pointSize() + 1)
        self.summary.setFont(font)

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
        colours = pg.ColorMap([0.0, 0.5, 1.0], [(255, 255, 255), (120, 170, 220), (20, 60, 140)])
        self.confusion_image.setLookupTable(colours.getLookupTable(0.0, 1.0, 256))
        self.confusion_plot.addItem(self.confusion_image)

        self.class_plot = _styled_plot(
            "Accuracy per digit (%)", "accuracy (%)", "digit", ("bottom",)
        )
        self.class_plot.setToolTip("Share of each digit's test images classified correctly.")
        self.class_bars = pg.BarGraphItem(
            x=np.arange(10), height=np.zeros(10), width=0.7, brush=pg.mkBrush("#1f77b4")
        )
        self.class_plot.addItem(self.class_bars)

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
        self.dialog: DigitDialog | None = None

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.confusion_plot)
        top.addWidget(self.class_plot)
        top.setSizes([520, 420])
        gallery_box = QWidget()
        gallery_layout = QVBoxLayout(gallery_box)
        gallery_layout.setContentsMargins(0, 0, 0, 0)
        gallery_layout.addWidget(self.gallery_title)
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
        self, result: EvalResult, test_images: np.ndarray | None, title: str = ""
    ) -> None:
        """Display ``result``; ``test_images`` (N, 28, 28) uint8 supplies the gallery pictures."""
        self.result = result
        self._images = test_images
        wrong = result.samples - int(round(result.accuracy * result.samples))
        self.summary.setText(
            f"{title + ': ' if title else ''}<b>{result.accuracy:.2%}</b> test accuracy, "
            f"test loss {result.loss:.4f}, {result.samples:,} test digits, {wrong:,} wrong."
        )
        self._show_confusion(np.asarray(result.confusion, dtype=np.int64))
        self._show_per_class(np.asarray(result.per_class_accuracy, dtype=float))
        self._fill_gallery(result.misclassified[:MAX_GALLERY], wrong)

    def _show_confusion(self, counts: np.ndarray) -> None:
        rows = counts.sum(axis=1, keepdims=True).clip(min=1)
        share = np.sqrt(counts / rows)  # sqrt: small mistakes still get a visible tint
        # ImageItem indexes [x, y]: x = predicted (column), y = true (row).
        self.confusion_image.setImage(share.T, levels=(0.0, 1.0), autoLevels=False)
        self.confusion_image.setRect(-0.5, -0.5, counts.shape[1], counts.shape[0])
        for text in self._texts:
            self.confusion_plot.removeItem(text)
        self._texts = []
        font = QFont()
        font.setPointSize(8)
        for true in range(counts.shape[0]):
            for pred in range(counts.shape[1]):
                n = int(counts[true, pred])
                if n == 0:
                    continue
                colour = "w" if share[true, pred] > 0.6 else "#202020"
                text = pg.TextItem(str(n), color=colour, anchor=(0.5, 0.5))
                text.setFont(font)
                text.setPos(pred, true)
                self.confusion_plot.addItem(text)
                self._texts.append(text)
        self.confusion_plot.getPlotItem().setRange(xRange=(-0.5, 9.5), yRange=(-0.5, 9.5))

    def _show_per_class(self, accuracy: np.ndarray) -> None:
        percent = 100 * accuracy
        brushes = [
            pg.mkBrush("#2ca02c" if p >= 95 else "#ff7f0e" if p >= 85 else "#d62728")
            for p in percent
        ]
        self.class_bars.setOpts(x=np.arange(len(percent)), height=percent, brushes=brushes)
        for text in self._bar_texts:
            self.class_plot.removeItem(text)
        self._bar_texts = []
        low = float(max(0.0, min(percent.min() - 10, 80))) if len(percent) else 0.0
        for digit, value in enumerate(percent):
            text = pg.TextItem(f"{value:.0f}", color=AXIS_COLOUR, anchor=(0.5, 1.0))
            text.setPos(digit, value)
            self.class_plot.addItem(text)
            self._bar_texts.append(text)
        self.class_plot.getPlotItem().setRange(xRange=(-0.6, 9.6), yRange=(low, 104), padding=0)

    def _fill_gallery(self, entries: list[Misclassified], wrong: int) -> None:
        self.gallery.clear()
        shown = entries if self._images is not None else []
        for entry in shown:
            image = self._images[entry.index]
            item = QListWidgetItem(
                QIcon(digit_pixmap(image, THUMB)),
                f"{entry.true_label} → {entry.predicted}\n{entry.confidence:.0%}",
            )
            item.setData(Qt.ItemDataRole.UserRole, entry)
            item.setToolTip(
                f"true {entry.true_label}, predicted {entry.predicted} "
                f"({entry.confidence:.1%} confident); test index {entry.index}"
            )
            item.setForeground(QColor("#202020"))
            self.gallery.addItem(item)
        more = f", showing {len(shown)}" if len(shown) < wrong else ""
        self.gallery_title.setText(
            f"<b>Misclassified test digits</b>: {wrong:,}{more} (true → predicted, confidence; "
            "click to enlarge)"
        )

    def _enlarge(self, item: QListWidgetItem) -> None:
        entry = item.data(Qt.ItemDataRole.UserRole)
        if entry is None or self._images is None:
            return
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = DigitDialog(self._images[entry.index], entry, self)
        self.dialog.show()
