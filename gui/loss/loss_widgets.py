"""Views used by the Loss playground: editable tensor grids, coloured result grids, result
cards and the stability plot. They show data; the engine (core.losses) computes it."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QFont, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from core.errors import InputError
from core.losses import StabilitySweep
from core.losses.tensor_text import (
    format_tensor_text,
    parse_class_index,
    parse_number,
    parse_tensor_text,
)
from gui import theme

ERROR_BG = QColor(theme.ERROR_BG)
CELL_WIDTH = 62  # preferred; columns shrink to MIN_CELL_WIDTH before a scroll bar appears
MIN_CELL_WIDTH = 50
ROW_HEIGHT = 22
ALL_ROWS_UP_TO = 12  # tables this short always show every row
SCROLLED_ROWS = 8  # rows a longer table keeps in view on a small window
FUSED_COLOUR = theme.FUSED
COMPOSED_COLOUR = theme.COMPOSED
PASTE_TIP = (
    "Ctrl+V pastes a whole tensor: JSON as the CLI takes it ([[0.1, 2.0], [0.3, 0.4]]), "
    "torch's printout (tensor([[...]])) or cells copied from a spreadsheet. Ctrl+C copies "
    "this grid as a tensor."
)


def cell_text(value: float) -> str:
    """Shortest text that reads back as the same float (so the grid shows what is computed)."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{value:.1f}"
    return repr(float(value))


def fit_columns(table: QTableWidget) -> None:
    """Share the viewport between the columns: CELL_WIDTH each when there is room, down to
    MIN_CELL_WIDTH on a small window, and only then a horizontal scroll bar."""
    cols = table.columnCount()
    if not cols:
        return
    available = table.viewport().width() or table.width() - table.verticalHeader().width()
    width = max(MIN_CELL_WIDTH, min(CELL_WIDTH, available // cols))
    header = table.horizontalHeader()
    if header.defaultSectionSize() != width:
        header.setDefaultSectionSize(width)
        for c in range(cols):
            header.resizeSection(c, width)
        table.updateGeometries()  # re-decide the scroll bars now, not at the next layout pass


def fit_height(table: QTableWidget, max_rows: int = 64) -> None:
    """Let the table be exactly as tall as its rows (up to ``max_rows``): no blank area, and no
    vertical scroll bar while the layout gives it that height.

    Header heights come from ``sizeHint`` because a header that has not been shown yet reports
    a height of 0 or 30 px, which is what cut the first launch's tables short.
    """
    fit_columns(table)
    rows = min(table.rowCount(), max_rows)
    horizontal = table.horizontalHeader()
    header = horizontal.sizeHint().height() if not horizontal.isHidden() else 0
    needed = table.verticalHeader().sizeHint().width() + horizontal.length()
    too_wide = needed + 2 * table.frameWidth() > table.width()
    scroll = table.horizontalScrollBar().sizeHint().height() if too_wide else 0
    height = header + rows * ROW_HEIGHT + 2 * table.frameWidth() + scroll
    table.setMaximumHeight(height)
    # Up to ALL_ROWS_UP_TO rows a table never shrinks (a small window scrolls the panel that
    # holds it instead); a longer one keeps SCROLLED_ROWS and scrolls inside.
    shown = rows if rows <= ALL_ROWS_UP_TO else SCROLLED_ROWS
    table.setMinimumHeight(
        min(height, header + shown * ROW_HEIGHT + 2 * table.frameWidth() + scroll)
    )


def _setup_table(table: QTableWidget) -> None:
    table.horizontalHeader().setDefaultSectionSize(CELL_WIDTH)
    table.horizontalHeader().setMinimumSectionSize(30)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    table.verticalHeader().setMinimumWidth(24)
    table.setAlternatingRowColors(False)
    table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)


def _add_action(widget: QWidget, text: str, slot: Callable[[], object]) -> QAction:
    """A context-menu action on ``widget`` (its keys, if any, are written after a tab)."""
    action = QAction(text, widget)
    action.triggered.connect(slot)
    widget.addAction(action)
    return action


class LiveEditDelegate(QStyledItemDelegate):
    """Commits every keystroke, so results follow the typing instead of waiting for Enter."""

    def createEditor(self, parent, option, index) -> QLineEdit:  # noqa: ANN001, N802
        editor = QLineEdit(parent)
        editor.setFrame(False)
        editor.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        editor.textEdited.connect(lambda _text: self.commitData.emit(editor))
        return editor


class TensorGrid(QTableWidget):
    """An editable grid of numbers (``kind="number"``) or class indices (``kind="class"``).

    ``edited`` fires on every cell edit. :meth:`read` parses all cells, marks the bad ones red
    with the message as tooltip, and raises the first ``InputError``. Ctrl+V (or the context
    menu) parses the clipboard with the CLI's parser and emits ``pasted`` with the values, or
    ``paste_failed`` with the ``InputError``; the owner decides how the new shape fits. Ctrl+C
    copies the grid as JSON text and emits ``copied``.
    """

    edited = Signal()
    pasted = Signal(object)  # the parsed values: a float, a flat list or a list of rows
    paste_failed = Signal(object)  # the InputError
    copied = Signal(str)

    def __init__(self, field: str, kind: str = "number", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = field
        self.kind = kind
        _setup_table(self)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.setItemDelegate(LiveEditDelegate(self))
        self.itemChanged.connect(self._on_item_changed)
        self._marked: set[tuple[int, int]] = set()
        self.setToolTip(PASTE_TIP)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        # The keys are handled in keyPressEvent (the view's own Copy/Paste handling and its
        # "any key edits" trigger would take them first); the menu shows them.
        _add_action(self, "Copy as tensor\tCtrl+C", lambda: self.copy())
        _add_action(self, "Paste tensor\tCtrl+V", lambda: self.paste())

    def keyPressEvent(self, event) -> None:  # noqa: ANN001, N802 (Qt naming)
        if event.matches(QKeySequence.StandardKey.Paste):
            self.paste()
            event.accept()
        elif event.matches(QKeySequence.StandardKey.Copy):
            self.copy()
            event.accept()
        else:
            super().keyPressEvent(event)

    # --------------------------------------------------------------- clipboard
    def paste(self, text: str | None = None) -> None:
        """Parse ``text`` (default: the clipboard) as a whole tensor; see the class docstring."""
        if text is None:
            text = QGuiApplication.clipboard().text()
        try:
            values = parse_tensor_text(text, field=self.field)
        except InputError as exc:
            self.paste_failed.emit(exc)
            return
        self.pasted.emit(values)

    def copy(self) -> str | None:
        """Put the grid on the clipboard as JSON (what ``--prediction``/``--target`` take)."""
        try:
            values = self.read()
        except InputError as exc:
            self.paste_failed.emit(exc)
            return None
        text = format_tensor_text(values)
        QGuiApplication.clipboard().setText(text)
        self.copied.emit(text)
        return text

    # --------------------------------------------------------------- shape and values
    def set_shape(self, rows: int, cols: int, fill: str = "0.0") -> None:
        """Resize, keeping existing cells and filling new ones with ``fill``."""
        with QSignalBlocker(self):
            old_rows, old_cols = self.rowCount(), self.columnCount()
            self.setRowCount(rows)
            self.setColumnCount(cols)
            for r in range(rows):
                for c in range(cols):
                    if r >= old_rows or c >= old_cols or self.item(r, c) is None:
                        self.setItem(r, c, self._new_item(fill))
            self._label_headers()
        self._marked = {(r, c) for r, c in self._marked if r < rows and c < cols}
        fit_height(self)

    def set_values(self, values: list) -> None:
        """Fill from a list of rows (or a flat list, one value per row)."""
        rows = [row if isinstance(row, list) else [row] for row in values]
        with QSignalBlocker(self):
            self.setRowCount(len(rows))
            self.setColumnCount(len(rows[0]) if rows else 0)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    text = str(int(value)) if self.kind == "class" else cell_text(value)
                    self.setItem(r, c, self._new_item(text))
            self._label_headers()
        self._marked.clear()
        fit_height(self)

    def _new_item(self, text: str) -> QTableWidgetItem:
        item = QTableWidgetItem(text)
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return item

    def _label_headers(self) -> None:
        if self.kind == "class":
            self.setHorizontalHeaderLabels(["class"])
        else:
            self.setHorizontalHeaderLabels([str(c) for c in range(self.columnCount())])
        self.setVerticalHeaderLabels([str(r) for r in range(self.rowCount())])

    def text_at(self, row: int, col: int) -> str:
        item = self.item(row, col)
        return item.text() if item is not None else ""

    def set_text(self, row: int, col: int, text: str) -> None:
        """Edit one cell as a user would (fires ``edited``)."""
        item = self.item(row, col)
        if item is None:
            self.setItem(row, col, self._new_item(text))
        else:
            item.setText(text)

    # --------------------------------------------------------------- parsing and marks
    def read(self) -> list:
        """All cells parsed; 2-D list of floats, or a flat list of ints for class indices."""
        self.clear_marks()
        errors: list[InputError] = []
        rows: list = []
        for r in range(self.rowCount()):
            row = []
            for c in range(self.columnCount()):
                text = self.text_at(r, c)
                try:
                    if self.kind == "class":
                        row.append(parse_class_index(text, field=self.field, row=r))
                    else:
                        row.append(parse_number(text, field=self.field, row=r, col=c))
                except InputError as exc:
                    errors.append(exc)
                    self.mark(r, c, str(exc))
            if self.kind != "class":
                rows.append(row)
            elif row:
                rows.append(row[0])
        if errors:
            raise errors[0]
        return rows

    def mark(self, row: int, col: int, message: str) -> None:
        item = self.item(row, col)
        if item is None:
            return
        with QSignalBlocker(self):
            item.setBackground(QBrush(ERROR_BG))
            item.setToolTip(message)
        self._marked.add((row, col))

    def mark_error(self, error: InputError) -> bool:
        """Mark the cell an engine error points at (a whole row/column if only one is known)."""
        if error.row is None and error.col is None:
            return False
        rows = [error.row] if error.row is not None else range(self.rowCount())
        cols = [error.col] if error.col is not None else range(self.columnCount())
        if self.kind == "class":
            cols = [0]
        for r in rows:
            for c in cols:
                if 0 <= r < self.rowCount() and 0 <= c < self.columnCount():
                    self.mark(r, c, str(error))
        return True

    def clear_marks(self) -> None:
        with QSignalBlocker(self):
            for r, c in self._marked:
                item = self.item(r, c)
                if item is not None:
                    item.setBackground(QBrush())
                    item.setToolTip("")
        self._marked.clear()

    def marked_cells(self) -> set[tuple[int, int]]:
        return set(self._marked)

    def _on_item_changed(self, _item: QTableWidgetItem) -> None:
        self.edited.emit()

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802 (Qt naming)
        super().resizeEvent(event)
        fit_height(self)


def short_number(value: float, decimals: int = 4) -> str:
    """Fits a grid cell: ``decimals`` decimals, or 2 significant digits in scientific notation."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    if 10.0**-decimals <= abs(value) < 1e5:
        return f"{value:.{decimals}f}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def diverging_colour(value: float, scale: float) -> QColor:
    """Blue for negative, red for positive, white for zero; ``scale`` maps to full colour."""
    if scale <= 0 or not math.isfinite(value):
        return QColor("white")
    t = max(-1.0, min(1.0, value / scale))
    strength = abs(t) ** 0.6  # lift small values so they stay visible
    target = (33, 102, 172) if t < 0 else (202, 0, 32)
    rgb = [round(255 + (channel - 255) * strength * 0.85) for channel in target]
    return QColor(*rgb)


def sequential_colour(value: float) -> QColor:
    """White to green for a probability in [0, 1]."""
    t = max(0.0, min(1.0, value))
    return QColor(round(255 - 160 * t), round(255 - 60 * t), round(255 - 150 * t))


@lru_cache(maxsize=4096)
def _brush(rgb: int) -> QBrush:
    """One shared brush per colour (a slider step recolours thousands of cells)."""
    return QBrush(QColor.fromRgb(rgb))


def cell_brush(value: float, mode: str, scale: float) -> QBrush:
    if mode == "probability":
        colour = sequential_colour(value)
    elif mode == "diverging":
        colour = diverging_colour(value, scale)
    else:
        colour = QColor("white")
    return _brush(colour.rgb())


class HeatTable(QTableWidget):
    """A read-only grid of numbers, coloured: diverging around 0, or 0..1 for probabilities."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _setup_table(self)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.values: list = []
        self._scale: float | None = None
        self._mode = "diverging"
        self._notes: dict[tuple[int, int], str] = {}  # annotated cells and their sentences
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        _add_action(self, "Copy as tensor", lambda: self.copy())

    def copy(self) -> str:
        """The values shown, as JSON text on the clipboard (full precision, not the rounding)."""
        text = format_tensor_text(self.values)
        QGuiApplication.clipboard().setText(text)
        return text

    def set_grid(
        self, values: list, *, scale: float | None = None, mode: str = "diverging"
    ) -> None:
        """Show ``values`` coloured by ``mode`` ("diverging" around 0 with ``scale`` as full
        colour, "probability" white to green, "plain")."""
        self.values = values
        self._scale, self._mode = scale, mode
        rows = [row if isinstance(row, list) else [row] for row in values]
        self.setUpdatesEnabled(False)
        if self.rowCount() != len(rows) or self.columnCount() != len(rows[0]):
            self.clearContents()
            self.setRowCount(len(rows))
            self.setColumnCount(len(rows[0]) if rows else 0)
            self.setHorizontalHeaderLabels([str(c) for c in range(self.columnCount())])
            self.setVerticalHeaderLabels([str(r) for r in range(self.rowCount())])
        if scale is None:
            scale = max((abs(v) for row in rows for v in row if math.isfinite(v)), default=0.0)
        black = QBrush(QColor(theme.INK))
        decimals = self._decimals()
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                item = self.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                    item.setForeground(black)
                    self.setItem(r, c, item)
                item.setText(short_number(value, decimals))
                item.setBackground(cell_brush(value, mode, scale))
        self.setUpdatesEnabled(True)
        fit_height(self)

    def cell_tip(self, row: int, col: int) -> str:
        """A cell's tooltip: its annotation (if any) and its value in full precision."""
        value = self.values[row][col] if isinstance(self.values[row], list) else self.values[row]
        note = self._notes.get((row, col))
        return f"{note}\n\n[{row}][{col}] = {value!r}" if note else f"[{row}][{col}] = {value!r}"

    def viewportEvent(self, event) -> bool:  # noqa: ANN001, N802 (Qt naming)
        """Cell tooltips are written when asked for, not for every cell at every update."""
        if event.type() == QEvent.Type.ToolTip:
            index = self.indexAt(event.pos())
            if index.isValid() and self.values:
                QToolTip.showText(
                    event.globalPos(), self.cell_tip(index.row(), index.column()), self.viewport()
                )
                return True
        return super().viewportEvent(event)

    def annotate(self, cells: list[tuple[int, int, str]]) -> None:
        """Explain single cells where they are shown: the sentence becomes the cell's tooltip
        and the number is set in italics (e.g. BCELoss's shrunken gradient −0.0234)."""
        for r, c in self._notes:
            item = self.item(r, c)
            if item is not None:
                item.setFont(QFont())
                item.setToolTip("")
        self._notes = {}
        font = QFont()
        font.setItalic(True)
        font.setBold(True)
        for r, c, text in cells:
            item = self.item(r, c)
            if item is None:
                continue
            self._notes[(r, c)] = text
            item.setFont(font)
            item.setToolTip(self.cell_tip(r, c))

    def _decimals(self) -> int:
        """4 decimals in a full-width column; 3 when a small window narrows the columns, so a
        negative value such as -0.2670 is shown as -0.267 instead of being cut to "-0.26…"."""
        return 4 if self.horizontalHeader().defaultSectionSize() >= CELL_WIDTH else 3

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802 (Qt naming)
        super().resizeEvent(event)
        decimals = self._decimals()
        fit_height(self)
        if self.values and decimals != self._decimals():
            self.set_grid(self.values, scale=self._scale, mode=self._mode)


def breakable(text: str) -> str:
    """Allow a long PyTorch expression or grad_fn to wrap after "(" and "," and between the
    words of a CamelCase name (zero-width spaces), so on a small window it wraps instead of
    being cut: BinaryCrossEntropy|With|Logits|Backward0."""
    text = text.replace("(", "(\u200b").replace(", ", ",\u200b ")
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "\u200b", text)


class ResultCard(QFrame):
    """One form's result: its PyTorch expression, the loss value and its grad_fn.

    A scalar loss is shown large; a vector (reduction "none") is shown whole, in a smaller font
    that wraps, so no value is cut off.
    """

    GRAD_FN_TIP = (
        "grad_fn is the autograd node that produced the loss: backward() starts there and "
        "walks the graph back to x. CrossEntropyLoss shows NllLossBackward0 because it is "
        "implemented as log_softmax followed by nll_loss."
    )

    def __init__(self, heading: str, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resultCard")
        self.setStyleSheet(
            f"#resultCard {{ background: {theme.CARD_BG}; border: 1px solid {theme.CARD_BORDER};"
            f" border-top: 4px solid {colour}; border-radius: 4px; }}"
        )
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.heading = QLabel(heading)
        self.heading.setStyleSheet(theme.text_style(theme.MUTED, size_px=11))
        self.form = QLabel()
        self.form.setFont(mono)
        self.form.setWordWrap(True)
        self.form.setStyleSheet(theme.text_style(colour, extra=" font-weight: bold;"))
        self.value = QLabel("–")
        self.value.setWordWrap(True)
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._set_value_size(vector=False)
        self.grad_fn = QLabel()
        self.grad_fn.setFont(mono)
        self.grad_fn.setWordWrap(True)  # BinaryCrossEntropyWithLogitsBackward0 is long
        self.grad_fn.setStyleSheet(theme.text_style(theme.INK, size_px=11))
        self.grad_fn.setToolTip(self.GRAD_FN_TIP)
        self.grad_fn_heading = QLabel("grad_fn")
        self.grad_fn_heading.setStyleSheet(theme.text_style(theme.MUTED, size_px=11))
        self.grad_fn_heading.setToolTip(self.GRAD_FN_TIP)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(1)
        for widget in (self.heading, self.form, self.value, self.grad_fn):
            widget.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        grad_fn_row = QHBoxLayout()  # "grad_fn" beside its name saves a line on a small window
        grad_fn_row.setSpacing(6)
        grad_fn_row.addWidget(self.grad_fn_heading, 0, Qt.AlignmentFlag.AlignTop)
        grad_fn_row.addWidget(self.grad_fn, 1)
        for widget in (self.heading, self.form, self.value):
            layout.addWidget(widget)
        layout.addLayout(grad_fn_row)

    def _set_value_size(self, vector: bool) -> None:
        font = QFont()
        font.setPointSize(11 if vector else 20)
        font.setBold(True)
        self.value.setFont(font)

    def show_result(self, form: str, value: str, grad_fn: str, *, vector: bool = False) -> None:
        self.form.setText(breakable(form))
        self.form.setToolTip(form)
        self._set_value_size(vector)
        self.value.setText(value)
        self.grad_fn.setText(breakable(grad_fn))
        self.grad_fn.setToolTip(f"type(loss.grad_fn).__name__ = {grad_fn!r}\n\n{self.GRAD_FN_TIP}")


class StabilityPlot(QWidget):
    """Loss of both forms and their difference as the logits are scaled by s = 1..1000.

    Where the composed form stops being finite (the naive softmax's exp overflowing), a dashed
    vertical line per dtype marks the scale, so the break is seen, not only read. A vertical
    cursor on both plots marks the scale the cards show; dragging it emits ``cursorMoved(s)``.
    """

    cursorMoved = Signal(float)  # noqa: N815 (Qt signal naming)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.loss_plot = self._make_plot("loss of s·x", "loss")
        self.diff_plot = self._make_plot("|fused − composed|", "|difference|")
        self.diff_plot.setLogMode(x=True, y=True)
        layout.addWidget(self.loss_plot, 1)
        layout.addWidget(self.diff_plot, 1)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._add_loss_curves()
        self._add_diff_curves()
        self.breaks: dict[str, list[pg.InfiniteLine]] = {}
        self._add_break_lines()
        self.floor = 1e-17
        self.diff_plot.getAxis("left").enableAutoSIPrefix(False)
        self.sweep: StabilitySweep | None = None
        self.cursors = [self._add_cursor(plot) for plot in (self.loss_plot, self.diff_plot)]

    def _add_cursor(self, plot: pg.PlotWidget) -> pg.InfiniteLine:
        line = pg.InfiniteLine(
            pos=0.0,
            angle=90,
            movable=True,
            bounds=(0.0, 3.0),  # log10 of s = 1 … 1000
            pen=pg.mkPen(theme.INK, width=1.5),
            hoverPen=pg.mkPen(theme.INK, width=3),
        )
        line.setToolTip("the slider's logit scale s: drag to move it")
        line.sigDragged.connect(lambda moved: self.cursorMoved.emit(10 ** moved.value()))
        plot.addItem(line, ignoreBounds=True)
        return line

    def set_cursor(self, scale: float) -> None:
        """Put the cursor of both plots at ``scale``."""
        for line in self.cursors:
            with QSignalBlocker(line):
                line.setValue(math.log10(scale))

    def cursor_scale(self) -> float:
        return 10 ** self.cursors[0].value()

    def _add_loss_curves(self) -> None:
        styles = {
            "fused float32": (FUSED_COLOUR, Qt.PenStyle.SolidLine),
            "composed float32": (COMPOSED_COLOUR, Qt.PenStyle.SolidLine),
            "fused float64": (FUSED_COLOUR, Qt.PenStyle.DashLine),
            "composed float64": (COMPOSED_COLOUR, Qt.PenStyle.DashLine),
        }
        legend = self.loss_plot.addLegend(offset=(8, 4), labelTextSize="8pt", colCount=2)
        legend.setBrush(pg.mkBrush(255, 255, 255, 200))
        for name, (colour, style) in styles.items():
            width = 2.5 if "float32" in name else 1.5
            self.curves[name] = self.loss_plot.plot(
                name=name, pen=pg.mkPen(colour, width=width, style=style)
            )

    def _add_diff_curves(self) -> None:
        self.diff_plot.setTitle(
            f"|fused − composed|: <span style='color:{theme.DIFF_FLOAT32}'>float32 (solid)</span>, "
            f"<span style='color:{theme.DIFF_FLOAT64}'>float64 (dashed)</span>",
            color=theme.INK,
            size="9pt",
        )
        self.curves["diff float32"] = self.diff_plot.plot(
            name="float32", pen=pg.mkPen(theme.DIFF_FLOAT32, width=2.5)
        )
        self.curves["diff float64"] = self.diff_plot.plot(
            name="float64",
            pen=pg.mkPen(theme.DIFF_FLOAT64, width=1.5, style=Qt.PenStyle.DashLine),
        )

    def _add_break_lines(self) -> None:
        for dtype, colour in (("float32", theme.DIFF_FLOAT32), ("float64", theme.DIFF_FLOAT64)):
            lines = []
            for plot in (self.loss_plot, self.diff_plot):
                line = pg.InfiniteLine(
                    angle=90,
                    pen=pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DotLine),
                    label=f"composed not finite ({dtype})",
                    labelOpts={"position": 0.35 if dtype == "float32" else 0.15, "color": colour},
                )
                line.setVisible(False)
                plot.addItem(line, ignoreBounds=True)
                lines.append(line)
            self.breaks[dtype] = lines

    @staticmethod
    def _make_plot(title: str, left: str) -> pg.PlotWidget:
        plot = pg.PlotWidget(background=theme.PLOT_BG)
        plot.setTitle(title, color=theme.INK, size="9pt")
        plot.setLabel("left", left, color=theme.INK)
        plot.setLabel("bottom", "scale s (logits × s)", color=theme.INK)
        plot.setLogMode(x=True, y=False)
        plot.showGrid(x=True, y=True, alpha=0.25)
        theme.style_plot(plot)
        plot.setMenuEnabled(False)
        plot.setMinimumHeight(150)
        return plot

    def show_sweep(self, sweep: StabilitySweep) -> None:
        """Draw ``sweep``: non-finite points leave gaps, and a line marks where they start."""
        self.sweep = sweep
        s = np.asarray(sweep.scales)
        for form, values in (("fused", sweep.fused), ("composed", sweep.composed)):
            for dtype in ("float32", "float64"):
                y = np.asarray(values[dtype], dtype=float)
                y = np.where(np.isfinite(y), y, np.nan)
                self.curves[f"{form} {dtype}"].setData(s, y, connect="finite")
        for dtype in ("float32", "float64"):
            diff = np.asarray(sweep.difference(dtype), dtype=float)
            diff = np.where(np.isfinite(diff), np.maximum(diff, self.floor), np.nan)
            self.curves[f"diff {dtype}"].setData(s, diff, connect="finite")
            broken = sweep.non_finite_scale(dtype)
            for line in self.breaks[dtype]:
                line.setVisible(broken is not None)
                if broken is not None:
                    line.setValue(math.log10(broken))
        self.loss_plot.enableAutoRange()
        finite = [
            d
            for dtype in ("float32", "float64")
            for d in sweep.difference(dtype)
            if math.isfinite(d)
        ]
        top = max([*finite, 1e-6]) * 10
        self.diff_plot.setYRange(math.log10(self.floor), math.log10(top), padding=0.02)
        self.diff_plot.setXRange(math.log10(s[0]), math.log10(s[-1]), padding=0.02)
