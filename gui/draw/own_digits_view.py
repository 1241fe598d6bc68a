"""My digits: the Draw tab's "Add to my digits as N" bar and the "My digits" dialog.

Views over ``core.data.own_digits.OwnDigits`` (the learner's drawings in the user data folder):
the bar saves the drawing on the canvas as the chosen digit and says "saved: 7 (12 of yours)";
the dialog counts, shows and deletes them, and fine-tunes the current model on them in the
app's one worker-thread bridge (``gui.workers``); thumbnails are decoded there too. The tuned model is only
*offered* (``AppState.offer_run``): the model in use never changes behind the learner's back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, QThread, QUrl, Signal, Slot
from PySide6.QtGui import (
    QCloseEvent,
    QDesktopServices,
    QIcon,
    QImage,
    QKeySequence,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.data.own_digits import (
    MIN_DIGITS,
    MIN_PER_DIGIT,
    FineTuneResult,
    LoadingOwnDigits,
    OwnDigits,
)
from core.errors import UserError
from core.inference.image_io import read_picture
from core.training.train_types import BatchEvent, EpochEvent, RunStarted
from gui import theme
from gui.app_state import AppState, Kept
from gui.workers import SHUTDOWN_WAIT_MS, FunctionWorker, is_running, start_worker, wait_for

log = logging.getLogger(__name__)

ADD_SHORTCUT = "Ctrl+D"
THUMB_SIDE = 56
MAX_THUMBNAILS = 400  # the newest ones; decoding thousands of PNGs would stall the window
PROGRESS_INTERVAL = 0.1  # seconds between progress signals (no event storm)


def _count_text(digit: int, count: int) -> str:
    return f"saved: {digit} ({count} of yours)"


class AddToMyDigitsBar(QWidget):
    """ "Add to my digits as [N]" for the Draw tab: saves ``picture()`` (None: nothing drawn).

    The chooser follows the model's answer (``set_answer``) until the learner picks a digit by
    hand; a new drawing (``set_answer(None)``: the canvas is empty) follows the model again.
    A data-set digit's known label (``set_known_label``, "Try in Draw") wins over the model's
    answer, which may be the very mistake it was sent for.
    """

    saved = Signal(int, int)  # digit, how many of that digit are kept now
    openRequested = Signal()  # show the My digits dialog

    def __init__(
        self,
        picture: Callable[[], np.ndarray | None],
        own: OwnDigits | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._picture = picture
        self.own = own or OwnDigits()
        self._chosen_by_hand = False
        self._known: int | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.add_button = QPushButton("Add to my digits as")
        self.add_button.setToolTip(
            f"Keep this drawing as an example of the chosen digit ({ADD_SHORTCUT}).\n"
            "Your drawings are a new hand the model has never seen: with a few of each digit,\n"
            "My digits… fine-tunes the model on them and shows how much better it reads you."
        )
        self.add_button.clicked.connect(self.add)
        self.digit_box = QComboBox()
        self.digit_box.addItems([str(d) for d in range(10)])
        self.digit_box.setToolTip("The digit you drew (starts at the model's answer)")
        self.digit_box.activated.connect(self._picked)
        self.message = QLabel()
        self.message.setStyleSheet(theme.text_style(theme.MUTED))
        self.open_button = QToolButton()
        self.open_button.setText("My digits…")
        self.open_button.setToolTip("Browse, delete and fine-tune on your saved drawings")
        self.open_button.clicked.connect(self.openRequested)
        for widget in (self.add_button, self.digit_box, self.message):
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addWidget(self.open_button)
        shortcut = QShortcut(QKeySequence(ADD_SHORTCUT), self)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(self.add)

    @property
    def digit(self) -> int:
        return self.digit_box.currentIndex()

    def _picked(self, _index: int) -> None:
        self._chosen_by_hand = True

    def set_answer(self, digit: int | None) -> None:
        """The model's answer for the drawing (None: the canvas is empty, a new drawing)."""
        if digit is None:
            self._chosen_by_hand = False
        elif not self._chosen_by_hand and self._known is None:
            self.digit_box.setCurrentIndex(int(digit))

    def set_known_label(self, label: int | None) -> None:
        """The drawing's true label when it is known (a data-set digit), else None."""
        self._known = None if label is None else int(label)
        if self._known is not None and 0 <= self._known < self.digit_box.count():
            self._chosen_by_hand = False
            self.digit_box.setCurrentIndex(self._known)

    def add(self) -> bool:
        """Save the drawing as ``digit``; the result (or why not) is said beside the button."""
        picture = self._picture()
        digit = self.digit
        try:
            if picture is None:
                raise UserError("nothing is drawn yet: draw a digit before adding it")
            self.own.add(picture, digit)
            count = self.own.counts()[digit]
        except UserError as exc:
            self._say(f"Not saved: {exc}", theme.ERROR)
            return False
        self._say(_count_text(digit, count), theme.OK)
        self.saved.emit(digit, count)
        return True

    def _say(self, text: str, colour: str) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(theme.text_style(colour))


class FineTuneWorker(QObject):
    """``core.data.own_digits.fine_tune`` in the worker thread; plain data out through signals.

    ``progress(text, done, total)`` at most every ``PROGRESS_INTERVAL`` seconds; exactly one of
    ``succeeded(result, kept)`` or ``failed(sentence)``, then ``finished``. The tuned model is
    kept in the library here (``keep``), so the window never waits for the file.
    """

    progress = Signal(str, int, int)
    succeeded = Signal(object, object)  # FineTuneResult, Kept | None
    failed = Signal(str)
    finished = Signal()

    def __init__(self, job: Callable[..., FineTuneResult], keep: Callable[[Any], Kept]) -> None:
        super().__init__()
        self._job = job
        self._keep = keep
        self._stop = threading.Event()
        self._last = 0.0

    def stop(self) -> None:
        self._stop.set()

    @Slot()
    def work(self) -> None:
        try:
            result = self._job(on_event=self._on_event, should_stop=self._stop.is_set)
            kept = self._keep(result.checkpoint) if result.status == "finished" else None
            self.succeeded.emit(result, kept)
        except UserError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 (reported to the learner, never lost)
            log.exception("fine-tuning failed")
            self.failed.emit(f"fine-tuning failed: {type(exc).__name__}: {exc}")
        finally:
            self.finished.emit()

    def _on_event(self, event: object) -> None:
        if isinstance(event, LoadingOwnDigits):
            self._maybe(
                f"Reading your drawings: {event.done} of {event.total}", event.done, event.total
            )
        elif isinstance(event, RunStarted):
            self.progress.emit("Fine-tuning…", 0, event.total_steps)
        elif isinstance(event, BatchEvent):
            self._maybe(
                f"Fine-tuning: epoch {event.epoch}, loss {event.loss:.3f}",
                event.step,
                event.total_steps,
            )
        elif isinstance(event, EpochEvent):
            text = f"Epoch {event.epoch} of {event.epochs}: MNIST test {event.test_accuracy:.1%}"
            self.progress.emit(text, -1, -1)

    def _maybe(self, text: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last >= PROGRESS_INTERVAL or done >= total:
            self._last = now
            self.progress.emit(text, done, total)


def decode_thumbnails(paths: list[str]) -> list[tuple[str, QImage | None]]:
    """Each file as a small grayscale ``QImage`` (None when it cannot be read), for a worker.

    Through ``core.inference.image_io.read_picture`` (regular files only, the allowed formats,
    the pixel budget, a time limit), shrunk strip by strip while decoding, so a 12-megapixel
    phone photo costs a thumbnail's memory. ``QImage``, unlike ``QPixmap``, may be made off the
    window's thread.
    """
    thumbnails: list[tuple[str, QImage | None]] = []
    for path in paths:
        try:
            pixels = np.ascontiguousarray(read_picture(path, max_side=THUMB_SIDE).pixels)
        except UserError as exc:
            log.info("no thumbnail for %s: %s", path, exc)
            thumbnails.append((path, None))
            continue
        height, width = pixels.shape
        image = QImage(pixels.data, width, height, width, QImage.Format.Format_Grayscale8)
        thumbnails.append((path, image.copy()))
    return thumbnails


def placeholder_icon() -> QIcon:
    """A grey square standing in for a thumbnail still being decoded (or unreadable)."""
    pixmap = QPixmap(THUMB_SIDE, THUMB_SIDE)
    pixmap.fill(Qt.GlobalColor.lightGray)
    return QIcon(pixmap)


class ThumbnailLoader(QObject):
    """Decodes thumbnails in a worker (``decode_thumbnails``), never on the window's thread.

    ``load(paths)`` asks for them (a newer ``load`` makes an older answer unwanted);
    ``ready({path: QIcon})`` brings them back, ``failed(sentence)`` says why not.
    """

    ready = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._serial = 0
        self._jobs: list[tuple[QThread, FunctionWorker]] = []
        self.pending = 0  # files being decoded

    def load(self, paths: list[str]) -> None:
        self._serial += 1
        self.pending = len(paths)
        if not paths:
            return
        worker = FunctionWorker(lambda: decode_thumbnails(paths), self._serial)
        worker.done.connect(self._decoded)
        worker.failed.connect(self._failed)
        self._jobs = [(t, w) for t, w in self._jobs if is_running(t)]
        self._jobs.append((start_worker(worker, self, name="own-digits-thumbnails"), worker))

    @Slot(object, object)
    def _decoded(self, serial: object, thumbnails: object) -> None:
        if serial != self._serial:
            return
        self.pending = 0
        self.ready.emit(
            {
                path: placeholder_icon() if image is None else QIcon(QPixmap.fromImage(image))
                for path, image in thumbnails  # type: ignore[union-attr]
            }
        )

    @Slot(object, str)
    def _failed(self, serial: object, message: str) -> None:
        if serial == self._serial:
            self.pending = 0
            self.failed.emit(message)

    def shutdown(self, timeout_ms: int) -> bool:
        """Drop answers still on the way; wait at most ``timeout_ms``; True if all ended."""
        self._serial += 1
        return all([wait_for(thread, timeout_ms) for thread, _worker in self._jobs])


def _pct(value: float) -> str:
    return f"{value:.1%}"


class OwnDigitsDialog(QDialog):
    """Counts per digit, thumbnails to browse and delete, and "Fine-tune the current model".

    ``mnist_loader`` gives the MNIST digits mixed in (default: full MNIST when it is in the
    data folder, else the bundled sample); it is called in the worker thread. Closing the dialog stops a running fine-tune and waits for it.
    """

    def __init__(
        self,
        state: AppState,
        own: OwnDigits | None = None,
        parent: QWidget | None = None,
        mnist_loader: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.own = own or OwnDigits()
        self._mnist_loader = mnist_loader
        self._thread: QThread | None = None
        self._worker: FineTuneWorker | None = None
        self.result: FineTuneResult | None = None
        self.counts = [0] * 10
        self._icons: dict[str, QIcon | None] = {}
        self.thumbnail_loader = ThumbnailLoader(self)
        self.thumbnail_loader.ready.connect(self._thumbnails_decoded)
        self.thumbnail_loader.failed.connect(self._thumbnails_failed)
        self.setWindowTitle("My digits")
        self.resize(760, 620)
        layout = QVBoxLayout(self)
        layout.addWidget(self._build_counts())
        layout.addWidget(self._build_browser(), stretch=1)
        layout.addWidget(self._build_fine_tune())
        self.refresh()

    # ------------------------------------------------------------------ layout
    def _build_counts(self) -> QGroupBox:
        box = QGroupBox("Your drawings per digit")
        grid = QGridLayout(box)
        self.count_labels: list[QLabel] = []
        for digit in range(10):
            grid.addWidget(QLabel(f"<b>{digit}</b>"), 0, digit, Qt.AlignmentFlag.AlignCenter)
            label = QLabel("0")
            grid.addWidget(label, 1, digit, Qt.AlignmentFlag.AlignCenter)
            self.count_labels.append(label)
        self.total_label = QLabel()
        self.total_label.setStyleSheet(theme.text_style(theme.MUTED))
        grid.addWidget(self.total_label, 2, 0, 1, 10)
        return box

    def _build_browser(self) -> QWidget:
        panel = QWidget(self)
        column = QVBoxLayout(panel)
        column.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Show"))
        self.filter_box = QComboBox()
        self.filter_box.addItems(["All digits"] + [f"Digit {d}" for d in range(10)])
        self.filter_box.currentIndexChanged.connect(self._fill_thumbnails)
        row.addWidget(self.filter_box)
        self.shown_label = QLabel()
        self.shown_label.setStyleSheet(theme.text_style(theme.MUTED))
        row.addWidget(self.shown_label, stretch=1)
        self.folder_button = QPushButton("Open folder")
        self.folder_button.setToolTip(f"Your drawings are PNG files in {self.own.root}/0 … /9")
        self.folder_button.clicked.connect(self._open_folder)
        self.delete_button = QPushButton("Delete selected")
        self.delete_button.setToolTip("Delete the selected drawings (Delete key)")
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        row.addWidget(self.folder_button)
        row.addWidget(self.delete_button)
        column.addLayout(row)
        self.thumbnails = QListWidget()
        self.thumbnails.setViewMode(QListWidget.ViewMode.IconMode)
        self.thumbnails.setIconSize(QSize(THUMB_SIDE, THUMB_SIDE))
        self.thumbnails.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.thumbnails.setMovement(QListWidget.Movement.Static)
        self.thumbnails.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.thumbnails.itemSelectionChanged.connect(self._update_buttons)
        QShortcut(QKeySequence.StandardKey.Delete, self.thumbnails, self.delete_selected)
        column.addWidget(self.thumbnails, stretch=1)
        return panel

    def _build_fine_tune(self) -> QGroupBox:
        box = QGroupBox("Teach the current model your hand")
        column = QVBoxLayout(box)
        row = QHBoxLayout()
        self.tune_button = QPushButton("Fine-tune the current model")
        self.tune_button.setToolTip(
            "Train the model in use a little further on your drawings, mixed with MNIST digits\n"
            "so it does not forget them. Every 5th drawing of each digit is held out and never\n"
            "trained on: the accuracy on those, before and after, says whether it learnt your hand."
        )
        self.tune_button.clicked.connect(self.start_fine_tune)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop_fine_tune)
        self.epochs_box = QSpinBox()
        self.epochs_box.setRange(1, 20)
        self.epochs_box.setValue(3)
        self.epochs_box.setSuffix(" epochs")
        self.epochs_box.setToolTip("Passes over your drawings and the MNIST digits mixed in")
        for widget in (self.tune_button, self.epochs_box, self.stop_button):
            row.addWidget(widget)
        row.addStretch(1)
        column.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        column.addWidget(self.progress)
        column.addWidget(self.status_label)
        column.addLayout(self._build_results())
        return box

    def _build_results(self) -> QGridLayout:
        grid = QGridLayout()
        for col, title in enumerate(("", "Before", "After")):
            grid.addWidget(QLabel(f"<b>{title}</b>"), 0, col)
        self.own_row = QLabel("Your held-out drawings")
        self.mnist_row = QLabel("MNIST test digits")
        self.own_before, self.own_after = QLabel("–"), QLabel("–")
        self.mnist_before, self.mnist_after = QLabel("–"), QLabel("–")
        for row, widgets in enumerate(
            (
                (self.own_row, self.own_before, self.own_after),
                (self.mnist_row, self.mnist_before, self.mnist_after),
            ),
            start=1,
        ):
            for col, widget in enumerate(widgets):
                grid.addWidget(widget, row, col)
        grid.setColumnStretch(0, 1)
        grid.setColumnMinimumWidth(1, 90)
        grid.setColumnMinimumWidth(2, 90)
        return grid

    # ------------------------------------------------------------------ browsing
    def refresh(self) -> None:
        """Read the folder again: counts, thumbnails, which buttons can be used."""
        try:
            counts = self.own.counts()
        except UserError as exc:
            counts = [0] * 10
            self._say(str(exc), theme.ERROR)
        for label, count in zip(self.count_labels, counts, strict=True):
            label.setText(str(count))
            colour = theme.INK if count >= MIN_PER_DIGIT else theme.FAINT
            label.setStyleSheet(theme.text_style(colour))
        self.counts = counts
        total = sum(counts)
        self.total_label.setText(
            f"{total} drawing{'s' if total != 1 else ''}, kept in {self.own.root}"
            if total
            else "None yet: draw a digit in the Draw tab and press \u201cAdd to my digits as\u201d."
        )
        self._fill_thumbnails()

    def enough_to_fine_tune(self) -> bool:
        return sum(1 for c in self.counts if c >= MIN_PER_DIGIT) >= MIN_DIGITS

    def _fill_thumbnails(self) -> None:
        self.thumbnails.clear()
        choice = self.filter_box.currentIndex()
        try:
            drawings = self.own.list(None if choice <= 0 else choice - 1)
        except UserError as exc:
            self._say(str(exc), theme.ERROR)
            drawings = []
        drawings.sort(key=lambda drawing: drawing.path.name)  # names are the time of saving
        shown = drawings[-MAX_THUMBNAILS:]
        # Decoded once per file, in a worker: a refresh after each save costs only the new one.
        self._icons = {str(d.path): self._icons.get(str(d.path)) for d in shown}
        for drawing in reversed(shown):  # newest first
            key = str(drawing.path)
            item = QListWidgetItem(self._icons[key] or placeholder_icon(), str(drawing.digit))
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setToolTip(f"{drawing.digit}: {drawing.path.name}")
            self.thumbnails.addItem(item)
        self.thumbnail_loader.load([key for key, icon in self._icons.items() if icon is None])
        extra = (
            f" (the newest {len(shown)} of {len(drawings)})" if len(shown) < len(drawings) else ""
        )
        self.shown_label.setText(f"{len(drawings)} shown{extra}" if drawings else "")
        self._update_buttons()

    @Slot(object)
    def _thumbnails_decoded(self, icons: dict[str, QIcon]) -> None:
        for path, icon in icons.items():
            if path in self._icons:
                self._icons[path] = icon
        for row in range(self.thumbnails.count()):
            item = self.thumbnails.item(row)
            icon = icons.get(item.data(Qt.ItemDataRole.UserRole))
            if icon is not None:
                item.setIcon(icon)

    @Slot(str)
    def _thumbnails_failed(self, message: str) -> None:
        self._say(f"Thumbnails could not be shown: {message}", theme.ERROR)

    def selected_paths(self) -> list[str]:
        return [item.data(Qt.ItemDataRole.UserRole) for item in self.thumbnails.selectedItems()]

    def delete_selected(self, *, confirm: bool = True) -> int:
        """Delete the selected drawings (after asking); returns how many went."""
        paths = self.selected_paths()
        if not paths:
            return 0
        if confirm:
            what = "this drawing" if len(paths) == 1 else f"these {len(paths)} drawings"
            answer = QMessageBox.question(
                self, "Delete drawings", f"Delete {what}? This cannot be undone."
            )
            if answer != QMessageBox.StandardButton.Yes:
                return 0
        deleted = 0
        try:
            for path in paths:
                self.own.delete(path)
                deleted += 1
        except UserError as exc:
            self._say(f"Not all deleted: {exc}", theme.ERROR)
        else:
            self._say(f"Deleted {deleted} drawing{'s' if deleted != 1 else ''}.", theme.MUTED)
        self.refresh()
        return deleted

    def _open_folder(self) -> None:
        self.own.root.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.own.root)))

    def _update_buttons(self) -> None:
        running = self.is_running
        self.delete_button.setEnabled(bool(self.thumbnails.selectedItems()) and not running)
        enough = self.enough_to_fine_tune()
        self.tune_button.setEnabled(enough and not running)
        self.tune_button.setToolTip(
            self.tune_button.toolTip().split("\n\n")[0]
            + (
                ""
                if enough
                else f"\n\nNeeds at least {MIN_PER_DIGIT} drawings of each of at least "
                f"{MIN_DIGITS} digits."
            )
        )
        self.stop_button.setEnabled(running)

    def _say(self, text: str, colour: str) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(theme.text_style(colour))

    # ------------------------------------------------------------------ fine-tuning
    @property
    def is_running(self) -> bool:
        return self._thread is not None

    def start_fine_tune(self) -> bool:
        """Fine-tune the model in use in the worker thread; False (said in place) if it cannot."""
        checkpoint = self.state.current_model
        if self.is_running:
            return False
        if checkpoint is None:
            self._say("There is no model to fine-tune: load or train one first.", theme.ERROR)
            return False
        from core.data.own_digits import fine_tune

        root, epochs, loader = self.own.root, self.epochs_box.value(), self._mnist_loader

        def job(**hooks: Any) -> FineTuneResult:
            if loader is None:  # full MNIST when it is in the data folder, else the sample
                from core.data.mnist import load_mnist

                mnist = load_mnist("auto")
            else:
                mnist = loader()
            return fine_tune(checkpoint, root, mnist, epochs=epochs, seed=1, **hooks)

        worker = FineTuneWorker(job, self.state.keep)
        worker.progress.connect(self._progress)
        worker.succeeded.connect(self._succeeded)
        worker.failed.connect(self._failed)
        worker.finished.connect(self._finished)
        self._worker = worker
        self._thread = start_worker(worker, self)
        self._thread.setObjectName("own-digits-fine-tune")
        self.progress.setRange(0, 0)
        self.progress.show()
        self._say(f"Fine-tuning {self.state.current_name}…", theme.MUTED)
        self._update_buttons()
        return True

    def stop_fine_tune(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._say("Stopping after this batch…", theme.MUTED)

    @Slot(str, int, int)
    def _progress(self, text: str, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(max(0, done))
        self._say(text, theme.MUTED)

    @Slot(object, object)
    def _succeeded(self, result: FineTuneResult, kept: Kept | None) -> None:
        self.result = result
        self.show_result(result)
        if result.status != "finished":
            self._say("Stopped: the model was scored as it was, and is not offered.", theme.NOTE)
            return
        self.state.offer_run(result.checkpoint, kept)
        gained = result.own_after - result.own_before
        self._say(
            f"Your held-out drawings: {gained:+.1%} ({result.seconds:.0f} s). The tuned model "
            "is kept in Models and offered above the tabs: it answers only once you choose it.",
            theme.OK if gained >= 0 else theme.NOTE,
        )

    @Slot(str)
    def _failed(self, sentence: str) -> None:
        self._say(sentence[:1].upper() + sentence[1:] + ".", theme.ERROR)

    @Slot()
    def _finished(self) -> None:
        wait_for(self._thread, SHUTDOWN_WAIT_MS)  # it ends right after ``finished``
        self._thread = self._worker = None
        self.progress.hide()
        self._update_buttons()

    def show_result(self, result: FineTuneResult) -> None:
        """Before and after, side by side (the per-digit detail in the row's tooltip)."""
        self.own_row.setText(f"Your held-out drawings ({result.own_held_out})")
        self.mnist_row.setText(f"MNIST test digits ({result.mnist_test:,})")
        self.mnist_row.setToolTip(
            f"The test split of {result.mnist_description}, the same digits before and after:\n"
            "does the model still read MNIST, or did it forget it for your hand? (A model\n"
            "trained on full MNIST has seen the bundled sample's test digits: compare the\n"
            "two columns, not this figure with its test accuracy.)"
        )
        self.own_before.setText(_pct(result.own_before))
        self.own_after.setText(_pct(result.own_after))
        self.mnist_before.setText(_pct(result.mnist_before))
        self.mnist_after.setText(_pct(result.mnist_after))
        for label, better in (
            (self.own_after, result.own_after >= result.own_before),
            (self.mnist_after, result.mnist_after >= result.mnist_before - 0.005),
        ):
            label.setStyleSheet(theme.text_style(theme.OK if better else theme.ERROR))
        detail = [
            f"{d}: {_pct(b)} \u2192 {_pct(a)} ({n} held out)"
            for d, (b, a, n) in enumerate(
                zip(
                    result.own_before_per_digit,
                    result.own_after_per_digit,
                    result.own_held_out_per_digit,
                    strict=False,
                )
            )
            if n
        ]
        self.own_row.setToolTip(
            f"Trained on {result.own_trained} of your drawings and {result.mnist_mixed:,} "
            "MNIST digits; checked on the others:\n" + "\n".join(detail)
        )

    def shutdown(self, timeout_ms: int = SHUTDOWN_WAIT_MS) -> bool:
        """Stop a running fine-tune and wait, at most ``timeout_ms``, for it and for thumbnail
        decoding (closing the window, the dialog); True when nothing is left running."""
        if self._worker is not None:
            self._worker.stop()
        ended = wait_for(self._thread, timeout_ms)
        return self.thumbnail_loader.shutdown(timeout_ms) and ended

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        self.shutdown()
        super().closeEvent(event)
