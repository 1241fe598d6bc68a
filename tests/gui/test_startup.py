"""Start-up: the main window shows before torch is imported; its tabs follow."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gui import app as app_module
from gui import startup
from gui.workers import is_running

pytestmark = pytest.mark.xserver  # .ci/run also runs these under Xvfb on the xcb platform


def test_the_window_shows_at_once_and_fills_its_tabs(qtbot):
    launcher = app_module.Launcher()
    window = launcher.window
    qtbot.addWidget(window)
    launcher.start()
    assert window.isVisible() and not launcher.is_ready
    names = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert names == ["Loss playground", "Training", "Draw", "Inside the network"]
    assert "Loading PyTorch" in window.tabs.currentWidget().message.text()
    with qtbot.waitSignal(launcher.ready, timeout=120_000) as ready:
        pass
    assert ready.args[0] is window and launcher.is_ready
    assert window.tabs.widget(2) is window.draw_tab and window.tabs.widget(3) is window.inside_tab
    # The model was read behind the loading window, so the tabs start with it in hand.
    assert window.state.current_model is not None
    assert window.draw_tab.state is window.state
    pages = [window.tabs.widget(i) for i in range(window.tabs.count())]
    assert not any(isinstance(page, startup.LoadingPage) for page in pages)
    window.close()


def test_the_shell_imports_no_torch():
    """The window can be on screen before PyTorch: building it imports neither torch nor numpy."""
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from gui.main_window import MainWindow\n"
        "window = MainWindow(deferred=True)\n"
        "window.show()\n"
        "app.processEvents()\n"
        "print(sorted(m for m in ('torch', 'numpy', 'pyqtgraph') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr


def test_a_broken_install_is_said_in_the_window(qtbot, monkeypatch):
    monkeypatch.setattr(startup, "HEAVY_MODULES", ("core.no_such_engine_part",))
    launcher = app_module.Launcher()
    window = launcher.window
    qtbot.addWidget(window)
    launcher.start()
    page = window.loading_pages[window.tabs.currentIndex()]
    qtbot.waitUntil(lambda: "could not start" in page.message.text(), timeout=60_000)
    assert page.message.text().startswith("Digit Lab could not start: ModuleNotFoundError")
    assert not launcher.is_ready and window.isVisible()
    qtbot.waitUntil(lambda: not is_running(launcher.imports.thread), timeout=10_000)
    window.close()


@pytest.mark.parametrize("first", [0, 3])
def test_the_tab_on_show_is_built_first(qtbot, first):
    from PySide6.QtCore import QSettings

    QSettings().setValue("window/tab", first)
    launcher = app_module.Launcher()
    qtbot.addWidget(launcher.window)
    built = []
    original = launcher.window._build_tab
    launcher.window._build_tab = lambda index: (built.append(index), original(index))
    launcher.start()
    qtbot.waitSignal(launcher.ready, timeout=120_000).wait()
    assert built[0] == first and sorted(built) == [0, 1, 2, 3]
    assert launcher.window.tabs.currentIndex() == first
    launcher.window.close()
