"""Creates the QApplication and the main window."""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QObject, Signal
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
    from gui.heartbeat import heartbeat_from_environment

    launcher = Launcher(heartbeat=heartbeat_from_environment(app))
    launcher.start()
    return app.exec()


class Launcher(QObject):
    """Shows the startup window now and the main window when torch is in (see gui/startup.py).

    ``ready`` fires with the main window once it is shown (the self-test times it).
    """

    ready = Signal(object)

    def __init__(self, parent: QObject | None = None, heartbeat=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        from gui.startup import HeavyImports, StartupWindow

        self.heartbeat = heartbeat  # gui.heartbeat.Heartbeat for the benchmark, else None
        self.startup_window = StartupWindow()
        if heartbeat is not None:
            heartbeat.watch_startup_window(self.startup_window)
        self.imports = HeavyImports(self)
        self.imports.finished.connect(self._open_main_window)
        self.window = None

    def start(self) -> None:
        self.startup_window.show()
        self.imports.start()

    def _open_main_window(self, problem: str) -> None:
        if problem:
            self.startup_window.show_failure(problem)
            return
        from gui.app_state import AppState
        from gui.main_window import MainWindow

        self.state = AppState()
        if self.imports.preloaded is not None:
            self.state.load_startup_model(self.imports.preloaded)
        self.window = MainWindow(self.state)
        if self.heartbeat is not None:
            self.heartbeat.watch(self.window)
        self.window.show()
        if self.heartbeat is not None:
            self.heartbeat.tabs_ready()
        self.startup_window.close()
        self.ready.emit(self.window)
