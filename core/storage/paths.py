"""Safe path checks: a path the user names never turns into a traceback.

Python 3.11's ``Path.is_file()`` / ``is_dir()`` raise ``PermissionError`` inside a folder the
user cannot read and ``OSError: File name too long`` for a 300-character name (they only
swallow "does not exist"). Everything that probes a user's path goes through here instead:
``is_file``/``is_dir`` answer False for any unreadable path, ``check_folder`` and
``check_writable_file`` raise a ``UserError`` with one sentence, and ``os_problem`` turns an
``OSError`` into the words of that sentence.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from core.errors import UserError, os_problem  # os_problem re-exported: callers import it here
from core.storage.atomic import NAME_MAX, escapes_data_folder, temp_prefix


def _mode(path: str | os.PathLike[str]) -> int | None:
    try:
        return os.stat(path).st_mode
    except (OSError, ValueError):  # ValueError: an embedded NUL byte
        return None


def is_file(path: str | os.PathLike[str]) -> bool:
    """True for a readable path to a regular file (following links); never raises."""
    mode = _mode(path)
    return mode is not None and stat.S_ISREG(mode)


def is_dir(path: str | os.PathLike[str]) -> bool:
    """True for a path to a folder (following links); never raises."""
    mode = _mode(path)
    return mode is not None and stat.S_ISDIR(mode)


def short(path: str | os.PathLike[str], limit: int = 80) -> str:
    """``path`` for a message: a 300-character name is cut in the middle."""
    text = str(path)
    return text if len(text) <= limit else f"{text[: limit // 2]}...{text[-limit // 2 :]}"


def user_path(path: str | os.PathLike[str], what: str = "path") -> Path:
    """A path the user typed, with ``~`` expanded; ``UserError`` for one that cannot be a path.

    ``Path.expanduser`` raises ``RuntimeError`` for ``~nosuchuser/x``; an empty name or an
    embedded NUL byte is no path at all.
    """
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if not text.strip():
        raise UserError(f"{what} is empty; give a file or folder name")
    if "\0" in text:
        raise UserError(f"{what} {short(text)!r} is not a valid path (it holds a NUL character)")
    try:
        return Path(text).expanduser()
    except RuntimeError:
        user = text[1:].split("/", 1)[0]
        raise UserError(f"{what} {short(text)}: there is no user {user!r} on this system") from None


def check_folder(path: str | os.PathLike[str], what: str = "folder") -> Path:
    """``path`` if it is a folder whose contents can be listed, else ``UserError`` saying why."""
    path = user_path(path, what)
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISDIR(mode):
            raise UserError(f"{what} {short(path)} is not a folder")
        os.listdir(path)
    except OSError as exc:
        raise UserError(f"cannot read {what} {short(path)}: {os_problem(exc)}") from None
    except ValueError:
        raise UserError(f"{what} {short(path)} is not a valid path") from None
    return path


def check_writable_file(path: str | os.PathLike[str], what: str = "file") -> Path:
    """Check, before any long work, that a file can be written at ``path``.

    Creates the parent folder if needed and writes (then removes) a hidden probe file in it;
    a folder, FIFO or device at ``path`` is refused. Raises ``UserError`` in one sentence.
    """
    path = user_path(path, what)
    mode = _mode(path)
    try:
        if len(os.fsencode(path.name)) > NAME_MAX:
            raise OSError(errno.ENAMETOOLONG, "File name too long")
        os.stat(path)
    except OSError as exc:
        if exc.errno != errno.ENOENT:  # missing, or a dangling link: the save creates it
            raise UserError(f"cannot write {what} {short(path)}: {os_problem(exc)}") from None
    except ValueError:
        raise UserError(f"{what} {short(path)} is not a valid path") from None
    if escapes_data_folder(path.parent):
        raise UserError(
            f"cannot write {what} {short(path)}: a folder on its way is a link out of the data folder"
        )
    if mode is not None and stat.S_ISDIR(mode):
        raise UserError(
            f"{what} {short(path)} is a folder; give a file name such as {short(path / 'model.pt')}"
        )
    if mode is not None and not stat.S_ISREG(mode):
        raise UserError(f"{what} {short(path)} is not a regular file; choose a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # The same hidden name pattern as core.storage.atomic's temp files: if the probe fits, they do.
        fd, probe = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UserError(f"cannot write {what} {short(path)}: {os_problem(exc)}") from None
    except ValueError:
        raise UserError(f"{what} {short(path)} is not a valid path") from None
    return path
