"""The canvas keeps the finished strokes rendered (issue 22: while the pen moves, only the live
stroke is painted again); what the model and the screen get must not change by a pixel."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage, QPainter

from gui.draw.draw_canvas import PAPER, DrawCanvas, Stroke, paint_strokes


def _direct(canvas: DrawCanvas, size: int) -> np.ndarray:
    """The drawing rendered the uncached way: every stroke painted in order."""
    image = QImage(size, size, QImage.Format.Format_Grayscale8)
    image.fill(PAPER)
    painter = QPainter(image)
    paint_strokes(painter, canvas.strokes, float(size), canvas.background)
    painter.end()
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(size, image.bytesPerLine())
    return rows[:, :size].copy()


def test_the_rendered_drawing_is_the_same_with_a_stroke_in_progress(qtbot):
    canvas = DrawCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(300, 300)
    canvas.show()
    canvas.add_stroke(Stroke(((0.3, 0.2), (0.3, 0.8)), 0.06))
    canvas.add_stroke(Stroke(((0.2, 0.5), (0.8, 0.5)), 0.12, erase=True))
    first = canvas.render_array()
    assert np.array_equal(first, _direct(canvas, 280))
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(150, 60))
    for y in range(70, 250, 20):
        qtbot.mouseMove(canvas, QPoint(150 + y // 10, y))
        live = canvas.render_array()
        assert np.array_equal(live, _direct(canvas, 280))  # the live stroke over the cache
        canvas.repaint()
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(170, 250))
    assert len(canvas.strokes) == 3
    assert np.array_equal(canvas.render_array(), _direct(canvas, 280))
    canvas.undo()  # the cache follows undo and redo
    assert np.array_equal(canvas.render_array(), first)
    canvas.redo()
    assert np.array_equal(canvas.render_array(), _direct(canvas, 280))
    assert np.array_equal(canvas.render_array(64), _direct(canvas, 64))  # another size


def test_the_screen_shows_the_same_drawing_from_its_cache(qtbot):
    canvas = DrawCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(301, 300)  # a half-pixel offset of the square
    canvas.show()
    canvas.add_stroke(Stroke(((0.3, 0.2), (0.3, 0.8)), 0.06))
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(150, 60))
    qtbot.mouseMove(canvas, QPoint(160, 200))
    cached = canvas.grab().toImage()
    canvas._screen_cache = None
    canvas.devicePixelRatioF = lambda: 1.5  # the uncached path (a fractional scale)
    direct = canvas.grab().toImage()
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(160, 200))
    assert cached == direct
