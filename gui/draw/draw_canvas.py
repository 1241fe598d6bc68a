"""The drawing surface: a square of paper that keeps each stroke as a path, with undo and redo.

Strokes are stored in unit coordinates (0..1 of the square), so the drawing scales with the
window and renders at any resolution; the picture handed to preprocessing is always rendered at
``RENDER_SIZE`` so the answer does not depend on the window's size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPointingDevice,
    QResizeEvent,
    QShortcut,
    QTabletEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

RENDER_SIZE = 280
MIN_SIDE = 280
INK = QColor(20, 20, 28)
PAPER = QColor(255, 255, 255)
ERASER_SCALE = 2.0  # the eraser is wider than the pen, as on paper


@dataclass(frozen=True)
class Stroke:
    """One pen-down-to-pen-up movement; ``width`` is a fraction of the square's side."""

    points: tuple[tuple[float, float], ...]
    width: float
    erase: bool = False

    def path(self, side: float) -> QPainterPath:
        path = QPainterPath()
        first = self.points[0]
        path.moveTo(first[0] * side, first[1] * side)
        if len(self.points) == 1:  # a dot: a zero-length line still gets round caps
            path.lineTo(first[0] * side + 1e-3, first[1] * side)
        for x, y in self.points[1:]:
            path.lineTo(x * side, y * side)
        return path


def paint_strokes(
    painter: QPainter, strokes: tuple[Stroke, ...], side: float, background: QImage | None
) -> None:
    """Paint paper, the optional background picture and the strokes into a ``side`` square."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    painter.fillRect(QRectF(0, 0, side, side), PAPER)
    if background is not None:
        painter.drawImage(QRectF(0, 0, side, side), background)
    paint_ink(painter, strokes, side)


def paint_ink(painter: QPainter, strokes: tuple[Stroke, ...], side: float) -> None:
    """Paint ``strokes`` (ink, or paper for the eraser's) over what ``painter`` holds."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    for stroke in strokes:
        color = PAPER if stroke.erase else INK
        pen = QPen(color, stroke.width * side)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(stroke.path(side))


class DrawCanvas(QWidget):
    """Left button draws, right button (or a pen's eraser end) erases; Ctrl+Z / Ctrl+Y undo/redo.

    ``changed`` fires while drawing (for a live answer) and ``strokeFinished`` when the pen lifts.
    """

    changed = Signal()
    strokeFinished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(MIN_SIDE, MIN_SIDE)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_TabletTracking, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip(
            "Draw one digit with the left mouse button (or a pen).\n"
            "Right button erases. Ctrl+Z undo, Ctrl+Y redo, Esc or Delete clears."
        )
        self.pen_width = 0.065  # of the side: ~18 px of a 280 px canvas, like MNIST's stroke/size
        # History of drawings (each a tuple of strokes); undo/redo move ``_index``.
        self._history: list[tuple[tuple[Stroke, ...], QImage | None]] = [((), None)]
        self._index = 0
        self._current: list[tuple[float, float]] | None = None
        self._current_erase = False
        # The drawing without the stroke in progress, rendered once per change (for the model,
        # and as painted on screen): while the pen moves only the live stroke is painted over it.
        self._render_cache: tuple[object, int, QImage] | None = None
        self._screen_cache: tuple[object, tuple[int, int, float], QImage] | None = None
        bindings = [
            (QKeySequence.keyBindings(QKeySequence.StandardKey.Undo), self.undo),
            (
                QKeySequence.keyBindings(QKeySequence.StandardKey.Redo) + [QKeySequence("Ctrl+Y")],
                self.redo,
            ),
            ([QKeySequence(Qt.Key.Key_Escape), QKeySequence(Qt.Key.Key_Delete)], self.clear),
        ]
        self._shortcuts: list[QShortcut] = []
        host = parent if parent is not None else self
        for sequences, slot in bindings:
            # One shortcut per distinct key: two shortcuts on the same key would both go dead.
            unique = {seq.toString(): seq for seq in sequences if not seq.isEmpty()}
            for keys in unique.values():
                shortcut = QShortcut(keys, host)
                # Whatever has the keyboard while the canvas shows (the tab bar after a tab
                # switch, a check box): a shortcut of a hidden tab never fires, so the Draw
                # tab's and the inspector's canvases do not clash; a text box still takes its
                # own Ctrl+Z and Delete first (Qt's shortcut override).
                shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
                self._shortcuts.append(shortcut)
                shortcut.activated.connect(slot)

    # ------------------------------------------------------------------ state
    @property
    def strokes(self) -> tuple[Stroke, ...]:
        strokes = self._history[self._index][0]
        if self._current:
            strokes = strokes + (self._live_stroke(),)
        return strokes

    @property
    def background(self) -> QImage | None:
        return self._history[self._index][1]

    def is_blank(self) -> bool:
        return not self.strokes and self.background is None

    def can_undo(self) -> bool:
        return self._index > 0

    def can_redo(self) -> bool:
        return self._index < len(self._history) - 1

    def _push(self, strokes: tuple[Stroke, ...], background: QImage | None) -> None:
        del self._history[self._index + 1 :]
        self._history.append((strokes, background))
        self._index += 1
        self.update()
        self.changed.emit()
        self.strokeFinished.emit()

    def add_stroke(self, stroke: Stroke) -> None:
        """Append a finished stroke (used by pointer input, and by tests and screenshots)."""
        self._push(self._history[self._index][0] + (stroke,), self.background)

    def set_background(self, image: QImage) -> None:
        """Start a new drawing over a picture (an opened or dropped file); undo brings back the old."""
        self._push((), image)

    def undo(self) -> None:
        if self.can_undo():
            self._index -= 1
            self.update()
            self.changed.emit()
            self.strokeFinished.emit()

    def redo(self) -> None:
        if self.can_redo():
            self._index += 1
            self.update()
            self.changed.emit()
            self.strokeFinished.emit()

    def clear(self) -> None:
        """Empty the canvas (undoable)."""
        if not self.is_blank():
            self._push((), None)

    # ------------------------------------------------------------- rendering
    @property
    def render_side(self) -> int:
        """The side the drawing is rendered at for the model: ``RENDER_SIZE`` for a drawing,
        the picture's own side when one is on the canvas (so an opened file reaches the model
        pixel for pixel as ``classify`` reads it)."""
        background = self.background
        return RENDER_SIZE if background is None else max(background.width(), 1)

    def _committed_image(self, size: int) -> QImage:
        """The drawing as it stands before the stroke in progress, at ``size`` px, kept until the
        drawing changes (the same pixels as painting every stroke again: the live stroke is
        painted last either way)."""
        entry = self._history[self._index]
        cached = self._render_cache
        if cached is None or cached[0] is not entry or cached[1] != size:
            image = QImage(size, size, QImage.Format.Format_Grayscale8)
            image.fill(PAPER)
            painter = QPainter(image)
            paint_strokes(painter, entry[0], float(size), entry[1])
            painter.end()
            cached = self._render_cache = (entry, size, image)
        return cached[2]

    def render_image(self, size: int | None = None) -> QImage:
        size = self.render_side if size is None else size
        image = self._committed_image(size).copy()
        if self._current:
            painter = QPainter(image)
            paint_ink(painter, (self._live_stroke(),), float(size))
            painter.end()
        return image

    def render_array(self, size: int | None = None) -> np.ndarray:
        """The drawing as a (size, size) uint8 array: dark ink on white, as the user sees it."""
        image = self.render_image(size)
        size = image.width()
        buffer = np.frombuffer(image.constBits(), dtype=np.uint8)
        rows = buffer.reshape(size, image.bytesPerLine())
        return rows[:, :size].copy()

    def _square(self) -> QRectF:
        side = float(min(self.width(), self.height()) - 2)
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(420, 420)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return width

    def _paint_square(self, painter: QPainter, strokes: tuple[Stroke, ...], paper: bool) -> None:
        square = self._square()
        painter.save()
        painter.translate(square.topLeft())
        painter.setClipRect(QRectF(0, 0, square.width(), square.height()))
        if paper:
            paint_strokes(painter, strokes, square.width(), self.background)
        else:
            paint_ink(painter, strokes, square.width())
        painter.restore()

    def _committed_screen(self) -> QImage | None:
        """What ``paintEvent`` paints of the drawing before the live stroke, kept until the
        drawing or the size changes; None at a fractional scale (painted directly there)."""
        ratio = self.devicePixelRatioF()
        if ratio != int(ratio):
            return None
        entry, key = self._history[self._index], (self.width(), self.height(), ratio)
        cached = self._screen_cache
        if cached is None or cached[0] is not entry or cached[1] != key:
            image = QImage(
                int(self.width() * ratio),
                int(self.height() * ratio),
                QImage.Format.Format_ARGB32_Premultiplied,
            )
            image.setDevicePixelRatio(ratio)
            image.fill(Qt.GlobalColor.transparent)
            painter = QPainter(image)
            self._paint_square(painter, entry[0], paper=True)
            painter.end()
            cached = self._screen_cache = (entry, key, image)
        return cached[2]

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        square = self._square()
        committed = self._committed_screen()
        if committed is None:
            self._paint_square(painter, self.strokes, paper=True)
        else:
            painter.drawImage(0, 0, committed)
            if self._current:
                self._paint_square(painter, (self._live_stroke(),), paper=False)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        # A faint guide: the 20/28 box where MNIST put its digits' ink.
        guide = square.adjusted(*(v * square.width() * 4 / 28 for v in (1, 1, -1, -1)))
        painter.setPen(QPen(QColor(0, 0, 0, 22), 1, Qt.PenStyle.DashLine))
        painter.drawRect(guide)
        border = QColor(70, 130, 200) if self.hasFocus() else QColor(170, 170, 180)
        painter.setPen(QPen(border, 1.5))
        painter.drawRoundedRect(square, 4, 4)
        if self.is_blank():
            painter.setPen(QColor(150, 150, 160))
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * 1.4)
            painter.setFont(font)
            painter.drawText(square, Qt.AlignmentFlag.AlignCenter, "Draw a digit here")
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.update()

    # ------------------------------------------------------------------ input
    def _unit(self, position: QPointF) -> tuple[float, float]:
        square = self._square()
        x = (position.x() - square.left()) / square.width()
        y = (position.y() - square.top()) / square.height()
        return (min(max(x, -0.1), 1.1), min(max(y, -0.1), 1.1))

    def _live_stroke(self) -> Stroke:
        width = self.pen_width * (ERASER_SCALE if self._current_erase else 1.0)
        return Stroke(tuple(self._current or ()), width, self._current_erase)

    def _begin(self, position: QPointF, erase: bool) -> None:
        self._current = [self._unit(position)]
        self._current_erase = erase
        self.update()
        self.changed.emit()

    def _extend(self, position: QPointF) -> None:
        if self._current is None:
            return
        point = self._unit(position)
        last = self._current[-1]
        if abs(point[0] - last[0]) + abs(point[1] - last[1]) < 0.002:  # ignore sub-pixel jitter
            return
        self._current.append(point)
        self.update()
        self.changed.emit()

    def _finish(self) -> None:
        if self._current is None:
            return
        stroke = self._live_stroke()
        self._current = None
        self.add_stroke(stroke)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self._begin(event.position(), erase=event.button() == Qt.MouseButton.RightButton)
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._current is not None:
            self._extend(event.position())
            event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._current is not None:
            self._extend(event.position())
            self._finish()
            event.accept()

    def tabletEvent(self, event: QTabletEvent) -> None:  # noqa: N802
        """Pens draw directly (no synthesised mouse events); the eraser end erases."""
        kind = event.type()
        if kind == QEvent.Type.TabletPress:
            erase = event.pointerType() == QPointingDevice.PointerType.Eraser
            self._begin(event.position(), erase=erase)
        elif kind == QEvent.Type.TabletMove:
            self._extend(event.position())
        elif kind == QEvent.Type.TabletRelease:
            self._extend(event.position())
            self._finish()
        event.accept()

    def contextMenuEvent(self, event) -> None:  # noqa: ANN001, N802 (the right button erases)
        event.accept()
