"""One safe reader for every file the app reads from the data folder or from the user.

A path can name anything: a FIFO that blocks ``open()`` forever, ``/dev/zero`` that never
ends, a folder, a 40 GB file where a 2 KB one belongs. ``stat().st_size`` is 0 for devices and
FIFOs, so a size check on it lets them through. Here the file is opened non-blocking
(``O_NONBLOCK``: a FIFO never waits for a writer), checked with ``fstat`` on the very descriptor
that is read (no race between "is it a file?" and the read), and read up to a size cap chosen
per kind of file (``LIMITS``). Anything else is one sentence in a ``UserError`` subclass the
caller picks.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from core.errors import UserError

# The most bytes each kind of file may hold; more is damage or a trap, never a real file.
LIMITS: dict[str, int] = {
    "index": 4 << 20,  # the model library's index.json: thousands of entries
    "settings": 1 << 20,  # the window's settings file
    "picture": 64 << 20,  # a phone photo is ~10 MB; a 64 MB PNG is already 100+ megapixels
    "json": 16 << 20,  # run histories and other small records
    "idx": 256 << 20,  # one MNIST-shaped IDX file (gzip or raw); the header budget comes next
}
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class UnsafeFileError(UserError):
    """A path that is not a readable regular file within its size cap."""


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def printable_name(name: str | os.PathLike[str]) -> str:
    """A file name for a message: bytes that are not UTF-8 shown as ``\\xff``, never as
    surrogates that a strict UTF-8 stream refuses to print."""
    try:
        raw = os.fsencode(name)
    except UnicodeError:
        raw = os.fspath(name).encode("utf-8", "backslashreplace")
    return raw.decode("utf-8", "backslashreplace") if isinstance(raw, bytes) else str(raw)


def _label(path: Path) -> str:
    text = printable_name(path.name or str(path))
    return text if len(text) <= 80 else f"{text[:40]}...{text[-30:]}"


def open_problem(exc: OSError) -> str:
    """Why a path could not be opened, in words."""
    code = exc.errno
    if code == errno.ENOENT:
        return "it does not exist"
    if code == errno.ELOOP:
        return "it is a symbolic link that loops back on itself"
    if code == errno.ENAMETOOLONG:
        return "the name is too long for this system"
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if code == errno.ENOTDIR:
        return "a part of its path is a file, not a folder"
    if code == errno.EISDIR:
        return "it is a folder"
    return (exc.strerror or type(exc).__name__).lower()


def _too_large(label: str, size: int, limit: int) -> str:
    return f"{label} is too large ({size / 1e6:,.1f} MB; at most {limit / 1e6:,.1f} MB is read)"


def open_regular(
    path: str | os.PathLike[str], what: str = "file", error: type[UserError] = UnsafeFileError
) -> tuple[int, os.stat_result]:
    """A descriptor for ``path`` checked to be a regular file, and its ``fstat``.

    Opened ``O_NONBLOCK`` (a FIFO is named, never waited on); the caller closes the descriptor.
    """
    path = Path(path)
    label = _label(path)
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | _BINARY | _CLOEXEC)
    except OSError as exc:
        raise error(f"cannot read {what} {label}: {open_problem(exc)}") from None
    except ValueError:  # an embedded NUL byte
        raise error(f"{what} {label} is not a valid path") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{what} {label} is {kind_of(info.st_mode)}, not a file")
        if _NONBLOCK:  # regular files ignore it, but later reads should be plain blocking ones
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def read_regular(
    path: str | os.PathLike[str],
    limit: int | str,
    what: str = "file",
    error: type[UserError] = UnsafeFileError,
) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    ``limit`` is a number or a key of ``LIMITS``. A file that grows past the cap while it is
    read is refused too (the read stops at the cap plus one byte).
    """
    cap = LIMITS[limit] if isinstance(limit, str) else int(limit)
    label = _label(Path(path))
    fd, info = open_regular(path, what, error)
    try:
        if info.st_size > cap:
            raise error(_too_large(f"{what} {label}", info.st_size, cap))
        chunks, total = [], 0
        while total <= cap:
            chunk = os.read(fd, min(1 << 20, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > cap:
            raise error(_too_large(f"{what} {label}", total, cap))
        return b"".join(chunks)
    except OSError as exc:
        raise error(f"cannot read {what} {label}: {open_problem(exc)}") from None
    finally:
        os.close(fd)


def read_text(
    path: str | os.PathLike[str],
    limit: int | str,
    what: str = "file",
    error: type[UserError] = UnsafeFileError,
) -> str:
    """``read_regular`` decoded as UTF-8 (a decoding problem is a ``UnicodeDecodeError``)."""
    return read_regular(path, limit, what, error).decode("utf-8")


@contextmanager
def open_stream(
    path: str | os.PathLike[str],
    limit: int | str,
    what: str = "file",
    error: type[UserError] = UnsafeFileError,
) -> Iterator[BinaryIO]:
    """A binary stream over a regular file of at most ``limit`` bytes (for large files read in
    pieces, such as IDX archives); refused like ``read_regular`` before a byte is read."""
    cap = LIMITS[limit] if isinstance(limit, str) else int(limit)
    fd, info = open_regular(path, what, error)
    if info.st_size > cap:
        os.close(fd)
        raise error(_too_large(f"{what} {_label(Path(path))}", info.st_size, cap))
    with os.fdopen(fd, "rb") as stream:
        yield stream


def regular_or_missing(path: str | os.PathLike[str]) -> str | None:
    """None when ``path`` is missing or a regular file (following links), else what it is.

    For files that are opened by a library the app does not control (Qt's settings file): a
    non-regular file there is moved aside before the library can block on it.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return open_problem(exc) if isinstance(exc, OSError) else "not a valid path"
    return None if stat.S_ISREG(mode) else kind_of(mode)
