"""Small views of the Draw tab: a pixel-exact image view (with a saliency overlay) and the bars."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget


def gray_image(values: np.ndarray, low: float | None = None, high: float | None = None) -> QImage:
    """A float array as an 8-bit grayscale QImage, ``low..high`` mapped to black..white."""
    values = np.asarray(values, dtype=np.float32)
    low = float(values.min()) if low is None else low
    high = float(values.max()) if high is None else high
    span = high - low if high > low else 1.0
    pixels = np.ascontiguousarray(np.clip((values - low) / span * 255.0 + 0.5, 0, 255), np.uint8)
    height, width = pixels.shape
    return QImage(pixels.data, width, height, width, QImage.Format.Format_Grayscale8).copy()


def heat_image(heat: np.ndarray) -> QImage:
    """Saliency 0..1 as a translucent warm overlay (transparent where the gradient is ~0)."""
    heat = np.clip(np.asarray(heat, dtype=np.float32), 0.0, 1.0)
    rgba = np.zeros(heat.shape + (4,), dtype=np.uint8)
    rgba[..., 0] = 255
    rgba[..., 1] = (heat * 200).astype(np.uint8)
    rgba[..., 2] = 30
    # The weakest tenth of the gradient is noise on the background: keep it see-through.
    rgba[..., 3] = (np.clip((heat - 0.1) / 0.9, 0.0, 1.0) ** 0.7 * 235).astype(np.uint8)
    height, width = heat.shape
    return QImage(rgba.data, width, height, width * 4, QImage.Format.Format_RGBA8888).copy()


class PixelView(QWidget):
    """Shows a small image magnified with hard pixel edges, so a learner sees every pixel."""

    def __init__(self, side: int, parent: QWidget | None = None, grid: bool = False) -> None:
        super().__init__(parent)
        self._side = side
        self._image: QImage | None = None
        self._overlay: QImage | None = None
        self._grid = grid
        self.setMinimumSize(side, side)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(self._side, self._side)

    @property
    def has_image(self) -> bool:
        return self._image is not None

    def set_array(
        self, values: np.ndarray | None, low: float | None = 0.0, high: float | None = 1.0
    ):
        self._image = None if values is None else gray_image(values, low, high)
        self.update()

    def set_overlay(self, heat: np.ndarray | None) -> None:
        self._overlay = None if heat is None else heat_image(heat)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        frame = QRectF(0.5, 0.5, self.width() - 1.0, self.height() - 1.0)
        painter.fillRect(frame, QColor(0, 0, 0))
        if self._image is not None:
            # Keep the aspect ratio (a crop can be tall and thin), centred, nearest-neighbour.
            w, h = self._image.width(), self._image.height()
            scale = min(frame.width() / w, frame.height() / h)
            target = QRectF(0, 0, w * scale, h * scale)
            target.moveCenter(frame.center())
            painter.drawImage(target, self._image)
            if self._overlay is not None:
                painter.drawImage(target, self._overlay)
            if self._grid and scale >= 5:
                painter.setPen(QPen(QColor(255, 255, 255, 18), 1))
                for i in range(1, w):
                    x = target.left() + i * scale
                    painter.drawLine(int(x), int(target.top()), int(x), int(target.bottom()))
                for j in range(1, h):
                    y = target.top() + j * scale
                    painter.drawLine(int(target.left()), int(y), int(target.right()), int(y))
        painter.setPen(QPen(QColor(120, 120, 130), 1))
        painter.drawRect(frame)
        painter.end()


BAR_COLOR = (120, 150, 190)
TOP_COLOR = (40, 110, 220)
UNSURE_COLOR = (220, 140, 40)


class ProbabilityChart(pg.PlotWidget):
    """Ten bars, one per digit; the winner is highlighted (orange when the model is not sure)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background=None)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        plot = self.getPlotItem()
        plot.setYRange(0, 1.06, padding=0)
        plot.setXRange(-0.6, 9.6, padding=0)
        plot.showGrid(y=True, alpha=0.15)
        bottom = plot.getAxis("bottom")
        bottom.setTicks([[(i, str(i)) for i in range(10)]])
        plot.getAxis("left").setTicks([[(v, f"{v:.0%}") for v in (0, 0.25, 0.5, 0.75, 1.0)]])
        plot.setLabel("bottom", "digit")
        plot.setLabel("left", "probability")
        self._bars = pg.BarGraphItem(
            x=np.arange(10), height=np.zeros(10), width=0.7, brush=pg.mkBrush(BAR_COLOR), pen=None
        )
        plot.addItem(self._bars)
        self.heights = np.zeros(10)
        self.setToolTip(
            "Softmax probabilities of the ten digits. They always add up to 100%:\n"
            "the model must spread its belief over the digits it knows, even for a scribble."
        )

    def set_probabilities(self, probabilities: list[float] | None, confident: bool = True) -> None:
        heights = np.zeros(10) if probabilities is None else np.asarray(probabilities, float)
        top = int(np.argmax(heights)) if heights.any() else -1
        brushes = [
            pg.mkBrush(TOP_COLOR if confident else UNSURE_COLOR)
            if i == top
            else pg.mkBrush(BAR_COLOR)
            for i in range(10)
        ]
        self._bars.setOpts(height=heights, brushes=brushes)
        self.heights = heights
