"""Small views of the Draw tab: a pixel-exact image view (with a saliency overlay), the overlay's
scale, and the probability bars with their values."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPaintEvent, QPen
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

    def set_image(self, image: QImage | None) -> None:
        """Show a ready-made image (e.g. a coloured map) as it is."""
        self._image = image
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
    picture does not look like a digit. ``show_logits`` plots the raw scores instead, on an
    axis of their own ("logit", which can be negative): never logit values on bars drawn to a
    probability scale.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background=None)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        plot = self.getPlotItem()
        plot.setXRange(-0.6, 9.6, padding=0)
        plot.showGrid(y=True, alpha=0.15)
        plot.getAxis("bottom").setTicks([[(i, str(i)) for i in range(10)]])
        plot.setLabel("bottom", "digit")
        theme.style_plot(plot)
        self._bars = pg.BarGraphItem(
            x=np.arange(10), height=np.zeros(10), width=0.7, brush=pg.mkBrush(BAR_COLOR), pen=None
        )
        plot.addItem(self._bars)
        self._zero_line = pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen((150, 150, 155), width=1))
        plot.addItem(self._zero_line)
        self.value_items: list[pg.TextItem] = []
        for digit in range(10):
            item = pg.TextItem("", color=theme.INK, anchor=(0.5, 1.0))
            font = item.textItem.font()
            font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
            item.setFont(font)
            item.setPos(digit, 0.0)
            plot.addItem(item)
            self.value_items.append(item)
        self.heights = np.zeros(10)  # the probabilities
        self.logits: list[float] | None = None
        self.show_logits = False
        self.greyed = False
        self._colours: list[tuple[int, int, int]] = [BAR_COLOR] * 10
        self._use_axis()
        plot.getViewBox().sigResized.connect(self._fit_labels)  # once the scene has laid out
        self.setToolTip(
            "Softmax probabilities of the ten digits, written above the bars. They always add\n"
            "up to 100%: the model must spread its belief over the digits it knows, even for a\n"
            'scribble. Tick "show logits" to plot the raw scores the softmax turns into these.'
        )

    def set_class_names(self, names: tuple[str, ...] | list[str]) -> None:
        """Name the bars (e.g. Fashion-MNIST's "Coat"); digits by default."""
        self.getPlotItem().getAxis("bottom").setTicks([list(enumerate(names))])

    @property
    def axis_title(self) -> str:
        """The left axis's title: what the bars' heights are."""
        return "logit (raw score)" if self._plots_logits else "probability"

    @property
    def _plots_logits(self) -> bool:
        return self.show_logits and self.logits is not None and len(self.logits) == 10

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
            self._colours = [OOD_TOP_COLOR if i == top else OOD_COLOR for i in range(10)]
        else:
            winner = TOP_COLOR if confident else UNSURE_COLOR
            self._colours = [winner if i == top else BAR_COLOR for i in range(10)]
        self.heights = heights
        self.logits = None if probabilities is None else logits
        self.greyed = greyed
        self._redraw()

    def set_show_logits(self, on: bool) -> None:
        self.show_logits = on
        self._redraw()

    def bar_heights(self) -> np.ndarray:
        """The heights drawn: probabilities, or the logits when they are shown."""
        return np.asarray(self.logits, float) if self._plots_logits else self.heights

    def value_texts(self) -> list[str]:
        """What is written above each bar (empty when there is no answer)."""
        if not self.heights.any():
            return [""] * 10
        if self._plots_logits:
            return [f"{v:.1f}" for v in self.logits]
        return [_percent(p) for p in self.heights]

    def _use_axis(self) -> None:
        plot = self.getPlotItem()
        left = plot.getAxis("left")
        if self._plots_logits:
            values = np.asarray(self.logits, float)
            low, high = min(0.0, float(values.min())), max(0.0, float(values.max()))
            pad = max(1.0, (high - low) * 0.15)
            plot.setYRange(low - (pad if low < 0 else 0.0), high + pad, padding=0)
            self._top = None
        elif self.__dict__.get("_axis_mode") != "probability":
            plot.setYRange(0, 1.2, padding=0)  # _fit_labels may raise the top for the labels
            self._top = None
        mode = "logits" if self._plots_logits else "probability"
        if self.__dict__.get("_axis_mode") == mode:
            return  # ticks and title as they are: setting them again costs ~1 ms an answer
        self._axis_mode = mode
        if self._plots_logits:
            left.setTicks(None)  # pyqtgraph's own ticks for the logits' range
        else:
            left.setTicks([[(v, f"{v:.0%}") for v in (0, 0.25, 0.5, 0.75, 1.0)]])
        plot.setLabel("left", self.axis_title)
        self._zero_line.setVisible(self._plots_logits)

    def _redraw(self) -> None:
        heights = self.bar_heights()
        self._bars.setOpts(height=heights, brushes=[pg.mkBrush(c) for c in self._colours])
        self._use_axis()
        colour = theme.FAINT if self.greyed else theme.INK
        for digit, (item, text) in enumerate(
            zip(self.value_items, self.value_texts(), strict=True)
        ):
            if item.__dict__.get("shown") != (text, colour):  # setText costs ~0.8 ms a label
                item.setText(text, color=colour)
                item.shown = (text, colour)
            value = float(heights[digit])
            # Above a bar that rises, below one that falls (a negative logit).
            item.setAnchor((0.5, 1.0) if value >= 0 else (0.5, 0.0))
            offset = 0.01 if not self._plots_logits else 0.02 * self._span()
            item.setPos(digit, value + (offset if value >= 0 else -offset))
        self._fit_labels()

    def _fit_labels(self) -> None:
        """Labels that fit a narrow chart (the inspector's column, 1024 px windows): when the
        bars are too close for every label, the "<1%"/"0" ones go (the tooltip and the answer
        say the rest), so no two labels overlap; the top of the probability axis leaves room
        for the tallest bar's label, so "100%" is never cut."""
        texts = self.value_texts()
        box = self.getPlotItem().getViewBox().sceneBoundingRect()
        if box.width() <= 0 or box.height() <= 0:
            return
        metrics = QFontMetrics(self.value_items[0].textItem.font())
        widest = max((metrics.horizontalAdvance(t) for t in texts), default=0) + 4
        crowded = widest > box.width() / 10.2  # the x range is -0.6 … 9.6
        for item, text in zip(self.value_items, texts, strict=True):
            small = not self._plots_logits and text in ("<1%", "0")
            item.setVisible(not (crowded and small))
        if not self._plots_logits:
            label = metrics.height() + 10  # a TextItem's text has a 4 px margin around it
            top = 1.2 if box.height() <= 2 * label else 1.01 * box.height() / (box.height() - label)
            top = round(max(1.2, top), 3)
            if self.__dict__.get("_top") != top:
                self._top = top
                self.getPlotItem().setYRange(0, top, padding=0)

    def _span(self) -> float:
        low, high = self.getPlotItem().getViewBox().viewRange()[1]
        return float(high - low)


def _percent(p: float) -> str:
    """Short enough for a narrow bar: "98%", "4%", "<1%"; "0" only for exactly nothing."""
    if p >= 0.01:
        return f"{p:.0%}"
    return "<1%" if p > 0 else "0"
