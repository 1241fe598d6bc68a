"""Which digits the next run trains on: the bundled sample, downloaded MNIST, or a folder.

Downloading runs in a background thread (torchvision's own download, through
``core.data.download_mnist``) with a progress bar and Cancel. Offline, the error is shown here
and the bundled sample stays active.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.data import (
    DownloadCancelled,
    choose_dataset,
    download_mnist,
    find_raw_folder,
    mnist_present,
)
from core.errors import UserError
from core.resources import default_mnist_dir
from gui import theme

SAMPLE_TEXT = "Bundled sample: 4,000 train / 1,000 test digits"
MNIST_TEXT = "Full MNIST: 60,000 train / 10,000 test digits"
SAMPLE_NOTE = (
    "Using the bundled sample (5,000 real MNIST digits): expect a few points less accuracy "
    "than full MNIST gives."
)


class _DownloadBridge(QObject):
    """Carries the download thread's news to the GUI thread as queued signals."""

    progress = Signal(int, int)
    succeeded = Signal(str)
    failed = Signal(str)
    cancelled = Signal()


class DataPanel(QGroupBox):
    """The active dataset, its size, and the ways to change it."""

    datasetChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Data", parent)
        self._folder: str | None = None  # a user folder with MNIST files, if chosen
        self._use_sample = False
        self._loaded_description: str | None = None
        self._cancel = threading.Event()
        self._download_thread: threading.Thread | None = None
        self._bridge = _DownloadBridge(self)
        self._bridge.progress.connect(self._on_progress)
        self._bridge.succeeded.connect(self._on_downloaded)
        self._bridge.failed.connect(self._on_download_failed)
        self._bridge.cancelled.connect(self._on_download_cancelled)

        self.active_label = QLabel()
        self.active_label.setWordWrap(True)
        self.note = QLabel(SAMPLE_NOTE)
        self.note.setWordWrap(True)
        self.note.setStyleSheet(
            f"QLabel {{ background: {theme.NOTE_BG}; border: 1px solid {theme.NOTE_BORDER};"
            f" border-radius: 3px; padding: 3px; color: {theme.NOTE_INK}; }}"
        )
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        self._build_buttons()
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("&Cancel download")
        self.cancel_button.setToolTip("Stop after the file in flight; the dataset stays as it is.")
        self.cancel_button.clicked.connect(self.cancel_download)
        self.progress_row = QWidget()
        row = QHBoxLayout(self.progress_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        self.progress_row.setVisible(False)
        self._build_layout()
        self._controls_enabled = True
        self._restore()
        self._refresh()

    def _build_buttons(self) -> None:
        self.download_button = QPushButton("Do&wnload MNIST")
        self.download_button.setToolTip(
            "Fetch the 60,000 + 10,000 MNIST digits (about 11 MB) with torchvision's own mirrors\n"
            f"into {default_mnist_dir()}"
        )
        self.download_button.clicked.connect(self.start_download)
        self.folder_button = QPushButton("Use &folder…")
        self.folder_button.setToolTip(
            "Point at MNIST files you already have: a folder holding MNIST/raw/,\n"
            "raw/, or the four *-ubyte[.gz] files themselves."
        )
        self.folder_button.clicked.connect(self._choose_folder)
        self.sample_button = QPushButton("Use s&ample")
        self.sample_button.setToolTip("Train on the bundled 5,000-digit sample (fast, offline).")
        self.sample_button.clicked.connect(self.use_sample)

    def _build_layout(self) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.folder_button)
        buttons.addWidget(self.sample_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.active_label)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_row)
        layout.addWidget(self.message)

    # --------------------------------------------------------------- state
    def dataset_settings(self) -> tuple[str, str | None]:
        """(dataset, data_dir) for ``TrainConfig``: always explicit, never "auto"."""
        return choose_dataset(self._use_sample, self._folder)

    @property
    def using_sample(self) -> bool:
        return self.dataset_settings()[0] == "sample"

    def set_loaded(self, description: str) -> None:
        """Show the exact description of the data a run actually loaded."""
        self._loaded_description = description
        self._refresh()

    def use_sample(self) -> None:
        self._use_sample = True
        self._changed()

    def use_folder(self, folder: str | Path) -> bool:
        """Train on MNIST files in ``folder``; an unusable folder is explained in place."""
        folder = str(folder)
        if find_raw_folder(folder) is None:
            self.show_message(
                f"No MNIST files in {folder}: expected train-images-idx3-ubyte[.gz] and its three "
                "companions there, in raw/ or in MNIST/raw/.",
                error=True,
            )
            return False
        self._folder = folder
        self._use_sample = False
        self.show_message(f"Using MNIST files from {folder}.")
        self._changed()
        return True

    def _changed(self) -> None:
        self._loaded_description = None
        settings = QSettings()
        settings.setValue("data/folder", self._folder or "")
        settings.setValue("data/use_sample", self._use_sample)
        self._refresh()
        self.datasetChanged.emit()

    def _restore(self) -> None:
        settings = QSettings()
        self._folder = str(settings.value("data/folder", "") or "") or None
        self._use_sample = settings.value("data/use_sample", False, type=bool)

    def _refresh(self) -> None:
        dataset, data_dir = self.dataset_settings()
        if self._loaded_description:
            text = self._loaded_description
        elif dataset == "sample":
            text = SAMPLE_TEXT
        else:
            text = MNIST_TEXT
        where = f"<br><small>from {data_dir}</small>" if data_dir else ""
        self.active_label.setText(f"Active: <b>{text}</b>{where}")
        self.note.setVisible(dataset == "sample")
        # While a run trains the dataset must not change, whatever finishes meanwhile.
        self.sample_button.setEnabled(self._controls_enabled and dataset != "sample")
        self.download_button.setEnabled(
            self._controls_enabled and not mnist_present() and not self.downloading
        )

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet(theme.text_style(theme.ERROR if error else theme.OK))
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def set_controls_enabled(self, enabled: bool) -> None:
        """While a run trains, the dataset cannot change (a download may still finish)."""
        self._controls_enabled = enabled
        self.folder_button.setEnabled(enabled)
        self._refresh()

    # ------------------------------------------------------------ download
    @property
    def downloading(self) -> bool:
        return self._download_thread is not None and self._download_thread.is_alive()

    def start_download(self) -> None:
        if self.downloading:
            return
        self._cancel.clear()
        self.progress.setRange(0, 0)
        self.progress.setFormat("connecting…")
        self.progress_row.setVisible(True)
        self.download_button.setEnabled(False)
        self.show_message("")
        bridge, cancel = self._bridge, self._cancel

        def emit(signal: Signal, *args: object) -> None:
            # The window may have closed and deleted the bridge meanwhile.
            with contextlib.suppress(RuntimeError):
                signal.emit(*args)

        def run() -> None:
            # A plain daemon thread: a download stuck on a slow network must never keep the
            # app from quitting. It only talks to the GUI through the bridge's queued signals.
            try:
                root = download_mnist(
                    progress=lambda done, total: emit(bridge.progress, done, total),
                    should_cancel=cancel.is_set,
                )
            except DownloadCancelled:
                emit(bridge.cancelled)
            except UserError as exc:
                emit(bridge.failed, str(exc))
            except Exception as exc:  # noqa: BLE001 (shown to the user, never swallowed)
                emit(bridge.failed, f"download failed: {type(exc).__name__}: {exc}")
            else:
                emit(bridge.succeeded, str(root))

        self._download_thread = threading.Thread(target=run, name="mnist-download", daemon=True)
        self._download_thread.start()

    def cancel_download(self) -> None:
        """Stop after the file in flight (torchvision cannot abort a file midway)."""
        self._cancel.set()
        self.progress.setFormat("cancelling after the current file…")

    def shutdown(self) -> None:
        self._cancel.set()
        self._bridge.blockSignals(True)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat("%v of %m files")

    def _on_downloaded(self, root: str) -> None:
        self.progress_row.setVisible(False)
        self._use_sample = False
        self.show_message(f"MNIST downloaded to {root}; it is now the active dataset.")
        self._changed()

    def _on_download_failed(self, reason: str) -> None:
        self.progress_row.setVisible(False)
        self.show_message(f"{reason[0].upper()}{reason[1:]}", error=True)
        self._refresh()

    def _on_download_cancelled(self) -> None:
        self.progress_row.setVisible(False)
        self.show_message("Download cancelled; the dataset did not change.")
        self._refresh()

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Folder with MNIST files", self._folder or str(Path.home())
        )
        if folder:
            self.use_folder(folder)
