"""A window at once, PyTorch afterwards: the first thing a learner sees must not wait for torch.

Importing torch takes one to three seconds; Qt alone shows a window in a few hundred
milliseconds. ``StartupWindow`` appears where the main window will be (its saved geometry) and
says what is happening while ``HeavyImports`` imports torch and the engine on a plain thread
(nothing Qt-related runs there: it only imports). When they are in, the main window is built
on the GUI thread — quick now that the modules are loaded — and replaces the startup window.
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from core import APP_NAME

DEFAULT_SIZE = (1280, 800)
# The modules that cost time; importing them here makes the main window's own imports free.
HEAVY_MODULES = (
    "torch",
    "numpy",
    "core.losses",
    "core.training.trainer",
    "core.inference.classifier",
    "core.storage.checkpoint",
    "core.inference.preprocess",
)


class StartupWindow(QWidget):
    """A plain window with the app's name and one line of progress, shown in the main's place."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        title = QLabel(f"<h1>{APP_NAME}</h1>")
        self.message = QLabel("Loading PyTorch…")
        self.message.setWordWrap(True)
        busy = QProgressBar()
        busy.setRange(0, 0)
        busy.setMaximumWidth(320)
        self.busy = busy
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for widget in (title, self.message, busy):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)
        geometry = QSettings().value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(*DEFAULT_SIZE)

    def show_failure(self, text: str) -> None:
        self.busy.hide()
        self.message.setText(f"Digit Lab could not start: {text}")


class HeavyImports(QObject):
    """Imports ``HEAVY_MODULES`` on a thread; ``finished`` carries "" or one sentence of error."""

    finished = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.seconds = 0.0
        self.preloaded = None  # core.storage.model_library.CurrentModel, read on the thread too

    def start(self) -> None:
        threading.Thread(target=self._run, name="heavy-imports", daemon=True).start()

    def _run(self) -> None:
        import importlib

        start = time.perf_counter()
        problem = ""
        try:
            for name in HEAVY_MODULES:
                importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - a broken install is said in the window
            problem = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if not problem:
            self.preloaded = _preload_model()
        self.seconds = time.perf_counter() - start
        self.finished.emit(problem)  # queued to the GUI thread (the receiver lives there)


def _preload_model():  # noqa: ANN202 - core.storage.model_library.CurrentModel or None
    """The model the Draw tab will use, read and run once here: the first forward pass of a
    process pays for torch's kernel set-up, which the window need not wait for. None when it
    cannot be read: the GUI thread then tries again and says why."""
    try:
        import torch

        from core.storage.model_library import current_checkpoint

        choice = current_checkpoint()
        with torch.no_grad():
            choice.checkpoint.build()(torch.zeros(1, 1, 28, 28))
        return choice
    except Exception:  # noqa: BLE001 - the GUI's own start-up path reports any problem
        return None
