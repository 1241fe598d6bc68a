"""``ProgressJob``: a plain function run by the app's worker bridge, with progress and a stop flag.

The function is called as ``function(progress, stop_asked)``; ``progress(done, total)`` becomes
the ``progress`` signal (at most every 50 ms, so the window gets no event storm), ``stop_asked()``
is True once ``stop()`` was called from the window. The result comes back as ``done(result)``, a
``UserError`` (a cancel included) as ``failed(message)``; then ``finished``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.errors import UserError
from gui.workers import SHUTDOWN_WAIT_MS, is_running, start_worker, wait_for

log = logging.getLogger(__name__)

ProgressFunction = Callable[[Callable[[int, int], None], Callable[[], bool]], Any]
PROGRESS_INTERVAL = 0.05


class ProgressJob(QObject):
    progress = Signal(int, int)
    done = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, function: ProgressFunction) -> None:
        super().__init__()
        self.function = function
        self._stop = threading.Event()
        self._last = 0.0

    def stop(self) -> None:
        self._stop.set()

    def _progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - self._last >= PROGRESS_INTERVAL:
            self._last = now
            self.progress.emit(done, total)

    @Slot()
    def work(self) -> None:
        try:
            result = self.function(self._progress, self._stop.is_set)
        except UserError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 (reported in place, never lost in a thread)
            log.exception("background work failed")
            self.failed.emit(f"unexpected error: {type(exc).__name__}: {exc}")
        else:
            self.done.emit(result)
        finally:
            self.finished.emit()


class JobSlot:
    """The one job a view runs at a time: start, stop, and wait for it at close."""

    def __init__(self, owner: QObject, name: str) -> None:
        self.owner = owner
        self.name = name
        self.job: ProgressJob | None = None
        self.thread: QThread | None = None

    @property
    def running(self) -> bool:
        return is_running(self.thread)

    def start(self, function: ProgressFunction, on_progress, on_done, on_failed) -> ProgressJob:
        """Run ``function`` in a worker thread; the slots are bound methods of the view."""
        job = ProgressJob(function)
        job.progress.connect(on_progress)
        job.done.connect(on_done)
        job.failed.connect(on_failed)
        self.job = job
        self.thread = start_worker(job, self.owner, name=self.name)
        return job

    def stop(self) -> None:
        if self.job is not None:
            self.job.stop()  # harmless once it has ended

    def shutdown(self) -> bool:
        """Ask the job to stop and wait for it (bounded); True when nothing runs any more."""
        self.stop()
        return wait_for(self.thread, SHUTDOWN_WAIT_MS)
