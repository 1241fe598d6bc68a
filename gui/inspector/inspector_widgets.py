"""Widgets of the "Inside the network" tab: a layer's units as a picture, templates, digit strips.

Views only: they draw numpy arrays the engine (``core.inspection.activations``) computed and report which
unit the mouse is over. Values become colours here, with two colour-blind-safe maps: a sequential
one (black -> orange -> pale yellow) for activations, which a ReLU keeps >= 0, and a diverging one
(blue <- light grey -> orange) for weights and pre-activation values, which have a sign.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from gui import theme
from gui.draw.draw_views import fitted_rect

# Sequential: black, vermillion-orange, pale yellow (magma-like; readable without hue).
_SEQUENTIAL = np.array([[0, 0, 0], [120, 28, 109], [230, 97, 0], [253, 231, 160]], np.float32)
# Diverging: Okabe-Ito blue, near white, Okabe-Ito orange.
_DIVERGING = np.array([[0, 114, 178], [240, 240, 240], [230, 159, 0]], np.float32)
BACKGROUND = QColor(theme.INSPECT_BG)
HOVER_PEN = QColor(theme.INSPECT_HOVER)


def _ramp(stops: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Interpolate colour ``stops`` at ``t`` in 0..1 (any shape) -> (..., 3) uint8."""
    position = np.clip(t, 0.0, 1.0) * (len(stops) - 1)
    low = np.minimum(position.astype(np.int64), len(stops) - 2)
    frac = (position - low)[..., None]
    return (stops[low] * (1 - frac) + stops[low + 1] * frac).astype(np.uint8)


# 256-entry lookup tables: colouring a frame is one index per pixel (a 100k-pixel mosaic of
# first-layer templates in ~1 ms instead of ~7 ms), which keeps live redraws cheap.
_LUTS = {
    False: _ramp(_SEQUENTIAL, np.linspace(0, 1, 256)),
    True: _ramp(_DIVERGING, np.linspace(0, 1, 256)),
}


def colour_image(values: np.ndarray, signed: bool, scale: float | None = None) -> QImage:
    """A 2-D float array as an RGB QImage; NaN pixels get the background colour.

    ``signed`` picks the diverging map centred on 0 (``scale`` = the |value| drawn full colour,
    default the largest); else the sequential map from 0 (or the minimum, if negative) to ``scale``.
    """
    values = np.asarray(values, dtype=np.float32)
    finite = np.isfinite(values)
    safe = np.where(finite, values, 0.0)
    if signed:
        top = scale or float(np.abs(safe).max()) or 1.0
        t = safe / (2 * top) + 0.5
    else:
        low = min(0.0, float(safe.min()) if safe.size else 0.0)
        top = (scale or float(safe.max())) - low or 1.0
        t = (safe - low) / top
    rgb = _LUTS[signed][(np.clip(t, 0.0, 1.0) * 255 + 0.5).astype(np.intp)]
    rgb[~finite] = (BACKGROUND.red(), BACKGROUND.green(), BACKGROUND.blue())
    rgb = np.ascontiguousarray(rgb)
    height, width = values.shape
    return QImage(rgb.data, width, height, width * 3, QImage.Format.Format_RGB888).copy()


class UnitGridView(QWidget):
    """A layer's units side by side: feature maps as a grid of small images, dense units as a
    heat strip of cells. Hovering a unit emits ``unitHovered(unit)`` (-1 when the mouse leaves);
    the strongest units are outlined."""

    unitHovered = Signal(int)
    unitClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None, height: int = 60) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(height)
        self._tiles: np.ndarray | None = None  # (units, h, w)
        self._columns = 1
        self._image: QImage | None = None
        self._signed = False
        self._hover = -1
        self._marked: list[int] = []
        self.unit_label = "unit"
        self.show_indices = False  # write each unit's index in its cell (the logits' digits)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(400, self.height())

    @property
    def units(self) -> int:
        return 0 if self._tiles is None else int(self._tiles.shape[0])

    def set_values(
        self,
        values: np.ndarray | None,
        *,
        signed: bool = False,
        marked: list[int] | None = None,
        each_own_scale: bool = False,
    ) -> None:
        """Show a layer: (C, H, W) maps or (N,) dense values; ``marked`` units get an outline.

        ``each_own_scale`` scales every tile by its own largest |value| (weight templates: the
        pattern of each unit matters, not which unit has the largest weights)."""
        if values is None:
            self._tiles, self._image = None, None
            self.update()
            return
        values = np.asarray(values, dtype=np.float32)
        self._tiles = values if values.ndim == 3 else values.reshape(-1, 1, 1)
        if each_own_scale and self._tiles.shape[1] * self._tiles.shape[2] > 1:
            peak = np.abs(self._tiles).reshape(len(self._tiles), -1).max(1)
            self._tiles = self._tiles / np.where(peak > 0, peak, 1.0)[:, None, None]
        self._signed = signed
        self._marked = list(marked or [])
        self._columns = self._best_columns()
        self._image = colour_image(self._mosaic(), signed)
        self.update()

    def _best_columns(self) -> int:
        """Columns that make the tiles largest in this widget's shape."""
        count, h, w = self._tiles.shape
        best, best_scale = count, 0.0
        for columns in range(1, count + 1):
            rows = -(-count // columns)
            scale = min(self.width() / (columns * (w + 1)), self.height() / (rows * (h + 1)))
            if scale > best_scale:
                best, best_scale = columns, scale
        return best

    def _mosaic(self) -> np.ndarray:
        count, h, w = self._tiles.shape
        pad = 1 if h > 1 else 0
        rows = -(-count // self._columns)
        mosaic = np.full((rows * (h + pad), self._columns * (w + pad)), np.nan, np.float32)
        for index in range(count):
            r, c = divmod(index, self._columns)
            mosaic[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = (
                self._tiles[index]
            )
        return mosaic

    def _target(self) -> QRectF:
        w, h = self._image.width(), self._image.height()
        scale = min(self.width() / w, self.height() / h)
        target = QRectF(0, 0, w * scale, h * scale)
        target.moveCenter(QRectF(self.rect()).center())
        return target

    def _unit_rect(self, unit: int, target: QRectF) -> QRectF:
        _count, h, w = self._tiles.shape
        pad = 1 if h > 1 else 0
        scale = target.width() / self._image.width()
        r, c = divmod(unit, self._columns)
        return QRectF(
            target.left() + c * (w + pad) * scale,
            target.top() + r * (h + pad) * scale,
            w * scale,
            h * scale,
        )

    def unit_at(self, x: float, y: float) -> int:
        """The unit under widget position (x, y), or -1."""
        if self._image is None:
            return -1
        target = self._target()
        if not target.contains(x, y):
            return -1
        _count, h, w = self._tiles.shape
        pad = 1 if h > 1 else 0
        scale = target.width() / self._image.width()
        c = int((x - target.left()) / scale // (w + pad))
        r = int((y - target.top()) / scale // (h + pad))
        unit = r * self._columns + c
        return unit if 0 <= unit < self.units and c < self._columns else -1

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        unit = self.unit_at(event.position().x(), event.position().y())
        if unit != self._hover:
            self._hover = unit
            self.update()
            self.unitHovered.emit(unit)
        if unit >= 0 and self._tiles is not None:
            value = float(np.nanmax(self._tiles[unit]))
            QToolTip.showText(
                event.globalPosition().toPoint(), f"{self.unit_label} {unit}: {value:.3g}", self
            )

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        unit = self.unit_at(event.position().x(), event.position().y())
        if unit >= 0:
            self.unitClicked.emit(unit)

    def leaveEvent(self, event) -> None:  # noqa: ANN001, N802
        if self._hover != -1:
            self._hover = -1
            self.update()
            self.unitHovered.emit(-1)

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802
        if self._tiles is not None:
            self._columns = self._best_columns()
            self._image = colour_image(self._mosaic(), self._signed)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        if self._image is None:
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "nothing to show yet")
            painter.end()
            return
        target = self._target()
        painter.drawImage(target, self._image)
        painter.setPen(QPen(QColor(theme.INSPECT_TOP), 1.5))
        for unit in self._marked:
            if 0 <= unit < self.units:
                painter.drawRect(self._unit_rect(unit, target).adjusted(-1, -1, 1, 1))
        if self.show_indices:
            self._paint_indices(painter, target)
        if 0 <= self._hover < self.units:
            painter.setPen(QPen(HOVER_PEN, 2))
            painter.drawRect(self._unit_rect(self._hover, target).adjusted(-1.5, -1.5, 1.5, 1.5))
        painter.end()

    def _paint_indices(self, painter: QPainter, target: QRectF) -> None:
        """Each unit's index in its cell, dark on light cells and white on dark ones."""
        scale = target.width() / self._image.width()
        for unit in range(self.units):
            rect = self._unit_rect(unit, target)
            if rect.width() < 14:
                continue
            x = int((rect.center().x() - target.left()) / scale)
            y = int((rect.center().y() - target.top()) / scale)
            ground = self._image.pixelColor(min(x, self._image.width() - 1), y)
            light = ground.lightnessF() > 0.55
            painter.setPen(QColor(theme.INK) if light else QColor("white"))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(unit))


class ArrayView(QWidget):
    """One 2-D array drawn pixel-exact, keeping its aspect ratio (a template, a digit)."""

    def __init__(self, side: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._side = side
        self._image: QImage | None = None
        self.setMinimumSize(side, side)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self._side, self._side)

    @property
    def has_image(self) -> bool:
        return self._image is not None

    def set_array(self, values: np.ndarray | None, *, signed: bool = False) -> None:
        self._image = None if values is None else colour_image(values, signed)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        frame = QRectF(self.rect())
        painter.fillRect(frame, BACKGROUND)
        if self._image is not None:
            painter.drawImage(fitted_rect(self._image, frame), self._image)
        painter.end()


class DigitStrip(QWidget):
    """A row of 28x28 digits (light ink on dark, as MNIST stores them), e.g. the test digits
    that excite a unit most; ``captions`` are drawn under each."""

    def __init__(self, count: int, side: int = 44, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._count = count
        self._side = side
        self._images: list[QImage] = []
        self._captions: list[str] = []
        self.setFixedSize(count * (side + 4), side + 16)

    @property
    def shown(self) -> int:
        return len(self._images)

    def set_digits(self, digits: np.ndarray | None, captions: list[str] | None = None) -> None:
        self._images = []
        if digits is not None:
            for digit in np.asarray(digits, dtype=np.uint8)[: self._count]:
                pixels = np.ascontiguousarray(digit)
                self._images.append(
                    QImage(pixels.data, 28, 28, 28, QImage.Format.Format_Grayscale8).copy()
                )
        self._captions = list(captions or [])
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setPen(QColor(theme.MUTED))
        for index, image in enumerate(self._images):
            x = index * (self._side + 4)
            painter.drawImage(QRectF(x, 0, self._side, self._side), image)
            if index < len(self._captions):
                painter.drawText(
                    QRectF(x, self._side, self._side, 16),
                    Qt.AlignmentFlag.AlignCenter,
                    self._captions[index],
                )
        painter.end()
