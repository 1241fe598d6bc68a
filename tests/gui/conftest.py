"""GUI fixtures: fail any test that leaves a QThread running (napari's habit)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_threads_left_running(qapp):
    from PySide6.QtCore import QThread

    before = set(qapp.findChildren(QThread))
    yield
    running = [t for t in qapp.findChildren(QThread) if t not in before and t.isRunning()]
    assert not running, f"test left {len(running)} QThread(s) running"


@pytest.fixture
def main_window(qtbot):
    from gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    yield window
    window.close()
