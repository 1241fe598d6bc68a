"""The main window at once, PyTorch afterwards: the first thing a learner sees must not wait.

Importing torch, pyqtgraph and the tabs takes one to several seconds; Qt alone shows a window in
a few hundred milliseconds. So the main window appears first, with its menus and its four tabs
named, each tab saying "Loading PyTorch…" (``LoadingPage``), while ``HeavyImports`` imports
the engine and the tab modules on a worker thread (``gui.workers``; nothing there touches a
widget: it only imports, and reads and runs the start-up model once). When they are in, the
window fills its tabs one per event-loop turn (``MainWindow.install``), the one on show first.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

# The modules that cost time, in the order they are needed; once they are in, building the
# main window's tabs on the window's thread imports nothing slow.
HEAVY_MODULES = (
    "numpy",
    "torch",
    "core.storage.checkpoint",
    "core.storage.model_library",
    "core.inference.classifier",
    "core.inference.preprocess",
    "gui.app_state",
    "pyqtgraph",
    "gui.draw.draw_tab",
    "core.losses",
    "gui.loss.loss_tab",
    "core.training.trainer",
    "gui.training.training_tab",
    "gui.inspector.inspector_tab",
    "gui.library.model_library_view",
    "gui.lessons.dock",
)


class LoadingPage(QWidget):
    """A tab's place while PyTorch loads: what is happening, and a busy bar."""

    def __init__(self, tab_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel(f"Loading PyTorch for the {tab_name} tab…")
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(320)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.message)
        layout.addWidget(self.busy, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)

    def show_failure(self, text: str) -> None:
        self.busy.hide()
        self.message.setText(f"Digit Lab could not start: {text}")


@dataclass
class Imported:
    """What the import thread hands to the window: a problem (one sentence) or the model."""

    problem: str
    preloaded: Any  # core.storage.model_library.CurrentModel | None
    seconds: float


def import_heavy_modules(names: tuple[str, ...] = HEAVY_MODULES) -> Imported:
    """Import ``names``, then read and run the start-up model once; never raises."""
    start = time.perf_counter()
    try:
        for name in names:
            importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - a broken install is said in the window
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        return Imported(f"{type(exc).__name__}: {first_line}", None, time.perf_counter() - start)
    return Imported("", _preload_model(), time.perf_counter() - start)


class HeavyImports(QObject):
    """Runs ``import_heavy_modules`` on a worker thread; ``finished`` carries "" or the problem.

    ``preloaded`` and ``seconds`` are set before ``finished`` is emitted (on the window's
    thread). ``thread`` is the worker's thread (``gui.workers.is_running`` tells if it runs).
    """

    finished = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.seconds = 0.0
        self.preloaded = None  # core.storage.model_library.CurrentModel
        self.thread: QThread | None = None

    def start(self) -> None:
        from gui.workers import FunctionWorker, start_worker

        names = HEAVY_MODULES  # read now: a test may replace the list
        worker = FunctionWorker(lambda: import_heavy_modules(names))
        worker.done.connect(self._done)
        worker.failed.connect(self._failed)
        # At the window's priority: every tab waits for these imports.
        self.thread = start_worker(worker, self, name="heavy-imports", niceness=0)

    def _done(self, _tag: object, result: Imported) -> None:
        self.preloaded, self.seconds = result.preloaded, result.seconds
        self.finished.emit(result.problem)

    def _failed(self, _tag: object, message: str) -> None:
        self.finished.emit(message)

    def wait(self, timeout_ms: int) -> bool:
        """Wait (bounded) for the thread to end; True when it has."""
        from gui.workers import wait_for

        return wait_for(self.thread, timeout_ms)


def _preload_model():  # noqa: ANN202 - core.storage.model_library.CurrentModel or None
    """The model the app will start with, read and run once here: the first forward pass of a
    process pays for torch's kernel set-up, which the window need not wait for. None when it
    cannot be read: ``AppState.load_startup_model`` then tries again and says why."""
    try:
        import torch

        from core.storage.model_library import current_checkpoint

        choice = current_checkpoint()
        with torch.no_grad():
            choice.checkpoint.build()(torch.zeros(1, 1, 28, 28))
        return choice
    except Exception:  # noqa: BLE001 - the GUI's own start-up path reports any problem
        return None
