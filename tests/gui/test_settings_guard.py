"""The window's settings file cannot stop the app: a FIFO there is moved aside before Qt reads
it, and a stored geometry of the wrong type is dropped (issue 24, classes 1 and 6)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.helpers import ROOT

_START = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    from gui.app import configure_application, settings_files
    from core.storage.settings_file import quarantine_unsafe
    app = QApplication([])
    configure_application(app)
    notes = quarantine_unsafe(settings_files())
    value = QSettings().value("window/geometry")  # blocks for good on a FIFO
    print(len(notes), repr(value))
    """
)


def _run(config_home) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CONFIG_HOME": str(config_home), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", _START], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize("kind", ["fifo", "devzero"])
def test_a_special_settings_file_is_moved_aside_before_qt_reads_it(tmp_path, kind):
    folder = tmp_path / "DigitLab"
    folder.mkdir()
    path = folder / "digit-lab.conf"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    done = _run(tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[0] == "1"
    assert [p.name.startswith("digit-lab.conf.unusable-") for p in folder.iterdir()] == [True]


def test_the_organisation_file_is_checked_too(tmp_path):
    os.mkfifo(tmp_path / "DigitLab.conf")
    done = _run(tmp_path)
    assert done.returncode == 0 and done.stdout.split()[0] == "1"


def test_a_geometry_of_the_wrong_type_is_dropped(qtbot):
    from PySide6.QtCore import QSettings

    from core.storage.settings_file import geometry_bytes

    settings = QSettings()
    settings.setValue("window/geometry", "hello")
    assert geometry_bytes(settings.value("window/geometry")) is None
    from PySide6.QtWidgets import QWidget

    widget = QWidget()
    qtbot.addWidget(widget)
    settings.setValue("window/geometry", widget.saveGeometry())
    restored = geometry_bytes(settings.value("window/geometry"))
    assert restored and widget.restoreGeometry(restored)
