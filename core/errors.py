"""Errors a user can cause: shown as one clear sentence at the boundary (CLI or GUI)."""

from __future__ import annotations


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
