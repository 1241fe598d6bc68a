"""What the next run trains on: MNIST (the bundled sample, downloaded, or a folder), or another
28x28, ten-class dataset from ``core.data.datasets`` (Fashion-MNIST, KMNIST), downloaded or a folder.

Downloading runs in a worker thread (``gui.workers.FunctionWorker``; ``core.data.mnist.download_mnist``
for MNIST, torchvision's own downloader through ``core.data.mnist.download_dataset`` for the others)
with a progress bar and Cancel. Offline, the error is shown here and the choice stays as it was.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.data.datasets import IDX_DATASETS, MNIST, DatasetInfo
from core.data.mnist import (
    DownloadCancelled,
    choose_dataset,
    download_dataset,
    download_mnist,
    find_raw_folder,
    mnist_present,
)
from core.errors import UserError
from core.optional import torchvision_installed, torchvision_missing
from core.resources import default_mnist_dir
from core.training.train_settings import SETTINGS, restore_value
from gui import theme
from gui.workers import SHUTDOWN_WAIT_MS, FunctionWorker, is_running, start_worker, wait_for

log = logging.getLogger(__name__)

SAMPLE_TEXT = "Bundled sample: 4,000 train / 1,000 test digits"
MNIST_TEXT = "Full MNIST: 60,000 train / 10,000 test digits"
SAMPLE_NOTE = (
    "Using the bundled sample (5,000 real MNIST digits): expect a few points less accuracy "
    "than full MNIST gives."
)


class _DownloadBridge(QObject):
    """Carries the download's progress to the GUI thread as queued signals (it lives there)."""

    progress = Signal(int, int)


class DataPanel(QGroupBox):
    """The active dataset, its size, and the ways to change it."""

    datasetChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Data", parent)
        self._folder: str | None = None  # a user folder with the dataset's files, if chosen
        self._use_sample = False
        self._dataset = (
            MNIST.name
        )  # which IDX dataset (core.data.datasets); MNIST may be the sample
        self._loaded_description: str | None = None
        self._cancel = threading.Event()
        self._download_thread: QThread | None = None
        self._download_worker: FunctionWorker | None = None
        self._bridge = _DownloadBridge(self)
        self._bridge.progress.connect(self._on_progress)

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
        # Alt+I: the settings table's "Data&set" would clash with "&Seed" in the same tab.
        self.dataset_label = QLabel("Tra&in on")
        self.dataset_combo = QComboBox()
        for info in IDX_DATASETS.values():
            self.dataset_combo.addItem(info.title, info.name)
            tip = f"{info.about}\nLicence: {info.licence}\nCite: {info.citation}"
            self.dataset_combo.setItemData(
                self.dataset_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole
            )
        self.dataset_combo.setToolTip(
            f"{SETTINGS['dataset'].tooltip.splitlines()[0]}\n"
            "The evaluation and the Draw tab name the classes of the chosen dataset."
        )
        self.dataset_label.setBuddy(self.dataset_combo)
        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_chosen)
        self.download_button = QPushButton("Do&wnload MNIST")
        self.download_button.clicked.connect(self.start_download)
        self.folder_button = QPushButton("Use &folder…")
        self.folder_button.clicked.connect(self._choose_folder)
        self.sample_button = QPushButton("Use s&ample")
        self.sample_button.setToolTip("Train on the bundled 5,000-digit sample (fast, offline).")
        self.sample_button.clicked.connect(self.use_sample)

    def _build_layout(self) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.folder_button)
        buttons.addWidget(self.sample_button)
        chooser = QHBoxLayout()
        chooser.addWidget(self.dataset_label)
        chooser.addWidget(self.dataset_combo, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(chooser)
        layout.addWidget(self.active_label)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_row)
        layout.addWidget(self.message)

    # --------------------------------------------------------------- state
    @property
    def info(self) -> DatasetInfo:
        """The chosen dataset's registry row (MNIST also when the sample is used)."""
        return IDX_DATASETS[self._dataset]

    def dataset_settings(self) -> tuple[str, str | None]:
        """(dataset, data_dir) for ``TrainConfig``: always explicit, never "auto"."""
        if self._dataset == MNIST.name:
            return choose_dataset(self._use_sample, self._folder)
        return choose_dataset(self._use_sample, self._folder, self._dataset)

    def choose(self, dataset: str) -> None:
        """Train on ``dataset`` (a ``core.data.datasets.IDX_DATASETS`` name) from now on."""
        self.dataset_combo.setCurrentIndex(self.dataset_combo.findData(dataset))

    def _on_dataset_chosen(self, index: int) -> None:
        name = self.dataset_combo.itemData(index)
        if name is None or name == self._dataset:
            return
        self._dataset = name
        reason = self._unavailable_reason()
        self.show_message(reason or "", error=reason is not None)
        self._changed()

    def _unavailable_reason(self) -> str | None:
        """Why the chosen dataset cannot be downloaded here (no torchvision), or None."""
        if self._dataset == MNIST.name or torchvision_installed():
            return None  # a torchvision that fails to load is reported when the download runs
        return torchvision_missing(
            f"Downloading {self.info.title}",
            f"put its files in a folder's {self.info.folder}/raw and use Use folder…",
        )

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
        info = self.info
        if find_raw_folder(folder, info.name) is None:
            self.show_message(
                f"No {info.title} files in {folder}: expected train-images-idx3-ubyte[.gz] and "
                f"its three companions there, in raw/ or in {info.folder}/raw/.",
                error=True,
            )
            return False
        self._folder = folder
        self._use_sample = False
        self.show_message(f"Using {info.title} files from {folder}.")
        self._changed()
        return True

    def _changed(self) -> None:
        self._loaded_description = None
        settings = QSettings()
        settings.setValue("data/folder", self._folder or "")
        settings.setValue("data/use_sample", self._use_sample)
        settings.setValue("data/dataset", self._dataset)
        self._refresh()
        self.datasetChanged.emit()

    def _restore(self) -> None:
        settings = QSettings()
        self._folder = str(settings.value("data/folder", "") or "") or None
        self._use_sample = settings.value("data/use_sample", False, type=bool)
        # Validated by the settings table; only the IDX datasets are offered here.
        stored = restore_value("dataset", settings.value("data/dataset", MNIST.name))
        self._dataset = stored if stored in IDX_DATASETS else MNIST.name
        self.dataset_combo.blockSignals(True)
        self.dataset_combo.setCurrentIndex(self.dataset_combo.findData(self._dataset))
        self.dataset_combo.blockSignals(False)

    def _refresh(self) -> None:
        dataset, data_dir = self.dataset_settings()
        info = self.info
        present = mnist_present(data_dir, info.name) if dataset != "sample" else True
        if self._loaded_description:
            text = self._loaded_description
        elif dataset == "sample":
            text = SAMPLE_TEXT
        elif info is MNIST:
            text = MNIST_TEXT
        elif present:
            text = f"{info.title}: 60,000 train / 10,000 test {info.item}s"
        else:
            text = f"{info.title}, not downloaded yet (Download it or Use folder…)"
        where = f"<br><small>from {data_dir}</small>" if data_dir else ""
        self.active_label.setText(f"Active: <b>{text}</b>{where}")
        self.active_label.setToolTip(f"Licence: {info.licence}\nCite: {info.citation}")
        self.note.setVisible(dataset == "sample")
        self.sample_button.setVisible(info is MNIST)
        self.download_button.setText(f"Do&wnload {info.title}")
        self.download_button.setToolTip(
            f"Fetch {info.title} (about {info.download_mb} MB) with torchvision's own mirrors and "
            f"checksums\ninto {default_mnist_dir() / info.folder / 'raw'}"
        )
        self.folder_button.setToolTip(
            f"Point at {info.title} files you already have: a folder holding {info.folder}/raw/,\n"
            "raw/, or the four *-ubyte[.gz] files themselves."
        )
        # While a run trains the dataset must not change, whatever finishes meanwhile.
        self.dataset_combo.setEnabled(self._controls_enabled and not self.downloading)
        self.sample_button.setEnabled(self._controls_enabled and dataset != "sample")
        self.download_button.setEnabled(
            self._controls_enabled
            and not mnist_present(None, info.name)
            and not self.downloading
            and self._unavailable_reason() is None
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
        return is_running(self._download_thread)

    def start_download(self) -> None:
        if self.downloading:
            return
        self._cancel.clear()
        self.progress.setRange(0, 0)
        self.progress.setFormat("connecting…")
        self.progress_row.setVisible(True)
        self.download_button.setEnabled(False)
        self.show_message("")
        bridge, cancel, dataset = self._bridge, self._cancel, self._dataset
        self.dataset_combo.setEnabled(False)  # the download is for this dataset

        def progress(done: int, total: int) -> None:
            with contextlib.suppress(RuntimeError):  # the window may have closed meanwhile
                bridge.progress.emit(done, total)

        def fetch() -> str | None:
            """The folder the files are in; None when the learner cancelled."""
            try:
                return str(_download(dataset, progress=progress, should_cancel=cancel.is_set))
            except DownloadCancelled:
                return None
            except UserError:
                raise
            except Exception as exc:  # said in place as a download problem, logged in full
                log.exception("the %s download failed", dataset)
                raise UserError(f"download failed: {type(exc).__name__}: {exc}") from exc

        worker = FunctionWorker(fetch, tag=dataset)
        worker.done.connect(self._on_download_done)  # bound methods: delivered queued
        worker.failed.connect(self._on_download_failed)
        self._download_worker = worker
        # No parent: a download stuck on a slow network is left to end on its own at shutdown
        # (after SHUTDOWN_WAIT_MS) rather than destroyed with the panel while it runs.
        self._download_thread = start_worker(worker, name=f"{dataset}-download")

    def cancel_download(self) -> None:
        """Stop after the file in flight (torchvision cannot abort a file midway)."""
        self._cancel.set()
        self.progress.setFormat("cancelling after the current file…")

    def shutdown(self) -> bool:
        """Cancel a download and wait for it, at most ``SHUTDOWN_WAIT_MS``; False if it is
        still running then (it ends on its own; nothing it sends reaches the panel)."""
        self._cancel.set()
        self._bridge.blockSignals(True)
        if self._download_worker is not None:
            with contextlib.suppress(RuntimeError):  # already deleted: it finished
                self._download_worker.blockSignals(True)
        return wait_for(self._download_thread, SHUTDOWN_WAIT_MS)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        # MNIST's download counts bytes, torchvision's counts the four archives.
        self.progress.setFormat("%p%" if total > 100 else "%v of %m files")

    def _on_download_done(self, _dataset: str, root: str | None) -> None:
        self._download_worker = None
        if root is None:
            self._on_download_cancelled()
            return
        self.progress_row.setVisible(False)
        self._use_sample = False
        self.show_message(f"{self.info.title} downloaded to {root}; it is now the active dataset.")
        self._changed()

    def _on_download_failed(self, _dataset: str, reason: str) -> None:
        self._download_worker = None
        self.progress_row.setVisible(False)
        self.show_message(f"{reason[0].upper()}{reason[1:]}", error=True)
        self._refresh()

    def _on_download_cancelled(self) -> None:
        self.progress_row.setVisible(False)
        self.show_message("Download cancelled; the dataset did not change.")
        self._refresh()

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, f"Folder with {self.info.title} files", self._folder or str(Path.home())
        )
        if folder:
            self.use_folder(folder)


def _download(dataset: str, **kwargs: object) -> Path:
    """MNIST through ``download_mnist`` (byte progress), the others through torchvision."""
    if dataset == MNIST.name:
        return download_mnist(**kwargs)
    return download_dataset(dataset, **kwargs)
