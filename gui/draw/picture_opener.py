"""Opening a picture file for the Draw tab: decoded in a worker, with a time limit and a Cancel.

``core.inference.preprocess.read_paper`` (the one reader ``classify`` uses too) runs in a
``gui.workers.FunctionWorker``. The window never waits for it: ``opened(paper)`` or
``failed(sentence)`` come back as queued signals. A picture that takes longer than
``time_limit_ms`` is given up with a sentence, and ``cancel()`` gives it up at once; a decode
cannot be interrupted inside Pillow, so a given-up job is only *disowned*: its answer is
dropped when it comes, and its thread is kept referenced until it ends (a ``QThread`` destroyed
while it runs aborts the process).
"""

from __future__ import annotations

import atexit
import ctypes
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from core.inference.image_io import read_picture
from core.inference.preprocess import Paper, paper_from_picture
from gui.workers import SHUTDOWN_WAIT_MS, FunctionWorker, is_running, start_worker, wait_for

OPEN_TIME_LIMIT_MS = 25_000  # core.inference.image_io gives up at 20 s itself; this is the backstop

# Jobs given up while they still ran: kept here until their threads end (never destroyed
# while running); unparented, so closing the tab does not destroy them either.
_DISOWNED: list[tuple[QThread, QObject]] = []
# ...for as long as the process lives: at exit, clearing this module would drop the last
# reference to a thread still stuck in a decode, and destroying it aborts the process. One
# extra reference, never released, keeps the list (and what it holds) out of finalisation.
ctypes.pythonapi.Py_IncRef(ctypes.py_object(_DISOWNED))


def _wait_at_exit() -> None:
    """At exit PySide destroys every QObject Python owns, threads included; give the ones still
    running (a model fit, a slow picture) a bounded time to end first."""
    deadline = time.monotonic() + SHUTDOWN_WAIT_MS / 1000
    for thread, _worker in list(_DISOWNED):
        wait_for(thread, max(0, int((deadline - time.monotonic()) * 1000)))


atexit.register(_wait_at_exit)  # registered after PySide's own clean-up, so it runs before it


def _forget_ended() -> None:
    _DISOWNED[:] = [(t, w) for t, w in _DISOWNED if is_running(t)]


def left_running() -> int:
    """How many disowned worker threads are still running."""
    _forget_ended()
    return len(_DISOWNED)


def keep_until_ended(job: tuple[QThread, QObject]) -> None:
    """Keep an unparented worker thread (and its worker) referenced until it ends, whatever
    happens to the object that started it (a running ``QThread`` must never be destroyed)."""
    _forget_ended()
    if is_running(job[0]) and all(job[0] is not thread for thread, _w in _DISOWNED):
        _DISOWNED.append(job)


def read_cancellable(path: str | Path, cancelled: threading.Event) -> Paper:
    """``read_paper`` whose decoding gives up (``PictureCancelled``) once ``cancelled`` is set."""
    return paper_from_picture(read_picture(path, should_cancel=cancelled.is_set))


class PictureOpener(QObject):
    """One picture at a time; a newer ``open`` disowns the one before.

    Signals: ``opened(Paper)``, ``failed(str)`` (a refused, unreadable or too slow picture, or
    "cancelled"), ``busyChanged(bool)``.
    """

    opened = Signal(object)
    failed = Signal(str)
    busyChanged = Signal(bool)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        reader: Callable[[str | Path], Paper] | None = None,
        time_limit_ms: int = OPEN_TIME_LIMIT_MS,
    ) -> None:
        super().__init__(parent)
        self._reader = reader
        self._serial = 0
        self._job: tuple[QThread, FunctionWorker] | None = None
        self._cancelled = threading.Event()
        self.opening: str | None = None  # the name of the picture being read
        self._limit = QTimer(self)
        self._limit.setSingleShot(True)
        self._limit.setInterval(time_limit_ms)
        self._limit.timeout.connect(self._too_slow)

    @property
    def time_limit_ms(self) -> int:
        return self._limit.interval()

    def set_time_limit_ms(self, value: int) -> None:
        self._limit.setInterval(max(1, int(value)))

    def open(self, path: str | Path) -> None:
        """Start reading ``path`` in a worker; the answer comes as ``opened`` or ``failed``."""
        self._disown()
        self._serial += 1
        self.opening = Path(path).name
        self._cancelled = threading.Event()
        cancelled, reader = self._cancelled, self._reader
        if reader is None:  # the decoder stops within ~50 ms of a Cancel (it polls the flag)
            worker = FunctionWorker(lambda: read_cancellable(path, cancelled), self._serial)
        else:
            worker = FunctionWorker(lambda: reader(path), self._serial)
        worker.done.connect(self._done)
        worker.failed.connect(self._failed)
        thread = start_worker(worker, None, name="draw-open-picture")
        self._job = (thread, worker)
        keep_until_ended(self._job)  # even if this opener is destroyed first
        self._limit.start()
        self.busyChanged.emit(True)

    def cancel(self) -> bool:
        """Give up the picture being read (said through ``failed``); False if there is none."""
        if self.opening is None:
            return False
        name = self.opening
        self._give_up()
        self.failed.emit(f"Stopped opening {name}.")
        return True

    @Slot()
    def _too_slow(self) -> None:
        if self.opening is None:
            return
        name, seconds = self.opening, self._limit.interval() / 1000
        self._give_up()
        self.failed.emit(
            f"{name} took longer than {seconds:g} s to read, so it was given up: is it really "
            "a picture (PNG, JPEG, BMP, GIF, TIFF, WebP)?"
        )

    def _give_up(self) -> None:
        self._serial += 1  # its answer, if it ever comes, is dropped
        self._cancelled.set()
        self._disown()
        self._end()

    def _disown(self) -> None:
        self._job = None
        _forget_ended()

    def _end(self) -> None:
        self._limit.stop()
        self.opening = None
        self.busyChanged.emit(False)

    @Slot(object, object)
    def _done(self, serial: object, paper: object) -> None:
        if serial != self._serial:
            return
        self._end()
        self.opened.emit(paper)

    @Slot(object, str)
    def _failed(self, serial: object, message: str) -> None:
        if serial != self._serial:
            return
        self._end()
        self.failed.emit(message)

    def shutdown(self, timeout_ms: int) -> bool:
        """Wait up to ``timeout_ms`` for the picture being read, then give it up; True if
        its thread ended (else it is left to end on its own, kept alive meanwhile)."""
        ended = wait_for(self._job[0], timeout_ms) if self._job is not None else True
        if self.opening is not None:
            self._give_up()
        self._job = None
        return ended
