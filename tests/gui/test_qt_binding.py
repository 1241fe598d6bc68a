"""The Qt binding must not leak references to None (PySide6 6.12.0 on Python 3.11 did: each void
call dropped one, and the app aborted with 'none_dealloc' after ~60,000 widget updates)."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel


def test_void_calls_keep_none_refcount(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(20_000):
        label.setText("x")
    assert abs(sys.getrefcount(None) - before) < 1000
