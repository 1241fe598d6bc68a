"""Test isolation: every test gets its own user data folder and its own QSettings file."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory, monkeypatch):
    data_dir = tmp_path_factory.mktemp("user-data")
    monkeypatch.setenv("DIGIT_LAB_DATA_DIR", str(data_dir))
    return data_dir


@pytest.fixture(autouse=True)
def isolated_qsettings(tmp_path_factory, request):
    """Point QSettings at a temporary folder (only when Qt is already in use)."""
    if "qtbot" not in request.fixturenames and "qapp" not in request.fixturenames:
        yield
        return
    from PySide6.QtCore import QCoreApplication, QSettings

    folder = tmp_path_factory.mktemp("settings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    QCoreApplication.setOrganizationName("DigitLabTests")
    QCoreApplication.setApplicationName("digit-lab-tests")
    yield
