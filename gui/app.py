"""Creates the QApplication and the main window."""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from core import APP_NAME, __version__
from core.resources import resource_path

ORGANIZATION = "DigitLab"


def configure_application(app: QCoreApplication) -> None:
    """Names used by QSettings, plus the window icon."""
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName("digit-lab")
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    icon_file = resource_path("icons", "digit-lab.png")
    if icon_file.exists() and isinstance(app, QApplication):
        app.setWindowIcon(QIcon(str(icon_file)))


def run_app(argv: list[str] | None = None) -> int:
    from gui.platform_check import screen_problem

    problem = screen_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    configure_application(app)
    from gui.main_window import MainWindow

    window = MainWindow()
    window.show()
    return app.exec()
