"""Views used by the Loss playground: editable tensor grids, coloured result grids, result
cards and the stability plot. They show data; the engine (core.losses) computes it."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.errors import InputError
from core.losses import StabilitySweep
from core.tensor_text import parse_class_index, parse_number

ERROR_BG = QColor("#f8c9c4")
CELL_WIDTH = 62
ROW_HEIGHT = 22
FUSED_COLOUR = "#1f77b4"
COMPOSED_COLOUR = "#e4572e"


def cell_text(value: float) -> str:
    """Shortest text that reads back as the same float (so the grid shows what is computed)."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{value:.1f}"
    return repr(float(value))


def fit_height(table: QTableWidget, max_rows: int = 64) -> None:
    """Let the table be as tall as its rows (up to ``max_rows``) so no blank area shows."""
    rows = min(table.rowCount(), max_rows)
    header = table.horizontalHeader().height() if table.horizontalHeader().isVisible() else 0
    needed = table.verticalHeader().sizeHint().width() + table.columnCount() * CELL_WIDTH
    too_wide = needed + 2 * table.frameWidth() > table.viewport().width() + 1
    scroll = table.horizontalScrollBar().sizeHint().height() if too_wide else 0
    height = header + rows * ROW_HEIGHT + 2 * table.frameWidth() + scroll + 2
    table.setMaximumHeight(height)


def _setup_table(table: QTableWidget) -> None:
    table.horizontalHeader().setDefaultSectionSize(CELL_WIDTH)
    table.horizontalHeader().setMinimumSectionSize(30)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    table.verticalHeader().setMinimumWidth(24)
    table.setAlternatingRowColors(False)
    table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)


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
    with the message as tooltip, and raises the first ``InputError``.
    """

    edited = Signal()

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


def short_number(value: float) -> str:
    """Fits a grid cell: 4 decimals, or 3 significant digits in scientific notation."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    if 1e-4 <= abs(value) < 1e5:
        return f"{value:.4f}"
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


class HeatTable(QTableWidget):
    """A read-only grid of numbers, coloured: diverging around 0, or 0..1 for probabilities."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _setup_table(self)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def set_grid(self, values: list, *, scale: float | None = None, mode: str = "diverging"):
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
        black = QBrush(QColor("#111111"))
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
                item.setText(short_number(value))
                item.setToolTip(f"[{r}][{c}] = {value!r}")
                if mode == "probability":
                    colour = sequential_colour(value)
                elif mode == "diverging":
                    colour = diverging_colour(value, scale)
                else:
                    colour = QColor("white")
                item.setBackground(QBrush(colour))
        self.setUpdatesEnabled(True)
        fit_height(self)

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802 (Qt naming)
        super().resizeEvent(event)
        fit_height(self)


class ResultCard(QFrame):
    """One form's result: its PyTorch expression, the loss value and its grad_fn."""

    def __init__(self, heading: str, colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resultCard")
        self.setStyleSheet(
            "#resultCard { background: #fbfbfd; border: 1px solid #d5d8de;"
            f" border-top: 4px solid {colour}; border-radius: 4px; }}"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(2)
        self.heading = QLabel(heading)
        self.heading.setStyleSheet("color: #5f6670; font-size: 11px;")
        self.form = QLabel()
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.form.setFont(mono)
        self.form.setStyleSheet(f"color: {colour}; font-weight: bold;")
        self.value = QLabel("–")
        value_font = QFont()
        value_font.setPointSize(20)
        value_font.setBold(True)
        self.value.setFont(value_font)
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.grad_fn = QLabel()
        self.grad_fn.setFont(mono)
        self.grad_fn.setStyleSheet("color: #3b4048; font-size: 11px;")
        self.grad_fn.setToolTip(
            "grad_fn is the autograd node that produced the loss: backward() starts there and "
            "walks the graph back to x. CrossEntropyLoss shows NllLossBackward0 because it is "
            "implemented as log_softmax followed by nll_loss."
        )
        self.grad_fn_heading = QLabel("grad_fn")
        self.grad_fn_heading.setStyleSheet("color: #5f6670; font-size: 11px;")
        self.grad_fn_heading.setToolTip(self.grad_fn.toolTip())
        for widget in (self.heading, self.form, self.value, self.grad_fn_heading, self.grad_fn):
            widget.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            layout.addWidget(widget)

    def show_result(self, form: str, value: str, grad_fn: str) -> None:
        self.form.setText(form)
        self.value.setText(value)
        self.grad_fn.setText(grad_fn)
        self.grad_fn.setToolTip(
            f"type(loss.grad_fn).__name__ = {grad_fn!r}\n\n" + self.grad_fn_heading.toolTip()
        )


class StabilityPlot(QWidget):
    """Loss of both forms and their difference as the logits are scaled by s = 1..1000."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtWidgets import QHBoxLayout

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.loss_plot = self._make_plot("loss of s·x", "loss")
        self.diff_plot = self._make_plot("|fused − composed|", "|difference|")
        self.diff_plot.setLogMode(x=True, y=True)
        layout.addWidget(self.loss_plot, 1)
        layout.addWidget(self.diff_plot, 1)
        self.curves: dict[str, pg.PlotDataItem] = {}
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
        self.diff_plot.setTitle(
            "|fused − composed|: <span style='color:#6a3d9a'>float32 (solid)</span>, "
            "<span style='color:#33a02c'>float64 (dashed)</span>",
            color="#333",
            size="9pt",
        )
        self.curves["diff float32"] = self.diff_plot.plot(
            name="float32", pen=pg.mkPen("#6a3d9a", width=2.5)
        )
        self.curves["diff float64"] = self.diff_plot.plot(
            name="float64", pen=pg.mkPen("#33a02c", width=1.5, style=Qt.PenStyle.DashLine)
        )
        self.floor = 1e-17
        self.diff_plot.getAxis("left").enableAutoSIPrefix(False)
        self.sweep: StabilitySweep | None = None

    @staticmethod
    def _make_plot(title: str, left: str) -> pg.PlotWidget:
        plot = pg.PlotWidget(background="w")
        plot.setTitle(title, color="#333", size="9pt")
        plot.setLabel("left", left, color="#333")
        plot.setLabel("bottom", "scale s (logits × s)", color="#333")
        plot.setLogMode(x=True, y=False)
        plot.showGrid(x=True, y=True, alpha=0.25)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setPen(pg.mkPen("#777"))
            plot.getAxis(axis).setTextPen(pg.mkPen("#333"))
        plot.setMenuEnabled(False)
        plot.setMinimumHeight(150)
        return plot

    def show_sweep(self, sweep: StabilitySweep) -> None:
        self.sweep = sweep
        s = np.asarray(sweep.scales)
        for form, values in (("fused", sweep.fused), ("composed", sweep.composed)):
            for dtype in ("float32", "float64"):
                self.curves[f"{form} {dtype}"].setData(s, np.asarray(values[dtype]))
        for dtype in ("float32", "float64"):
            diff = np.asarray(sweep.difference(dtype))
            diff = np.where(np.isfinite(diff), np.maximum(diff, self.floor), np.nan)
            self.curves[f"diff {dtype}"].setData(s, diff, connect="finite")
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
