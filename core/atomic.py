"""Atomic file writes: a temp file in the same folder, then ``os.replace``.

A crash or a full disk mid-write leaves the old file intact instead of a truncated one. Every
file the app writes (checkpoints, dataset files, exported CSV, saved drawings) goes through here.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import UserError


def replaceable_target(path: str | os.PathLike[str]) -> Path:
    """The regular file that writing ``path`` should replace, following symlinks.

    A symlink to a regular file is followed (its target is replaced, the link stays); a path
    that exists but is not a regular file (a FIFO, a device such as /dev/null, a folder) is
    refused, so a save never swaps a system file for an ordinary one.
    """
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise UserError(f"{path} is {kind}; choose a file name to write to")
    return target


@contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds.

    ``path`` is resolved by ``replaceable_target`` first: existing non-regular files are refused.
    """
    path = replaceable_target(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
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
