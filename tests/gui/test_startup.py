"""Start-up: the startup window shows before torch is imported; the main window follows."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from gui import app as app_module
from gui import main_window, startup


class FakeMainWindow(QWidget):
    def __init__(self, state=None) -> None:  # noqa: ANN001
        super().__init__()
        self.state = state


def test_startup_window_first_then_the_main_window(qtbot, monkeypatch):
    monkeypatch.setattr(main_window, "MainWindow", FakeMainWindow)
    launcher = app_module.Launcher()
    launcher.start()
    assert launcher.startup_window.isVisible()
    assert "Loading PyTorch" in launcher.startup_window.message.text()
    with qtbot.waitSignal(launcher.ready, timeout=120_000) as ready:
        pass
    assert isinstance(ready.args[0], FakeMainWindow) and ready.args[0].isVisible()
    # The model was read behind the startup window, so the window starts with it in hand.
    assert ready.args[0].state.current_model is not None
    assert not launcher.startup_window.isVisible()
    ready.args[0].close()


def test_a_broken_install_is_said_in_the_startup_window(qtbot, monkeypatch):
    monkeypatch.setattr(startup, "HEAVY_MODULES", ("core.no_such_engine_part",))
    launcher = app_module.Launcher()
    launcher.start()
    qtbot.waitUntil(
        lambda: "could not start" in launcher.startup_window.message.text(), timeout=60_000
    )
    text = launcher.startup_window.message.text()
    assert text.startswith("Digit Lab could not start: ModuleNotFoundError")
    assert launcher.window is None and launcher.startup_window.isVisible()
    launcher.startup_window.close()
