"""The Models dialog (Models > Models…) and the banner that offers a finished run.

Both are views over ``AppState`` and its ``ModelLibrary``: they list, rename, delete and choose
kept models, and never hold a model of their own. Errors are shown in place, in one sentence.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.errors import UserError
from core.storage.model_library import BUNDLED_NAME, LibraryEntry
from gui import theme
from gui.app_state import AppState, RunOffer

COLUMNS = ("Name", "Model", "Dataset", "Test accuracy", "Date", "Size")
BUNDLED_ROW_ID = ""  # the bundled model's row has no library id


def _size_text(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} KB"


def _accuracy_text(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.1%}"


class ModelLibraryDialog(QDialog):
    """Every kept model, which one is in use, and the buttons to change that."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setWindowTitle("Models")
        self.resize(820, 420)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        # Rows follow the columns: sized while the dialog was still unshown (narrow columns),
        # the bundled model's dataset line made a row 183 px tall at its first opening.
        header.sectionResized.connect(lambda *_: self.table.resizeRowsToContents())
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.use_selected())
        self.usage_label = QLabel()
        self.usage_label.setStyleSheet(theme.text_style(theme.MUTED))
        self.message = QLabel()
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Every model you train or load is kept here. The one marked <b>in use</b> answers "
            "in the Draw tab and in <code>main.py classify</code>."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.usage_label)
        layout.addWidget(self.message)
        layout.addLayout(self._build_buttons())
        state.libraryChanged.connect(self.refresh)
        state.modelChanged.connect(lambda _checkpoint: self.refresh())
        self.refresh()

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.use_button = QPushButton("&Use this model")
        self.use_button.setToolTip(
            "The Draw tab and classify answer with the selected model (Enter)"
        )
        self.use_button.clicked.connect(self.use_selected)
        self.bundled_button = QPushButton("Use &bundled model")
        self.bundled_button.setToolTip(
            "Go back to the model shipped with Digit Lab; your models stay in the list"
        )
        self.bundled_button.clicked.connect(self.state.use_bundled)
        self.rename_button = QPushButton("&Rename…")
        self.rename_button.setToolTip("Give the selected model a name you will recognise (F2)")
        self.rename_button.clicked.connect(self._start_rename)
        self.delete_button = QPushButton("&Delete")
        self.delete_button.setToolTip("Remove the selected model and its file (Delete)")
        self.delete_button.clicked.connect(lambda: self.delete_selected(confirm=True))
        self.add_button = QPushButton("&Add a file…")
        self.add_button.setToolTip(
            "Keep a Digit Lab model file (.pt) in the library. Files are read weights-only:\n"
            "one that would need to run code is refused."
        )
        self.add_button.clicked.connect(self._add_dialog)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        for button in (self.use_button, self.bundled_button, self.rename_button):
            row.addWidget(button)
        row.addWidget(self.delete_button)
        row.addWidget(self.add_button)
        row.addStretch(1)
        row.addWidget(close)
        QShortcut(QKeySequence(Qt.Key.Key_F2), self, self._start_rename)
        QShortcut(
            QKeySequence(QKeySequence.StandardKey.Delete), self, lambda: self.delete_selected()
        )
        QShortcut(QKeySequence(Qt.Key.Key_Return), self, self.use_selected)
        return row

    # ---------------------------------------------------------------- listing
    def refresh(self) -> None:
        """Rebuild the rows from the library (the bundled model first), keeping the selection."""
        selected = self.selected_id()
        entries = self.state.library.entries()
        self.table.blockSignals(True)
        self.table.setRowCount(len(entries) + 1)
        self._fill_bundled_row()
        for row, entry in enumerate(entries, start=1):
            self._fill_row(row, entry)
        self.table.blockSignals(False)
        self.table.resizeRowsToContents()  # a long dataset line wraps whole, never "…"
        self._select(selected if selected is not None else self._in_use_id())
        problem = self.state.library.problem
        usage = self.state.library.disk_usage()
        self.usage_label.setText(
            problem[:1].upper() + problem[1:] + "."
            if problem
            else f"{len(entries)} kept model{'s' if len(entries) != 1 else ''}, "
            f"{_size_text(usage)} on disk in {self.state.library.folder}"
        )
        self._update_buttons()

    def _in_use_id(self) -> str:
        return self.state.current_entry_id or BUNDLED_ROW_ID

    def _set_row(self, row: int, entry_id: str, values: list[str], tip: str, problem: str) -> None:
        in_use = entry_id == self._in_use_id() and (
            entry_id or self.state.current_name == BUNDLED_NAME
        )
        for column, text in enumerate(values):
            if column == 0 and in_use:
                text = f"{text}  ● in use"
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, entry_id)
            item.setToolTip(problem or tip)
            if in_use:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            if problem:
                item.setForeground(Qt.GlobalColor.darkRed)
            self.table.setItem(row, column, item)

    def _fill_bundled_row(self) -> None:
        try:
            bundled = self.state.bundled()  # read once a session (AppState)
        except UserError as exc:
            self._set_row(0, BUNDLED_ROW_ID, [BUNDLED_NAME, "", "", "", "", ""], "", str(exc))
            return
        kind = bundled.summary().split(" (")[0]
        values = [BUNDLED_NAME, kind, bundled.dataset, _accuracy_text(bundled.test_accuracy)]
        self._set_row(0, BUNDLED_ROW_ID, [*values, "shipped", ""], "Shipped with Digit Lab", "")

    def _fill_row(self, row: int, entry: LibraryEntry) -> None:
        values = [
            entry.name,
            entry.kind_title,
            entry.dataset,
            _accuracy_text(entry.test_accuracy),
            entry.date_text,
            _size_text(entry.size_bytes),
        ]
        tip = (
            f"{entry.kind_title}, loss {entry.loss}, {entry.source}\n"
            f"Calibration temperature {entry.temperature:.2f}\nFile {entry.file_name}"
        )
        self._set_row(row, entry.id, values, tip, entry.problem)

    def selected_id(self) -> str | None:
        """The selected row's library id ("" for the bundled model), None when none."""
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _select(self, entry_id: str | None) -> None:
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == entry_id:
                self.table.selectRow(row)
                return

    def _update_buttons(self) -> None:
        selected = self.selected_id()
        is_entry = bool(selected)
        in_use = selected == self._in_use_id() and bool(
            selected or self.state.current_name == BUNDLED_NAME
        )
        self.use_button.setEnabled(selected is not None and not in_use)
        self.use_button.setText("In use" if in_use else "&Use this model")
        self.rename_button.setEnabled(is_entry)
        self.delete_button.setEnabled(is_entry)

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet(theme.text_style(theme.ERROR if error else theme.OK))
        self.message.setText(text)

    # ---------------------------------------------------------------- actions
    def use_selected(self) -> bool:
        selected = self.selected_id()
        if selected is None:
            return False
        if selected == BUNDLED_ROW_ID:
            ok = self.state.use_bundled()
        else:
            try:
                self.state.use_entry(selected)
                ok = True
            except UserError as exc:
                self.show_message(f"Not used: {exc}.", error=True)
                return False
        if ok:
            self.show_message(f"Now using {self.state.current_name}.")
        return ok

    def _start_rename(self) -> None:
        from PySide6.QtWidgets import QInputDialog

        selected = self.selected_id()
        if not selected:
            return
        current = self.state.library.entry(selected).name
        name, ok = QInputDialog.getText(self, "Rename model", "New name:", text=current)
        if ok:
            self.rename_selected(name)

    def rename_selected(self, name: str) -> bool:
        selected = self.selected_id()
        if not selected:
            return False
        try:
            entry = self.state.library.rename(selected, name)
        except UserError as exc:
            self.show_message(f"Not renamed: {exc}.", error=True)
            return False
        self.state.entry_renamed(selected)
        self.show_message(f"Renamed to {entry.name}.")
        return True

    def _add_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(
            self, "Add a model file", "", "Digit Lab models (*.pt);;All files (*)"
        )
        if path:
            self.add_file(path)

    def add_file(self, path: str) -> bool:
        """Keep a model file in the library (it does not become the model in use)."""
        from core.storage.checkpoint import load_checkpoint

        try:
            entry = self.state.library.add(load_checkpoint(path), source="loaded")
        except UserError as exc:
            self.show_message(f"Not added: {exc}.", error=True)
            return False
        self.state.libraryChanged.emit()
        self._select(entry.id)
        self.show_message(f"Added {entry.name}; choose Use this model to answer with it.")
        return True

    def delete_selected(self, *, confirm: bool = True) -> bool:
        selected = self.selected_id()
        if not selected:
            return False
        entry = self.state.library.entry(selected)
        if confirm:
            answer = QMessageBox.question(
                self,
                "Delete model",
                f"Delete {entry.name} and its file? This cannot be undone.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        try:
            self.state.library.delete(selected)
        except UserError as exc:
            self.show_message(f"Not deleted: {exc}.", error=True)
            return False
        self.state.entry_deleted(selected)
        self.show_message(f"Deleted {entry.name}.")
        return True


class RunOfferBanner(QFrame):
    """ "Keep the new model? Use it?" after a run: both accuracies, Use / Keep / Discard.

    Hidden until ``AppState.runOffered``; the model in use changes only on "Use the new model".
    Its words come from the offer (a stopped run says "stopped"), and it goes as soon as the
    offer is answered here or elsewhere, or withdrawn because a new run began.
    """

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.offer: RunOffer | None = None
        self.setObjectName("runOfferBanner")
        self.setStyleSheet(
            f"#runOfferBanner {{ background: {theme.INFO_BG}; border: 1px solid "
            f"{theme.INFO_BORDER}; border-radius: 4px; }} QLabel {{ color: {theme.INFO_INK}; }}"
        )
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.use_button = QPushButton("Use the new model")
        self.use_button.setToolTip(
            "Keep it in Models… and let the Draw tab and classify answer with it"
        )
        self.use_button.clicked.connect(self.accept)
        self.keep_button = QPushButton("Keep")
        self.keep_button.clicked.connect(self.keep)
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Forget this model (its curves stay in the run list)")
        self.discard_button.clicked.connect(self.discard)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 10, 6)
        row.addWidget(self.text, 1)
        for button in (self.use_button, self.keep_button, self.discard_button):
            row.addWidget(button)
        self.setVisible(False)
        state.runOffered.connect(self.show_offer)
        state.offerAnswered.connect(self._answered)

    def show_offer(self, offer: RunOffer) -> None:
        self.offer = offer
        head = "Training finished." if offer.status == "finished" else "Training stopped early."
        if offer.entry is not None:
            kept = f" Kept in Models… as “{offer.entry.name}” (it beats the models there)."
            self.keep_button.setText("Keep, don't use")
            self.keep_button.setToolTip("It stays in Models…, ready to use later")
        else:
            kept = " Not kept yet."
            self.keep_button.setText("Keep")
            self.keep_button.setToolTip("Keep it in Models…, ready to use later")
        self.text.setText(f"<b>{head}</b> {offer.describe()}{kept}")
        self.setVisible(True)

    def accept(self) -> None:
        if self.offer is not None:
            self.state.accept_offer(self.offer)
        self._close()

    def keep(self) -> None:
        offer = self.offer
        if offer is not None:
            entry = self.state.keep_offer(offer)
            if entry is not None:
                self.state.show_status(
                    f"Kept {entry.name} in Models…; still using {self.state.current_name}."
                )
        self._close()

    def dismiss(self) -> None:
        """Close the banner keeping the model (the earlier "Keep the current one")."""
        self.keep()

    def discard(self) -> None:
        if self.offer is not None:
            self.state.discard_offer(self.offer)
        self._close()

    def _answered(self, offer: RunOffer, answer: str) -> None:  # noqa: ARG002
        if offer is self.offer:
            self._close()

    def _close(self) -> None:
        self.offer = None
        self.setVisible(False)
