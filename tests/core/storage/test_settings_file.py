"""The settings file is made safe before Qt reads it; stored values are checked one by one."""

from __future__ import annotations

import os

import pytest

from core.storage.settings_file import geometry_bytes, quarantine_unsafe, stored_int, unusable


@pytest.mark.parametrize("kind", ["fifo", "devzero", "loop", "folder", "huge"])
def test_an_unusable_settings_file_is_moved_aside_with_a_note(tmp_path, kind):
    path = tmp_path / "digit-lab.conf"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "devzero":
        path.symlink_to("/dev/zero")
    elif kind == "loop":
        path.symlink_to(path.name)
    elif kind == "folder":
        path.mkdir()
    else:
        with open(path, "wb") as handle:
            handle.truncate(64 << 20)  # sparse: 64 MB of nothing
    notes = quarantine_unsafe([path, tmp_path / "missing.conf"])
    assert len(notes) == 1 and str(path) in notes[0] and "default" in notes[0]
    assert not os.path.lexists(path) and not unusable(path)
    assert [p.name.startswith("digit-lab.conf.unusable-") for p in tmp_path.iterdir()] == [True]
    if kind == "devzero":
        assert os.path.exists("/dev/zero")  # the link was moved, not what it points to


def test_a_good_settings_file_is_left_alone(tmp_path):
    path = tmp_path / "digit-lab.conf"
    path.write_text("[window]\ntab=2\n")
    assert quarantine_unsafe([path]) == []
    assert path.read_text() == "[window]\ntab=2\n"


class FakeByteArray:
    """What ``QSettings.value`` returns for a geometry Qt wrote (a QByteArray has ``data()``)."""

    def __init__(self, raw: bytes) -> None:
        self._raw = raw

    def data(self) -> bytes:
        return self._raw


@pytest.mark.parametrize(
    "value",
    ["hello", "", 42, 1e400, True, ["a", "b"], {"x": 1}, None, b"", b"x" * 10_000, object()],
)
def test_a_geometry_that_is_not_bytes_is_dropped(value):
    assert geometry_bytes(value) is None


def test_a_real_geometry_passes():
    raw = bytes(range(66))
    assert geometry_bytes(raw) == raw
    assert geometry_bytes(bytearray(raw)) == raw
    assert geometry_bytes(FakeByteArray(raw)) == raw


@pytest.mark.parametrize(
    ("value", "expected"),
    [(2, 2), ("3", 3), (" 1 ", 1), ("hello", 0), (None, 0), (-1, 0), (99, 0), ("1e400", 0)],
)
def test_a_stored_tab_index_is_clamped(value, expected):
    assert stored_int(value, 0, 0, 4) == expected
