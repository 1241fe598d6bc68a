"""The Draw tab's left-hand column: the canvas, its tools, "Add to my digits" and the
preprocessing switch.

The buttons that need the tab (Clear, Open, Cancel, Save) become signals; undo, redo and the pen
width are the canvas's own business and stay here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolButton, QVBoxLayout, QWidget

from core.storage.atomic import atomic_path
from gui.draw.answer_panel import check_box, note
from gui.draw.draw_canvas import RENDER_SIZE, DrawCanvas
from gui.draw.own_digits_view import AddToMyDigitsBar


def _tool(text: str, tip: str, slot: Callable[[], None]) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setAutoRaise(False)
    button.clicked.connect(slot)
    return button


class CanvasPanel(QWidget):
    """Canvas, pen and undo/redo, file buttons, "Add to my digits as N", MNIST preprocessing."""

    clearRequested = Signal()
    openRequested = Signal()
    cancelRequested = Signal()
    saveRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(8)
        self.canvas = DrawCanvas(self)
        column.addWidget(self.canvas, stretch=1)
        column.addLayout(self._build_tools())
        # "Add to my digits as N" (Ctrl+D): the drawing as the learner sees it, or None if blank
        self.own_digits_bar = AddToMyDigitsBar(
            lambda: None if self.canvas.is_blank() else self.canvas.render_array(), parent=self
        )
        column.addWidget(self.own_digits_bar)
        self.center_box = check_box(
            "MNIST preprocessing: crop, fit 20×20, centre of mass",
            "MNIST digits were fitted into a 20×20 box and centred by their centre of mass in\n"
            "28×28. The model never saw anything else. Switch this off to feed the whole canvas\n"
            "squeezed to 28×28 and watch an off-centre or small digit fool the model.",
            lambda _on: None,
            checked=True,
        )
        column.addWidget(self.center_box)
        self.hint_label = note(
            "Left button draws · right button erases · drop an image file here to classify it"
        )
        column.addWidget(self.hint_label)
        self._update_tool_buttons()
        self.canvas.changed.connect(self._update_tool_buttons)

    def _build_tools(self) -> QHBoxLayout:
        tools = QHBoxLayout()
        tools.setSpacing(6)
        tools.addWidget(QLabel("Pen"))
        self.pen_slider = QSlider(Qt.Orientation.Horizontal)
        self.pen_slider.setRange(6, 40)
        self.pen_slider.setValue(18)
        self.pen_slider.setFixedWidth(90)
        self.pen_slider.setToolTip(
            "Pen width in pixels of a 280×280 canvas. Preprocessing scales the digit to 20×20,\n"
            "so a very thick pen makes blobs and a very thin one faint lines (MNIST strokes are\n"
            "about 2–3 of the 28 pixels wide)."
        )
        self.pen_slider.valueChanged.connect(self._set_pen_width)
        tools.addWidget(self.pen_slider)
        self.pen_value = QLabel()
        self.pen_value.setMinimumWidth(34)
        tools.addWidget(self.pen_value)
        self._set_pen_width(self.pen_slider.value())
        self.undo_button = _tool("Undo", "Undo the last stroke (Ctrl+Z)", self.canvas.undo)
        self.redo_button = _tool("Redo", "Redo (Ctrl+Y)", self.canvas.redo)
        self.clear_button = _tool(
            "Clear", "Clear the canvas (Esc or Delete)", self.clearRequested.emit
        )
        self.open_button = _tool(
            "Open…",
            "Classify a picture file (PNG, JPEG, BMP…; any size, either polarity).\n"
            "You can also drag and drop a file onto this tab. (Ctrl+O)",
            self.openRequested.emit,
        )
        self.open_button.setShortcut(QKeySequence.StandardKey.Open)
        self.cancel_button = _tool(
            "Cancel", "Stop opening the picture (Ctrl+.)", self.cancelRequested.emit
        )
        self.cancel_button.hide()
        QShortcut(QKeySequence("Ctrl+."), self, self.cancelRequested.emit)
        self.save_button = _tool(
            "Save PNG…", "Save the drawing as a PNG (Ctrl+S)", self.saveRequested.emit
        )
        self.save_button.setShortcut(QKeySequence.StandardKey.Save)
        for button in (
            self.undo_button,
            self.redo_button,
            self.clear_button,
            self.open_button,
            self.cancel_button,
            self.save_button,
        ):
            tools.addWidget(button)
        tools.addStretch(1)
        return tools

    def _set_pen_width(self, pixels: int) -> None:
        self.canvas.pen_width = pixels / RENDER_SIZE
        self.pen_value.setText(f"{pixels} px")

    def _update_tool_buttons(self) -> None:
        self.undo_button.setEnabled(self.canvas.can_undo())
        self.redo_button.setEnabled(self.canvas.can_redo())
        self.clear_button.setEnabled(not self.canvas.is_blank())

    def write_png(self, path: Path) -> str | None:
        """Write the drawing as a PNG at the render size, atomically; why not, or None."""
        try:
            with atomic_path(path, suffix=".png") as tmp:
                if not self.canvas.render_image().save(str(tmp), "PNG"):
                    raise OSError("the PNG could not be written")
        except OSError as exc:
            return f"Could not save {path.name}: {exc.strerror or exc}"
        return None
