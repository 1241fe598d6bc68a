"""Errors a user can cause: shown as one clear sentence at the boundary (CLI or GUI)."""

from __future__ import annotations

import errno


class UserError(Exception):
    """Something the user typed, chose or pointed at is wrong; the message says what and where."""


class InputError(UserError):
    """A typed tensor or option is malformed. ``location`` points at the offending cell if known."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        row: int | None = None,
        col: int | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.row = row
        self.col = col


class DataError(UserError):
    """A dataset file is missing, truncated or corrupt."""


class CheckpointError(UserError):
    """A model file cannot be used: not a checkpoint, newer format, or unsafe to unpickle."""


def os_problem(exc: OSError) -> str:
    """What went wrong with a path, in words (no errno numbers, no temp-file names)."""
    code = exc.errno
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if code == errno.ENAMETOOLONG:
        return "the name is too long for this system"
    if code == errno.ENOENT:
        return "it does not exist"
    if code == errno.ENOTDIR:
        return "a part of the path is a file, not a folder"
    if code == errno.ELOOP:
        return "it is a symbolic link that loops back on itself"
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return "the disk is full"
    if code == errno.EROFS:
        return "the disk is read-only"
    return exc.strerror or type(exc).__name__
