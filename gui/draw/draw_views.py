"""Small views of the Draw tab: a pixel-exact image view (with a saliency overlay), the overlay's
scale, and the probability bars with their values."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui import theme


def gray_image(values: np.ndarray, low: float | None = None, high: float | None = None) -> QImage:
    """A float array as an 8-bit grayscale QImage, ``low..high`` mapped to black..white."""
    values = np.asarray(values, dtype=np.float32)
    low = float(values.min()) if low is None else low
    high = float(values.max()) if high is None else high
    span = high - low if high > low else 1.0
    pixels = np.ascontiguousarray(np.clip((values - low) / span * 255.0 + 0.5, 0, 255), np.uint8)
    height, width = pixels.shape
    return QImage(pixels.data, width, height, width, QImage.Format.Format_Grayscale8).copy()


def heat_rgba(heat: np.ndarray) -> np.ndarray:
    """Saliency 0..1 as RGBA: warm, translucent, see-through where the gradient is ~0.

    One colour map for the overlay and its scale, so the scale tells the truth.
    """
    heat = np.clip(np.asarray(heat, dtype=np.float32), 0.0, 1.0)
    rgba = np.zeros(heat.shape + (4,), dtype=np.uint8)
    rgba[..., 0] = 255
    rgba[..., 1] = (heat * 200).astype(np.uint8)
    rgba[..., 2] = 30
    # The weakest tenth of the gradient is noise on the background: keep it see-through.
    rgba[..., 3] = (np.clip((heat - 0.1) / 0.9, 0.0, 1.0) ** 0.7 * 235).astype(np.uint8)
    return rgba


def heat_image(heat: np.ndarray) -> QImage:
    """Saliency 0..1 as a translucent warm overlay QImage."""
    rgba = np.ascontiguousarray(heat_rgba(heat))
    height, width = rgba.shape[:2]
    return QImage(rgba.data, width, height, width * 4, QImage.Format.Format_RGBA8888).copy()


def fitted_rect(image: QImage, frame: QRectF) -> QRectF:
    """Where ``image`` goes in ``frame``: as large as fits, aspect ratio kept, centred."""
    w, h = image.width(), image.height()
    scale = min(frame.width() / w, frame.height() / h)
    target = QRectF(0, 0, w * scale, h * scale)
    target.moveCenter(frame.center())
    return target


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
            target = fitted_rect(self._image, frame)
            w, h = self._image.width(), self._image.height()
            scale = target.width() / w
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


class HeatScale(QWidget):
    """The saliency overlay's colour scale over black: 0 on the left, the peak on the right."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedHeight(12)
        self.setMinimumWidth(80)
        self._image = heat_image(np.linspace(0.0, 1.0, 64, dtype=np.float32)[None, :])

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        frame = QRectF(0.5, 0.5, self.width() - 1.0, self.height() - 1.0)
        painter.fillRect(frame, QColor(0, 0, 0))
        painter.drawImage(frame, self._image)
        painter.setPen(QPen(QColor(120, 120, 130), 1))
        painter.drawRect(frame)
        painter.end()


BAR_COLOR = (120, 150, 190)
TOP_COLOR = (40, 110, 220)
UNSURE_COLOR = (220, 140, 40)
OOD_COLOR = (200, 200, 204)  # "not a digit": every bar greyed, the answer does not count
OOD_TOP_COLOR = (165, 165, 172)


class ProbabilityChart(pg.PlotWidget):
    """Ten bars, one per digit, each with its value written above it.

    The winner is highlighted (orange when the model is not sure); every bar is grey when the
    picture does not look like a digit. ``show_logits`` writes the raw scores instead.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background=None)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        plot = self.getPlotItem()
        plot.setYRange(0, 1.2, padding=0)
        plot.setXRange(-0.6, 9.6, padding=0)
        plot.showGrid(y=True, alpha=0.15)
        plot.getAxis("bottom").setTicks([[(i, str(i)) for i in range(10)]])
        plot.getAxis("left").setTicks([[(v, f"{v:.0%}") for v in (0, 0.25, 0.5, 0.75, 1.0)]])
        plot.setLabel("bottom", "digit")
        plot.setLabel("left", "probability")
        theme.style_plot(plot)
        self._bars = pg.BarGraphItem(
            x=np.arange(10), height=np.zeros(10), width=0.7, brush=pg.mkBrush(BAR_COLOR), pen=None
        )
        plot.addItem(self._bars)
        self.value_items: list[pg.TextItem] = []
        for digit in range(10):
            item = pg.TextItem("", color=theme.INK, anchor=(0.5, 1.0))
            font = item.textItem.font()
            font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
            item.setFont(font)
            item.setPos(digit, 0.0)
            plot.addItem(item)
            self.value_items.append(item)
        self.heights = np.zeros(10)
        self.logits: list[float] | None = None
        self.show_logits = False
        self.greyed = False
        self.setToolTip(
            "Softmax probabilities of the ten digits, written above the bars. They always add\n"
            "up to 100%: the model must spread its belief over the digits it knows, even for a\n"
            'scribble. Tick "logits" to see the raw scores the softmax turns into these.'
        )

    def set_probabilities(
        self,
        probabilities: list[float] | None,
        confident: bool = True,
        *,
        logits: list[float] | None = None,
        greyed: bool = False,
    ) -> None:
        heights = np.zeros(10) if probabilities is None else np.asarray(probabilities, float)
        top = int(np.argmax(heights)) if heights.any() else -1
        if greyed:
            colours = [OOD_TOP_COLOR if i == top else OOD_COLOR for i in range(10)]
        else:
            winner = TOP_COLOR if confident else UNSURE_COLOR
            colours = [winner if i == top else BAR_COLOR for i in range(10)]
        self._bars.setOpts(height=heights, brushes=[pg.mkBrush(c) for c in colours])
        self.heights = heights
        self.logits = logits
        self.greyed = greyed
        self._write_values()

    def set_show_logits(self, on: bool) -> None:
        self.show_logits = on
        self._write_values()

    def value_texts(self) -> list[str]:
        """What is written above each bar (empty when there is no answer)."""
        if not self.heights.any():
            return [""] * 10
        if self.show_logits and self.logits is not None:
            return [f"{v:.1f}" for v in self.logits]
        return [_percent(p) for p in self.heights]

    def _write_values(self) -> None:
        colour = theme.FAINT if self.greyed else theme.INK
        for digit, (item, text) in enumerate(
            zip(self.value_items, self.value_texts(), strict=True)
        ):
            item.setText(text, color=colour)
            item.setPos(digit, float(self.heights[digit]) + 0.01)


def _percent(p: float) -> str:
    """Short enough for a narrow bar: "98%", "4%", "<1%"; "0" only for exactly nothing."""
    if p >= 0.01:
        return f"{p:.0%}"
    return "<1%" if p > 0 else "0"
