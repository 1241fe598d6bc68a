"""The run list under the Training tab's curves: one row per run of the ``RunHistory``, then one
per repeat group (a configuration run over seeds 1..N, issue 26).

A view only: rows are drawn from the history's ``RunRecord``s and ``RepeatResult``s; ticking a
run's row asks the plots to show or hide that run (``visibilityChanged``), ticking a group's row
asks the Repeats page to overlay or drop its band (``groupVisibilityChanged``), double-clicking a
group opens that page (``groupActivated``); the buttons ask the tab to export or clear. A group's
test accuracy is the mean ± standard deviation over its seeds.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.training.repeats import RepeatResult
from core.training.run_history import RunHistory, RunRecord
from gui import theme

RUN_COLUMNS = ["Run", "Model", "Loss", "Optimizer", "Batch", "Data", "Status", "Test acc."]
DATA_COLUMN, STATUS_COLUMN, ACCURACY_COLUMN = 5, 6, 7


def rows_height(table: QTableWidget) -> int:
    return table.verticalHeader().defaultSectionSize()


def colour_of(run: RunRecord) -> str:
    return theme.RUN_COLOURS[(run.number - 1) % len(theme.RUN_COLOURS)]


def group_colour(group: RepeatResult) -> str:
    """A repeat group's colour: its band on the Repeats page and its row here."""
    colours = (theme.ACCENT, theme.COMPOSED, *theme.RUN_COLOURS)
    return colours[(group.number - 1) % len(colours)]


def group_cells(group: RepeatResult) -> list[str]:
    """What the run list says about a repeat group: the mean ± sd of its final accuracy."""
    c = group.config
    momentum = f" m={c.momentum:g}" if c.optimizer == "sgd" else ""
    return [
        f"R{group.number} ×{len(group.runs)}",
        c.model,
        c.loss,
        f"{c.optimizer} lr={c.lr:g}{momentum}",
        str(c.batch_size),
        f"{c.dataset}, {c.epochs} ep, {group.seeds_text}",
        group.status_text,
        group.accuracy_text(),
    ]


def row_cells(run: RunRecord) -> list[str]:
    """What the run list says about ``run``, column by column."""
    c = run.config
    momentum = f" m={c.momentum:g}" if c.optimizer == "sgd" else ""
    return [
        f"#{run.number}",
        c.model,
        c.loss,
        f"{c.optimizer} lr={c.lr:g}{momentum}",
        str(c.batch_size),
        f"{_short_dataset(run.dataset)}, {c.epochs} ep, seed {c.seed}",
        run.status_text,
        _accuracy_text(run),
    ]


def _short_dataset(description: str) -> str:
    """ "bundled MNIST sample (4,000 train / 1,000 test)" → "bundled MNIST sample": the sizes
    are in the cell's tooltip, and a one-line row keeps more runs in view."""
    return description.split(" (")[0].strip() or description


def _accuracy_text(run: RunRecord) -> str:
    """The score, and how long training took to reach 99 % when it did (issue 28)."""
    acc = run.accuracy
    if acc is None:
        return "—"
    seconds = run.seconds_to(0.99)
    return f"{acc:.2%}" if seconds is None else f"{acc:.2%} (99% in {seconds:.1f} s)"


class RunListView(QWidget):
    """The table of runs with Clear, Export as script and Export CSV."""

    visibilityChanged = Signal(object, bool)  # RunRecord, shown
    groupVisibilityChanged = Signal(object, bool)  # RepeatResult, its band shown
    groupActivated = Signal(object)  # RepeatResult double-clicked: show the Repeats page
    exportRequested = Signal()
    scriptRequested = Signal(object)  # the selected run's RunRecord, or None: current settings
    clearRequested = Signal()

    def __init__(self, history: RunHistory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self.table = QTableWidget(0, len(RUN_COLUMNS))
        self.table.setHorizontalHeaderLabels(RUN_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip(
            "Tick a run (or select it and press Space) to overlay its curves; each run keeps its "
            "colour. The list is saved and comes back when Digit Lab starts again."
        )
        self.table.setWordWrap(False)  # one line a run: more runs in view on a short window
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        rows = self.table.verticalHeader()
        rows.setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.cellDoubleClicked.connect(self._on_double_click)
        self._build_buttons()

    def _build_buttons(self) -> None:
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setShortcut(QKeySequence("Ctrl+E"))
        self.export_button.setToolTip(
            "Save every run's curves as one CSV file, one row per point (Ctrl+E)."
        )
        self.export_button.clicked.connect(self.exportRequested)
        self.script_button = QPushButton("Export as &script…")
        self.script_button.setToolTip(
            "Write the selected run (or, with none selected, the current settings) as one\n"
            "standalone PyTorch script: the same model, loss, optimizer and seed, with only\n"
            "torch and torchvision. Run it with python, or on several GPUs with torchrun.\n"
            "(Ctrl+Shift+E)"
        )
        # Ctrl+Shift+E (beside Ctrl+E, CSV) by a QShortcut: the button's own setShortcut would
        # replace its Alt+S mnemonic, and the underlined s would promise a key that does nothing.
        self.script_shortcut = QShortcut(QKeySequence("Ctrl+Shift+E"), self)
        self.script_shortcut.activated.connect(self.script_button.click)
        self.script_button.clicked.connect(lambda: self.scriptRequested.emit(self.selected_run()))
        self.clear_button = QPushButton("C&lear old runs")
        self.clear_button.setToolTip(
            "Forget every finished run and its curves, here and in the saved run list.\n"
            "(Ctrl+Shift+Delete)"
        )
        self.clear_button.setShortcut(QKeySequence("Ctrl+Shift+Delete"))
        self.clear_button.clicked.connect(self.clearRequested)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("<b>Runs</b> (tick to overlay)"))
        buttons.addStretch(1)
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.script_button)
        buttons.addWidget(self.export_button)
        layout.addLayout(buttons)
        layout.addWidget(self.table)
        # The header and three runs stay visible however short the window (issue 22).
        header = self.table.horizontalHeader().sizeHint().height()
        self.table.setMinimumHeight(header + 3 * rows_height(self.table) + 4)

    def rebuild(self) -> None:
        """One row per run of the history, in its order, then one per repeat group."""
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.history.runs) + len(self.history.groups))
        self.table.blockSignals(False)
        for run in self.history.runs:
            self.set_row(run)
        self.show_groups()

    def add_row(self, run: RunRecord) -> None:
        """A row for a run just added to the history (above the repeat groups)."""
        row = next(i for i, r in enumerate(self.history.runs) if r is run)
        self.table.blockSignals(True)
        self.table.insertRow(min(row, self.table.rowCount()))
        self.table.blockSignals(False)
        self.set_row(run)
        self.show_groups()

    def show_groups(self) -> None:
        """The repeat groups' rows, after the runs' (called when the groups change)."""
        first = len(self.history.runs)
        self.table.blockSignals(True)
        self.table.setRowCount(first + len(self.history.groups))
        for offset, group in enumerate(self.history.groups):
            for col, text in enumerate(group_cells(group)):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                if col == 0:
                    self._style_group_cell(item, group)
                if col == DATA_COLUMN:  # elided in a narrow window: the whole of it
                    item.setToolTip(text)
                if col == ACCURACY_COLUMN:
                    item.setToolTip(
                        "Final test accuracy over the seeds: mean ± standard deviation "
                        f"({len(group.finished())} runs).\nA difference between two "
                        "configurations means something only where it beats this spread."
                    )
                self.table.setItem(first + offset, col, item)
        self.table.blockSignals(False)

    def _style_group_cell(self, item: QTableWidgetItem, group: RepeatResult) -> None:
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if group.visible else Qt.CheckState.Unchecked)
        item.setForeground(QColor(group_colour(group)))
        bold = QFont()
        bold.setBold(True)
        bold.setItalic(True)
        item.setFont(bold)
        item.setToolTip(
            f"Repeat group {group.number}: {group.label}, {group.seeds_text}.\n"
            "Tick to overlay its band (lowest to highest seed) on the Repeats page;\n"
            "double-click to open that page."
        )

    def set_row(self, run: RunRecord) -> None:
        row = next(i for i, r in enumerate(self.history.runs) if r is run)
        self.table.blockSignals(True)
        for col, text in enumerate(row_cells(run)):
            item = QTableWidgetItem(text)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            if col == 0:
                self._style_run_cell(item, run)
            if col == ACCURACY_COLUMN:
                item.setToolTip(
                    "Test accuracy of the final model; when an epoch reached 99 %, the time it "
                    "took\n(training and evaluation, pauses left out), the figure speed runs "
                    "compare."
                )
            if col == DATA_COLUMN:
                item.setToolTip(f"{run.dataset}\ndevice: {run.device}")
            if col == STATUS_COLUMN and run.status_text == "stopped, scored":
                item.setToolTip(
                    "Stopped early; the model as it was then was scored on the test set."
                )
            self.table.setItem(row, col, item)
        self.table.blockSignals(False)

    def _style_run_cell(self, item: QTableWidgetItem, run: RunRecord) -> None:
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if run.visible else Qt.CheckState.Unchecked)
        item.setForeground(QColor(colour_of(run)))
        bold = QFont()
        bold.setBold(True)
        item.setFont(bold)
        item.setToolTip(f"{run.label}\ndevice: {run.device}")

    def selected_run(self) -> RunRecord | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.history.runs):
            return None
        return self.history.runs[rows[0].row()]

    def selected_group(self) -> RepeatResult | None:
        rows = self.table.selectionModel().selectedRows()
        return self._group_at(rows[0].row()) if rows else None

    def _group_at(self, row: int) -> RepeatResult | None:
        index = row - len(self.history.runs)
        return self.history.groups[index] if 0 <= index < len(self.history.groups) else None

    def _on_double_click(self, row: int, _column: int) -> None:
        group = self._group_at(row)
        if group is not None:
            self.groupActivated.emit(group)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 0:
            return
        shown = item.checkState() == Qt.CheckState.Checked
        if item.row() < len(self.history.runs):
            self.visibilityChanged.emit(self.history.runs[item.row()], shown)
            return
        group = self._group_at(item.row())
        if group is not None and group.visible != shown:
            group.visible = shown
            self.groupVisibilityChanged.emit(group, shown)
