"""Test isolation: every test gets its own user data folder and its own QSettings file."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def sample():
    """The bundled MNIST sample (``core.data.mnist.load_sample``), read once for the session.

    Shared by every test: do not change its tensors in place (slice or copy them).
    """
    from core.data.mnist import load_sample

    return load_sample()


@pytest.fixture(scope="session")
def sample_test_digits(sample):
    """The sample's test digits as numpy arrays: (images uint8 (N, 28, 28), labels)."""
    return sample.test_images.numpy(), sample.test_labels.numpy()


@pytest.fixture(scope="session", autouse=True)
def isolated_session_data_dir(tmp_path_factory):
    """A data folder for the whole session, set before any module- or session-scoped fixture
    runs: a main window built in a module fixture never reads the user's own model library
    (the function-scoped one below comes too late for those)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DIGIT_LAB_DATA_DIR", str(tmp_path_factory.mktemp("session-data")))
        yield


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
