"""The one safe reader: regular files only, never waited on, within a cap per kind."""

from __future__ import annotations

import os
import threading

import pytest

from core.errors import DataError
from core.storage.safe_read import (
    LIMITS,
    UnsafeFileError,
    open_stream,
    printable_name,
    read_regular,
    regular_or_missing,
)


def _read_with_deadline(path, limit=1000, seconds=10.0):
    """Read on a thread so that a regression (a blocking FIFO) fails the test, not hangs it."""
    outcome = []

    def work():
        try:
            outcome.append(read_regular(path, limit))
        except Exception as exc:  # noqa: BLE001
            outcome.append(exc)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"reading {path} blocked"
    return outcome[0]


def test_a_regular_file_is_read(tmp_path):
    (tmp_path / "a.json").write_bytes(b"{}")
    assert read_regular(tmp_path / "a.json", 10) == b"{}"
    assert read_regular(tmp_path / "a.json", "index") == b"{}"


@pytest.mark.parametrize("kind", ["fifo", "devzero", "urandom", "folder", "devnull"])
def test_special_files_are_named_never_read(tmp_path, kind):
    path = tmp_path / "index.json"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        path.symlink_to({"devzero": "/dev/zero", "urandom": "/dev/urandom"}.get(kind, "/dev/null"))
    error = _read_with_deadline(path)
    assert isinstance(error, UnsafeFileError)
    expected = {"fifo": "pipe", "folder": "folder"}.get(kind, "device")
    assert expected in str(error) and "\n" not in str(error)


def test_over_the_cap_is_refused_before_reading(tmp_path):
    path = tmp_path / "big"
    path.write_bytes(b"x" * 2001)
    with pytest.raises(UnsafeFileError, match="too large"):
        read_regular(path, 2000)
    assert read_regular(path, 2001) == b"x" * 2001


@pytest.mark.parametrize(
    ("name", "problem"),
    [("missing", "does not exist"), ("loop", "loops back"), ("x" * 300, "too long")],
)
def test_unopenable_paths_are_one_sentence(tmp_path, name, problem):
    path = tmp_path / name
    if name == "loop":
        path.symlink_to("loop")
    with pytest.raises(UnsafeFileError, match=problem):
        read_regular(path, 100)


def test_the_callers_error_type_is_used(tmp_path):
    os.mkfifo(tmp_path / "train-images-idx3-ubyte")
    with (
        pytest.raises(DataError, match="pipe"),
        open_stream(tmp_path / "train-images-idx3-ubyte", "idx", "the dataset file", DataError),
    ):
        pass


def test_every_kind_has_a_cap():
    assert {"index", "settings", "picture", "idx", "json"} <= set(LIMITS)
    assert all(0 < cap <= 256 << 20 for cap in LIMITS.values())


def test_regular_or_missing(tmp_path):
    assert regular_or_missing(tmp_path / "nothing") is None
    (tmp_path / "f").write_text("x")
    assert regular_or_missing(tmp_path / "f") is None
    os.mkfifo(tmp_path / "p")
    assert "pipe" in regular_or_missing(tmp_path / "p")
    (tmp_path / "loop").symlink_to("loop")
    assert "loops" in regular_or_missing(tmp_path / "loop")


def test_names_that_are_not_utf8_print_as_escapes():
    assert printable_name(os.fsdecode(b"\xff.png")) == "\\xff.png"
    assert printable_name(b"\xfe.png") == "\\xfe.png"
    printable_name(os.fsdecode(b"\xff.png")).encode("utf-8")  # strict UTF-8 can write it


@pytest.mark.parametrize("kind", ["fifo", "devzero", "missing"])
def test_the_detector_cache_goes_through_the_safe_reader(tmp_path, kind):
    from core.inference.ood import _read_sidecar

    path = tmp_path / "ood-2-abc.pt"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "devzero":
        path.symlink_to("/dev/zero")
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(_read_sidecar(path)), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive() and outcome == [None]


@pytest.mark.parametrize("kind", ["fifo", "devzero"])
def test_the_saved_run_list_goes_through_the_safe_reader(tmp_path, kind):
    from core.training.run_store import load_runs

    path = tmp_path / "runs.json"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(load_runs(path)), daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive() and outcome[0].runs == []
    assert "pipe" in outcome[0].problem or "device" in outcome[0].problem
