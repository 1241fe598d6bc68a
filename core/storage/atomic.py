"""Atomic file writes: a temp file in the same folder, then ``os.replace``.

A crash or a full disk mid-write leaves the old file intact instead of a truncated one. Every
file the app writes (checkpoints, dataset files, exported CSV, saved drawings) goes through here.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import UserError, os_problem

NAME_MAX = 255  # the longest file name (one path component) common file systems allow
_RANDOM_PART = 8  # tempfile's random characters


def temp_prefix(name: str, suffix: str = ".tmp") -> str:
    """The hidden prefix of a temp file beside ``name``: ``.NAME.`` cut so the whole temp name
    (prefix, random part, suffix) fits ``NAME_MAX``; a legal 252-character name stays savable."""
    room = NAME_MAX - 2 - _RANDOM_PART - len(suffix)
    return f".{name[:room]}."


def escapes_data_folder(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` lies in the user data folder but resolves (through a planted symbolic
    link, of the file or of a folder above it) to somewhere outside it.

    Writes inside the data folder follow links only within it: a link planted there must not
    turn a save of the app's own files into an overwrite of some other file.
    """
    from core.resources import user_data_dir

    root = user_data_dir()
    root_real = os.path.realpath(root)
    lexical = os.path.abspath(path)
    inside = any(
        lexical == base or lexical.startswith(base.rstrip(os.sep) + os.sep)
        for base in (os.path.abspath(root), root_real)
    )
    if not inside:
        return False
    real = os.path.realpath(path)
    return not (real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep))


def replaceable_target(path: str | os.PathLike[str]) -> Path:
    """The regular file that writing ``path`` should replace, following symlinks.

    A symlink to a regular file is followed (its target is replaced, the link stays) unless it
    leads out of the data folder (``escapes_data_folder``): such a link is replaced itself, and
    a folder link out of it is refused. A path that exists but is not a
    regular file (a FIFO, a device such as /dev/null, a folder) or a link that loops is
    refused, so a save never swaps a system file for an ordinary one.
    """
    path = Path(path)
    if escapes_data_folder(path):
        if escapes_data_folder(path.parent):
            raise UserError(
                f"cannot write {path}: a folder on its way is a link that leads out of the "
                "data folder, and Digit Lab writes there only inside it"
            )
        return path  # the planted link itself is replaced; what it points to is untouched
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise UserError(f"cannot write {path}: {os_problem(exc)}") from None
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise UserError(f"{path} is {kind}; choose a file name to write to")
    return target


# A temp file older than this beside its target was left by a killed process: no save of ours
# takes ten minutes, so it is removed on the next save to the same name.
STALE_SECONDS = 600
_MKSTEMP_PART = r"[a-z0-9_]{8}"  # tempfile's random part


def remove_stale_temps(path: str | os.PathLike[str], suffix: str = ".tmp") -> list[Path]:
    """Delete ``.NAME.XXXXXXXX.tmp`` files of ours beside ``path`` older than ``STALE_SECONDS``.

    Only names this module makes for exactly this target are touched; errors are ignored (a
    temp file that cannot be removed is no reason to refuse a save). Returns what was removed.
    """
    path = Path(path)
    pattern = re.compile(
        re.escape(temp_prefix(path.name, suffix)) + _MKSTEMP_PART + re.escape(suffix)
    )
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    cutoff = time.time() - STALE_SECONDS
    for entry in entries:
        try:
            ours = pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)
            if ours and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


@contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds.

    ``path`` is resolved by ``replaceable_target`` first: existing non-regular files are refused.
    Stale temp files a killed process left for the same target are removed first.
    """
    path = replaceable_target(path)
    remove_stale_temps(path, suffix)
    fd, tmp_name = tempfile.mkstemp(
        prefix=temp_prefix(path.name, suffix), suffix=suffix, dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; these are ordinary user files
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | os.PathLike[str], payload: bytes) -> Path:
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    return Path(path)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))
