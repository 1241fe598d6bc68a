"""The app's one bridge from the window's thread to background work (superqt's shape).

Every long job — training, the inspector's map, decoding a picture, fitting a model to the
learner's own digits — is a worker ``QObject`` with a ``work()`` slot and a ``finished`` signal
(``WorkerProtocol``), moved to its own ``QThread`` by ``start_worker``. Results cross back as
queued signals carrying plain Python data. A one-off call needs no class of its own:
``FunctionWorker(function)`` emits ``done(tag, result)`` or ``failed(tag, message)``.

Two rules the helpers here keep for every caller:

* ``is_running(thread)`` is the one way to ask whether a thread is alive: ``start_worker`` deletes
  a finished thread later, after which ``isRunning()`` raises ``RuntimeError``.
* ``wait_for(thread, timeout_ms)`` is the one way to wait for one: every wait has a timeout, so a
  stuck job can delay closing the window but never hang it.

Connect a worker's signals to *bound methods of QObjects living in the GUI thread* (a tab's
method). A lambda or ``functools.partial`` connected to a worker's signal runs in the worker's
thread (tests/gui/test_workers.py shows it), where no widget may be touched; that is why the tag
of a ``FunctionWorker`` travels inside its signals instead of being bound into the callback.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, SignalInstance, Slot

from core.errors import UserError

__all__ = [
    "SHUTDOWN_WAIT_MS",
    "FunctionWorker",
    "WorkerProtocol",
    "is_running",
    "start_worker",
    "wait_for",
]

log = logging.getLogger(__name__)

# How long closing the window waits for a job asked to stop: every worker here checks its stop
# flag between steps (a batch, a chunk of digits), so it ends within a second; a longer wait
# means it is stuck, and the window must not hang on it for ever.
SHUTDOWN_WAIT_MS = 10_000
# How much nicer (Linux nice levels) a worker thread is than the window's thread. On a busy
# 2-core machine a training run's threads, a neighbour's job and the window's thread share two
# cores; at equal priority the window waits its turn (100+ ms stalls while drawing beside a
# run). At +10 the scheduler gives the window's thread the core as soon as it wakes (weight
# 110 against 1024) while the workers still take every cycle the window leaves idle.
# ``DIGIT_LAB_WORKER_NICENESS`` (0-19) overrides it, for benchmarks that compare the two.
WORKER_NICENESS = 10
with contextlib.suppress(ValueError):
    WORKER_NICENESS = min(19, max(0, int(os.environ.get("DIGIT_LAB_WORKER_NICENESS", "10"))))


def lower_this_threads_priority(niceness: int = WORKER_NICENESS) -> bool:
    """Make the calling thread (and the threads it starts later, e.g. torch's intra-op pool:
    Linux copies the nice level to a new thread) ``niceness`` levels nicer. Linux only (the
    nice level of one thread); elsewhere, and on any refusal, nothing changes: False."""
    if not sys.platform.startswith("linux") or niceness <= 0:
        return False
    try:
        thread_id = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, thread_id)
        os.setpriority(os.PRIO_PROCESS, thread_id, min(19, current + niceness))
    except OSError:
        return False
    return True


@runtime_checkable
class WorkerProtocol(Protocol):
    """What ``start_worker`` needs: a ``QObject`` whose ``work()`` does the job in the thread it
    is moved to and always ends by emitting ``finished`` (also after an error: the thread quits
    on it). Report errors through a signal of your own; never let ``work()`` raise."""

    finished: SignalInstance

    def work(self) -> None: ...

    def moveToThread(self, thread: QThread) -> bool: ...  # noqa: N802 (Qt naming)

    def deleteLater(self) -> None: ...  # noqa: N802 (Qt naming)


def start_worker(
    worker: WorkerProtocol,
    parent: QObject | None = None,
    *,
    name: str | None = None,
    niceness: int | None = None,
) -> QThread:
    """Move ``worker`` to a new thread with superqt's wiring and start it.

    The thread runs ``niceness`` levels nicer than the window's: by default the worker class's
    ``NICENESS`` if it has one, else ``WORKER_NICENESS``; 0 keeps it equal (the start-up
    imports the window waits for; a training run, see ``TrainWorker.NICENESS``).

    The thread quits when the worker finishes; both are deleted later, in the GUI thread. Callers
    keep the returned thread to ``wait_for`` it at shutdown, and keep a Python reference to the
    worker until it finishes (Qt does not own it). ``name`` becomes the thread's object name
    (seen in crash reports and in the tests' thread-leak guard).
    """
    thread = QThread(parent)
    thread.setObjectName(name or f"{type(worker).__name__}-thread")
    worker.moveToThread(thread)
    if niceness is None:
        niceness = getattr(worker, "NICENESS", WORKER_NICENESS)
    if niceness > 0:  # first, in the new thread (direct), before any work starts threads
        thread.started.connect(
            lambda: lower_this_threads_priority(niceness), Qt.ConnectionType.DirectConnection
        )
    thread.started.connect(worker.work)
    # Direct: QThread.quit is thread-safe, and a queued quit would never run while the GUI
    # thread is blocked in wait() at shutdown (a deadlock).
    # The worker goes home to the GUI thread when it is done and is destroyed there. Destroying
    # a Python-made QObject in the worker thread asks Python (for its overrides) while Qt's
    # connection lock is held; the GUI thread, holding the GIL while it builds widgets, can be
    # waiting for that very lock: a deadlock seen at start-up.
    app = QCoreApplication.instance()
    home = app.thread() if app is not None else thread.thread()
    worker.finished.connect(lambda: worker.moveToThread(home), Qt.ConnectionType.DirectConnection)
    worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.finished.connect(worker.deleteLater)
    thread.finished.connect(thread.deleteLater)
    thread.start()
    return thread


def is_running(thread: QThread | None) -> bool:
    """True while ``thread`` runs; False for None, a finished thread or one Qt already deleted."""
    if thread is None or not shiboken6.isValid(thread):
        return False
    try:
        return thread.isRunning()
    except RuntimeError:  # deleted on the C++ side between the two calls
        return False


def wait_for(thread: QThread | None, timeout_ms: int) -> bool:
    """Block until ``thread`` ends, at most ``timeout_ms``; True when it is no longer running.

    False means it is still running after the timeout (logged): the caller decides the way out —
    keep the window open and say so, or leave the thread to end on its own. A thread that was
    never started, already ended or was deleted counts as ended at once.
    """
    if not is_running(thread):
        return True
    assert thread is not None
    try:
        ended = thread.wait(max(0, int(timeout_ms)))
    except RuntimeError:  # deleted while we waited
        return True
    if not ended:
        log.warning("thread %r still running after %d ms", thread.objectName(), timeout_ms)
    return bool(ended) or not is_running(thread)


class FunctionWorker(QObject):
    """Run one plain function in a worker thread; its result or its error comes back as a signal.

    ``done(tag, result)`` or ``failed(tag, message)``, then ``finished``. ``tag`` (any object,
    None by default) is handed back unchanged so that the receiver can drop answers to requests
    it no longer cares about (a second picture opened meanwhile). A ``UserError`` becomes its
    message; any other exception is logged with its traceback and becomes
    ``"unexpected error: Type: text"`` — nothing is lost in a thread.
    """

    done = Signal(object, object)  # (tag, the function's return value)
    failed = Signal(object, str)  # (tag, a sentence for the learner)
    finished = Signal()

    def __init__(self, function: Callable[[], Any], tag: object = None) -> None:
        super().__init__()
        self.function = function
        self.tag = tag

    @Slot()
    def work(self) -> None:
        try:
            result = self.function()
        except UserError as exc:
            self.failed.emit(self.tag, str(exc))
        except Exception as exc:  # noqa: BLE001 (reported in place, never lost in a thread)
            log.exception("background work failed")
            self.failed.emit(self.tag, f"unexpected error: {type(exc).__name__}: {exc}")
        else:
            self.done.emit(self.tag, result)
        finally:
            self.finished.emit()
