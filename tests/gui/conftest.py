"""GUI fixtures: fail any test that leaves a QThread running (napari's habit)."""

from __future__ import annotations

import pytest

from tests.helpers import ThreadLeakGuard


@pytest.fixture(autouse=True)
def no_threads_left_running(qtbot, monkeypatch):
    """Record every thread the test starts (``QThread.start`` patched); fail it for any left
    running once its own clean-up is over (see ``tests.helpers.ThreadLeakGuard``)."""
    guard = ThreadLeakGuard()
    guard.install(monkeypatch)
    yield guard
    guard.check(qtbot)


@pytest.fixture
def main_window(qtbot):
    from gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    yield window
    window.close()
