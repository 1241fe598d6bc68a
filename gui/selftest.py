"""The self-test's window check: the main window builds, shows its tabs and closes, offscreen.

The headless checks and the runner live in ``core/selftest.py``; ``cli/selftest.py`` puts the two
together. The check reports the time from process start to the main window shown.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from core.selftest import CheckFailed, process_age_seconds

TAB_NAMES = ["Loss playground", "Training", "Draw"]
_IMPORT_TIME = time.perf_counter()


def isolate_settings(folder: Path) -> None:
    """Point QSettings at ``folder`` so the self-test never touches the user's window layout."""
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder / "qt"))


def check_window() -> str:
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from gui.app import configure_application

    app = QApplication.instance() or QApplication([sys.argv[0]])
    configure_application(app)
    from gui.main_window import MainWindow

    window = MainWindow()
    try:
        window.show()
        QCoreApplication.processEvents()
        shown_age = process_age_seconds()
        names = [window.tabs.tabText(index) for index in range(window.tabs.count())]
        expected = TAB_NAMES
        if names != expected:
            raise CheckFailed(f"tabs are {names}, expected {expected}")
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)  # each tab must also survive being shown
            QCoreApplication.processEvents()
        if not window.isVisible():
            raise CheckFailed("the main window did not show")
        if QApplication.windowIcon().isNull():
            raise CheckFailed("the application icon is missing (resources/icons/digit-lab.png)")
    finally:
        window.close()  # saves settings (into the temporary file) and shuts the tabs down
        window.deleteLater()
        QCoreApplication.processEvents()
    if shown_age is not None:
        when = f"shown {shown_age:.2f} s after process start"
    else:
        when = f"shown {time.perf_counter() - _IMPORT_TIME:.2f} s after the self-test began"
    return f"main window with tabs {', '.join(expected)}; {when}"


