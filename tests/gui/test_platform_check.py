"""The pre-flight check names a missing X11 library and its package instead of Qt's abort."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gui import platform_check
from tests.helpers import ROOT


@pytest.mark.parametrize(
    ("library", "package"),
    [
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libxcb-render-util.so.0", "libxcb-render-util0"),
        ("libEGL.so.1", "libegl1"),
    ],
)
def test_library_names_map_to_debian_packages(library, package):
    assert platform_check.debian_package(library) == package


def test_offscreen_needs_no_check(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert platform_check.screen_problem() is None


def test_no_display_is_one_sentence(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.delenv("DISPLAY", raising=False)
    assert "DISPLAY is not set" in platform_check.screen_problem()


def test_a_missing_library_is_named_with_its_package(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("DISPLAY", ":99")

    def fake_cdll(path):
        raise OSError("libxcb-keysyms.so.1: cannot open shared object file: No such file")

    monkeypatch.setattr(platform_check.ctypes, "CDLL", fake_cdll)
    problem = platform_check.screen_problem()
    assert "libxcb-keysyms.so.1" in problem and "apt-get install libxcb-keysyms1" in problem


def test_the_app_says_so_and_exits_2_instead_of_aborting():
    env = {"PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "xcb", "HOME": "/tmp"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: no screen found")
