"""The thread-leak guard can fail: a thread left running on purpose is caught and named."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QObject, QThread, Signal, Slot

from gui.workers import is_running, start_worker, wait_for
from tests.helpers import ThreadLeakGuard


class Stuck(QObject):
    """A job that runs until it is released: a leak while nobody releases it."""

    finished = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    @Slot()
    def work(self) -> None:
        self.release.wait(30)
        self.finished.emit()


def test_a_leaked_thread_fails_the_guard(qtbot, monkeypatch):
    guard = ThreadLeakGuard()
    guard.install(monkeypatch)  # on top of the autouse guard: both see the thread
    parent = QObject()  # a parented thread: the kind the old findChildren guard missed
    worker = Stuck()
    thread = start_worker(worker, parent, name="leaked-on-purpose")
    try:
        with pytest.raises(pytest.fail.Exception) as failed:
            guard.check(qtbot, grace_ms=100)
        message = str(failed.value)
        assert "left 1 QThread(s) running" in message
        assert "'leaked-on-purpose'" in message
        assert "test_thread_guard.py" in message  # where it was started
    finally:
        worker.release.set()
        assert wait_for(thread, 5000)
    assert not is_running(thread)


def test_a_thread_that_ends_passes_the_guard(qtbot, monkeypatch):
    guard = ThreadLeakGuard()
    guard.install(monkeypatch)
    worker = Stuck()
    thread = start_worker(worker, name="ends-in-time")
    worker.release.set()
    guard.check(qtbot)  # no failure: it ended within the grace period
    assert [place for _t, place in guard.started]  # it was seen
    assert not is_running(thread)


def test_the_guard_is_on_for_every_gui_test(no_threads_left_running):
    thread = QThread()
    thread.start()
    try:
        assert [t for t, _place in no_threads_left_running.started] == [thread]
    finally:
        thread.quit()
        assert wait_for(thread, 5000)
