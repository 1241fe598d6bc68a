"""The one worker bridge: start_worker, FunctionWorker, is_running, wait_for."""

from __future__ import annotations

import sys
import threading

import pytest
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from core.errors import UserError
from gui.workers import FunctionWorker, WorkerProtocol, is_running, start_worker, wait_for


class Receiver(QObject):
    """Lives in the GUI thread; records what arrives and in which thread it ran."""

    def __init__(self) -> None:
        super().__init__()
        self.done: list[tuple[object, object]] = []
        self.failed: list[tuple[object, str]] = []
        self.threads: list[str] = []

    @Slot(object, object)
    def on_done(self, tag: object, result: object) -> None:
        self.threads.append(threading.current_thread().name)
        self.done.append((tag, result))

    @Slot(object, str)
    def on_failed(self, tag: object, message: str) -> None:
        self.threads.append(threading.current_thread().name)
        self.failed.append((tag, message))


class Blocking(QObject):
    """A worker that runs until released: a job that does not stop at once."""

    finished = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.started = threading.Event()

    @Slot()
    def work(self) -> None:
        self.started.set()
        self.release.wait(10)
        self.finished.emit()


def _run(qtbot, worker: QObject, receiver: Receiver) -> QThread:
    worker.done.connect(receiver.on_done)
    worker.failed.connect(receiver.on_failed)
    thread = start_worker(worker)
    assert wait_for(thread, 5000)
    qtbot.waitUntil(lambda: bool(receiver.done or receiver.failed), timeout=5000)
    return thread


def test_function_worker_result_comes_back_in_the_gui_thread(qtbot):
    receiver = Receiver()
    worker = FunctionWorker(lambda: threading.current_thread().name, tag="picture-3")
    _run(qtbot, worker, receiver)
    ((tag, ran_in),) = receiver.done
    assert tag == "picture-3"
    assert ran_in != threading.current_thread().name  # the function ran off the window's thread
    assert receiver.threads == [threading.current_thread().name]  # the answer came home
    assert receiver.failed == []


def test_function_worker_without_tag_hands_back_none(qtbot):
    receiver = Receiver()
    _run(qtbot, FunctionWorker(lambda: 42), receiver)
    assert receiver.done == [(None, 42)]


def test_user_error_becomes_its_message(qtbot):
    def refuse() -> None:
        raise UserError("that file is not a picture")

    receiver = Receiver()
    _run(qtbot, FunctionWorker(refuse, tag=7), receiver)
    assert receiver.failed == [(7, "that file is not a picture")]
    assert receiver.done == []


def test_unexpected_error_is_reported_not_lost(qtbot, caplog):
    def crash() -> None:
        raise ZeroDivisionError("division by zero")

    receiver = Receiver()
    _run(qtbot, FunctionWorker(crash), receiver)
    assert receiver.failed == [(None, "unexpected error: ZeroDivisionError: division by zero")]
    assert "background work failed" in caplog.text


def test_finished_worker_goes_home_before_it_is_deleted(qtbot):
    """The start-up deadlock fix: the worker is destroyed in the GUI thread, not its own."""
    worker = FunctionWorker(lambda: None)
    homes: list[bool] = []
    app_thread = QCoreApplication.instance().thread()
    worker.destroyed.connect(lambda: homes.append(QThread.currentThread() is app_thread))
    thread = start_worker(worker)
    assert wait_for(thread, 5000)
    assert worker.thread() is app_thread
    del worker
    qtbot.waitUntil(lambda: homes == [True], timeout=5000)


def test_start_worker_names_the_thread(qtbot):
    worker = FunctionWorker(lambda: None)
    thread = start_worker(worker, name="draw-background")
    assert thread.objectName() == "draw-background"
    assert wait_for(thread, 5000)
    other = FunctionWorker(lambda: None)
    thread = start_worker(other)
    assert thread.objectName() == "FunctionWorker-thread"
    assert wait_for(thread, 5000)


def test_every_worker_of_the_app_fits_the_protocol():
    from gui.inspector.inspector_tab import ReferenceWorker
    from gui.training.train_worker import TrainWorker

    for cls in (FunctionWorker, TrainWorker, ReferenceWorker):
        assert callable(cls.work) and hasattr(cls, "finished"), cls
    assert isinstance(FunctionWorker(lambda: None), WorkerProtocol)
    assert not isinstance(QObject(), WorkerProtocol)  # no work(), no finished


def test_is_running_and_wait_for_follow_the_thread_to_its_deletion(qtbot):
    worker = Blocking()
    assert not is_running(None) and wait_for(None, 10)
    thread = start_worker(worker)
    assert worker.started.wait(5)
    assert is_running(thread)
    assert not wait_for(thread, 50)  # the way out: a wait that gives up
    worker.release.set()
    assert wait_for(thread, 5000)
    assert not is_running(thread)
    # start_worker deletes the thread later; asking about it afterwards is still safe
    qtbot.waitUntil(lambda: not _valid(thread), timeout=5000)
    assert not is_running(thread) and wait_for(thread, 10)


def _valid(thread: QThread) -> bool:
    import shiboken6

    return shiboken6.isValid(thread)


def test_a_lambda_on_a_worker_signal_runs_in_the_worker_thread(qtbot):
    """Why FunctionWorker carries its tag in the signal: a lambda receiver is not queued home."""
    ran_in: list[str] = []
    worker = FunctionWorker(lambda: None)
    worker.done.connect(lambda *_: ran_in.append(threading.current_thread().name))
    thread = start_worker(worker)
    assert wait_for(thread, 5000)
    assert ran_in and ran_in[0] != threading.current_thread().name


@pytest.mark.parametrize("timeout_ms", [-5, 0])
def test_wait_for_with_no_time_left_returns_at_once(qtbot, timeout_ms):
    worker = Blocking()
    thread = start_worker(worker)
    assert worker.started.wait(5)
    try:
        assert not wait_for(thread, timeout_ms)
    finally:
        worker.release.set()
        assert wait_for(thread, 5000)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_a_worker_runs_nicer_than_the_window_and_its_own_threads_too(qtbot):
    """Issue 22: a run's threads must not make the window wait its turn for a core. The work
    runs WORKER_NICENESS levels nicer than the window's thread; a thread it starts (torch's
    intra-op pool) inherits that; the window's own level is unchanged."""
    import os

    from gui.workers import WORKER_NICENESS

    def levels() -> tuple[int, int]:
        own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        child: list[int] = []
        started = threading.Thread(
            target=lambda: child.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        )
        started.start()
        started.join()
        return own, child[0]

    window = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    receiver = Receiver()
    _run(qtbot, FunctionWorker(levels), receiver)
    expected = min(19, window + WORKER_NICENESS)
    assert receiver.done == [(None, (expected, expected))]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == window
    receiver = Receiver()
    worker = FunctionWorker(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    worker.done.connect(receiver.on_done)
    assert wait_for(start_worker(worker, niceness=0), 5000)
    qtbot.waitUntil(lambda: bool(receiver.done), timeout=5000)
    assert receiver.done == [(None, window)]  # niceness=0: as the window (start-up imports)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_a_worker_class_can_keep_the_windows_priority(qtbot):
    """A training run keeps the window's level (``TrainWorker.NICENESS = 0``): starved, it held
    the GIL while descheduled and made the window wait (issue 22's measurements)."""
    import os

    from gui.training.train_worker import TrainWorker

    class Level(FunctionWorker):
        NICENESS = TrainWorker.NICENESS

    window = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    receiver = Receiver()
    worker = Level(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    worker.done.connect(receiver.on_done)
    assert wait_for(start_worker(worker), 5000)
    qtbot.waitUntil(lambda: bool(receiver.done), timeout=5000)
    assert TrainWorker.NICENESS == 0 and receiver.done == [(None, window)]
