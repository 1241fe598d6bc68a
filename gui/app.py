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


def settings_files() -> list[str]:
    """The INI files ``QSettings`` reads on Linux and BSD (the app's, then the organisation's),
    found without constructing a ``QSettings`` (that already reads them)."""
    from PySide6.QtCore import QStandardPaths

    if sys.platform in ("win32", "darwin"):
        return []  # the registry and a plist: not files Qt reads with a blocking open
    config = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return [f"{config}/{ORGANIZATION}/digit-lab.conf", f"{config}/{ORGANIZATION}.conf"]


def run_app(argv: list[str] | None = None) -> int:
    from gui.platform_check import screen_problem

    problem = screen_problem()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    configure_application(app)
    from core.storage.settings_file import quarantine_unsafe

    for note in quarantine_unsafe(settings_files()):  # a FIFO there blocks QSettings for good
        print(f"note: {note}", file=sys.stderr)
    from gui.heartbeat import heartbeat_from_environment

    launcher = Launcher(heartbeat=heartbeat_from_environment(app))
    launcher.start()
    return app.exec()


class Launcher(QObject):
    """Shows the main window now and fills its tabs when torch is in (see gui/startup.py).

    ``window`` exists (and is shown by ``start``) at once; ``ready`` fires with it once every
    tab is built (the self-test times both). ``heartbeat``: the benchmark's probe, or None.
    """

    ready = Signal(object)

    def __init__(self, parent: QObject | None = None, heartbeat=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        from gui.main_window import MainWindow
        from gui.startup import HeavyImports

        self.heartbeat = heartbeat  # gui.heartbeat.Heartbeat for the benchmark, else None
        self.window = MainWindow(deferred=True)
        self.window.tabsReady.connect(self._tabs_ready)
        if heartbeat is not None:
            heartbeat.watch(self.window)
        self.imports = HeavyImports(self)
        self.imports.finished.connect(self._fill_window)
        self.state = None

    @property
    def is_ready(self) -> bool:
        return self.window.ready

    def start(self) -> None:
        self.window.show()
        self.imports.start()

    def _fill_window(self, problem: str) -> None:
        if problem:
            self.window.show_failure(problem)
            return
        from gui.app_state import AppState

        self.state = AppState()
        self.state.load_startup_model(self.imports.preloaded)
        self.window.install(self.state, gradual=True)

    def _tabs_ready(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.tabs_ready()
        self.ready.emit(self.window)
