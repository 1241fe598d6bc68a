from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from core.errors import UserError
from core.storage.atomic import STALE_SECONDS, atomic_path, write_bytes_atomic, write_text_atomic
from core.storage.paths import check_folder, check_writable_file, is_dir, is_file


def test_write_replaces_whole_file(tmp_path):
    target = tmp_path / "file.txt"
    write_text_atomic(target, "first")
    write_text_atomic(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]


def test_failure_keeps_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "model.pt"
    write_bytes_atomic(target, b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half written")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_a_symlink_to_a_file_is_followed_and_the_link_kept(tmp_path):
    target = tmp_path / "real.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    write_text_atomic(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


@pytest.mark.parametrize("kind", ["fifo", "folder", "device"])
def test_what_is_not_a_regular_file_is_refused_and_left_alone(tmp_path, kind):
    if kind == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
    elif kind == "folder":
        path = tmp_path / "folder"
        path.mkdir()
    else:
        path = Path("/dev/null")
    with pytest.raises(UserError, match="regular file|folder"):
        write_text_atomic(path, "x")
    assert path.exists() and not path.is_file()
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_symlink_to_a_fifo_is_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "out.csv"
    link.symlink_to(fifo)
    with pytest.raises(UserError):
        write_text_atomic(link, "x")
    assert link.is_symlink()


def test_stale_temp_files_of_a_killed_save_are_cleaned_up(tmp_path):
    target = tmp_path / "m.pt"
    stale = tmp_path / ".m.pt.abcd1234.tmp"  # what mkstemp named a save killed with -9
    fresh = tmp_path / ".m.pt.wxyz9876.tmp"  # another process saving right now
    other = tmp_path / ".notes.txt.abcd1234.tmp"  # someone else's target
    mine_not = tmp_path / ".m.pt.backup"  # not our pattern
    for path in (stale, fresh, other, mine_not):
        path.write_bytes(b"x")
    old = time.time() - STALE_SECONDS - 60
    for path in (stale, other, mine_not):
        os.utime(path, (old, old))
    write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert not stale.exists()
    assert fresh.exists() and other.exists() and mine_not.exists()


def test_writable_check_before_the_work(tmp_path):
    assert check_writable_file(tmp_path / "new" / "m.pt") == tmp_path / "new" / "m.pt"
    assert [p.name for p in (tmp_path / "new").iterdir()] == []  # the probe is gone
    with pytest.raises(UserError, match="is a folder"):
        check_writable_file(tmp_path)
    with pytest.raises(UserError, match="too long"):
        check_writable_file(tmp_path / ("x" * 300 + ".pt"))
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(UserError, match="permission denied"):
            check_writable_file(locked / "m.pt")


def test_path_checks_never_raise(tmp_path):
    long_name = tmp_path / ("y" * 300)
    assert not is_file(long_name) and not is_dir(long_name)
    assert not is_file("bad\0path")
    with pytest.raises(UserError, match="too long"):
        check_folder(long_name, "--data-dir")
    with pytest.raises(UserError, match="not a folder"):
        check_folder(__file__, "--data-dir")
    if os.geteuid() != 0:
        closed = tmp_path / "closed"
        closed.mkdir(mode=0o000)
        assert not is_file(closed / "x")
        with pytest.raises(UserError, match="permission denied"):
            check_folder(closed, "--data-dir")
        closed.chmod(0o700)


def test_a_folder_that_cannot_be_listed_is_permission_denied(tmp_path, monkeypatch):
    """What a mode-000 folder does to a user without root's override (tests may run as root)."""
    import errno

    def denied(path):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr("core.storage.paths.os.listdir", denied)
    with pytest.raises(UserError, match="cannot read --data-dir .*: permission denied"):
        check_folder(tmp_path, "--data-dir")


# ------------------------------------------------ issue 24: long names, loops, links out of the folder
@pytest.mark.parametrize("length", [241, 245, 252, 255])
def test_a_legal_long_name_is_savable(tmp_path, length):
    target = tmp_path / ("n" * (length - 3) + ".pt")
    assert check_writable_file(target) == target
    write_bytes_atomic(target, b"ok")
    assert target.read_bytes() == b"ok"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_a_name_over_the_limit_is_refused_up_front(tmp_path):
    with pytest.raises(UserError, match="too long"):
        check_writable_file(tmp_path / ("n" * 253 + ".pt"))


@pytest.mark.parametrize("where", ["file", "folder"])
def test_a_symlink_loop_is_refused_before_the_work(tmp_path, where):
    loop = tmp_path / "loop"
    loop.symlink_to("loop")
    target = loop if where == "file" else loop / "m.pt"
    with pytest.raises(UserError, match="loops|not a folder|path"):
        check_writable_file(target)


@pytest.mark.parametrize(("given", "problem"), [("", "empty"), ("~nosuchuser/m.pt", "no user")])
def test_unusable_names_are_one_sentence(given, problem):
    with pytest.raises(UserError, match=problem):
        check_writable_file(given)


def test_a_link_in_the_data_folder_to_outside_is_replaced_not_followed(tmp_path_factory):
    from core.resources import user_data_dir

    victim = tmp_path_factory.mktemp("outside") / "victim.txt"
    victim.write_text("precious")
    inside = user_data_dir() / "models" / "library" / "index.json"
    inside.parent.mkdir(parents=True)
    inside.symlink_to(victim)
    write_text_atomic(inside, "{}")
    assert victim.read_text() == "precious"
    assert not inside.is_symlink() and inside.read_text() == "{}"


def test_a_link_within_the_data_folder_is_followed(tmp_path_factory):
    from core.resources import user_data_dir

    real = user_data_dir() / "real.json"
    real.write_text("old")
    link = user_data_dir() / "link.json"
    link.symlink_to(real)
    write_text_atomic(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_a_folder_linked_out_of_the_data_folder_is_refused(tmp_path_factory):
    from core.resources import user_data_dir

    outside = tmp_path_factory.mktemp("outside")
    (user_data_dir() / "models").symlink_to(outside)
    with pytest.raises(UserError, match="out of the data folder"):
        write_text_atomic(user_data_dir() / "models" / "x.json", "{}")
    with pytest.raises(UserError, match="out of the data folder"):
        check_writable_file(user_data_dir() / "models" / "m.pt")
    assert list(outside.iterdir()) == []


def test_a_link_outside_the_data_folder_is_the_users_choice(tmp_path):
    real = tmp_path / "real.pt"
    real.write_bytes(b"old")
    (tmp_path / "link.pt").symlink_to(real)
    write_bytes_atomic(tmp_path / "link.pt", b"new")
    assert real.read_bytes() == b"new"
