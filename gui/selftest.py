"""The self-test's window check: the main window builds, shows its tabs and closes, offscreen.

The headless checks and the runner live in ``core/selftest.py``; ``cli/selftest.py`` puts the two
together. The check reports the time from process start to the main window shown.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from core.selftest import CheckFailed, process_age_seconds

TAB_NAMES = ["Loss playground", "Training", "Draw", "Inside the network"]
_IMPORT_TIME = time.perf_counter()


def isolate_settings(folder: Path) -> None:
    """Point QSettings at ``folder`` so the self-test never touches the user's window layout."""
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder / "qt"))


def check_window() -> str:
    """The app's own start-up path (``gui.app.Launcher``): the window at once, then the tabs."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from gui.app import Launcher, configure_application

    app = QApplication.instance() or QApplication([sys.argv[0]])
    configure_application(app)
    launcher = Launcher()
    launcher.start()
    QCoreApplication.processEvents()
    shown = _age()
    window = _wait_for_tabs(launcher)
    ready = _age()
    try:
        digit = _draw_a_one(window)
        answered = _age()
        _check_tabs(window)
    finally:
        window.close()  # saves settings (into the temporary file) and shuts the tabs down
        window.deleteLater()
        QCoreApplication.processEvents()
    clock = "process start" if process_age_seconds() is not None else "the self-test began"
    return (
        f"main window with tabs {', '.join(TAB_NAMES)}; window shown {shown:.2f} s "
        f"after {clock}, every tab ready {ready:.2f} s after {clock}, the Draw tab read a "
        f"drawn stroke as {digit} {answered:.2f} s after {clock}"
    )


def _draw_a_one(window) -> int:  # noqa: ANN001
    """A vertical stroke on the Draw tab's canvas, answered at once: the digit it reads."""
    from gui.draw.draw_canvas import Stroke

    draw = window.draw_tab
    draw.canvas.add_stroke(Stroke(points=((0.5, 0.2), (0.5, 0.8)), width=0.06))
    draw.update_now()
    prediction = draw.prediction
    if prediction is None or prediction.is_empty:
        raise CheckFailed("the Draw tab gave no answer for a drawn stroke")
    draw.clear()
    return int(prediction.digit)


def _age() -> float:
    age = process_age_seconds()
    return age if age is not None else time.perf_counter() - _IMPORT_TIME


def _wait_for_tabs(launcher, timeout_s: float = 300.0):  # noqa: ANN001, ANN202
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.monotonic() + timeout_s
    while not launcher.is_ready:
        if launcher.window.failure:
            raise CheckFailed(f"Digit Lab could not start: {launcher.window.failure}")
        if time.monotonic() > deadline:
            raise CheckFailed(f"the tabs were not ready within {timeout_s:.0f} s")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    return launcher.window


def _check_tabs(window) -> None:  # noqa: ANN001
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    names = [window.tabs.tabText(index) for index in range(window.tabs.count())]
    if names != TAB_NAMES:
        raise CheckFailed(f"tabs are {names}, expected {TAB_NAMES}")
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)  # each tab must also survive being shown
        QCoreApplication.processEvents()
    if not window.isVisible():
        raise CheckFailed("the main window did not show")
    if QApplication.windowIcon().isNull():
        raise CheckFailed("the application icon is missing (resources/icons/digit-lab.png)")
