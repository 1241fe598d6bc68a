"""Standard output that never ends a command with a traceback.

A reader that goes away (``| head -1``, ``| true``) or a full disk (``> /dev/full``) makes a
write fail. Unix tools end quietly on a closed pipe; a full disk is worth one sentence. Either
way the command's real work (a training run, its saved model) must go on, so the failure is
recorded and later output goes nowhere instead of raising inside whatever was printing.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from typing import TextIO


class GuardedStdout(io.TextIOBase):
    """A text stream over ``stream`` that turns write failures into a recorded state."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream
        self.closed_by_reader = False
        self.write_error: OSError | None = None

    @property
    def failed(self) -> bool:
        return self.closed_by_reader or self.write_error is not None

    def write(self, text: str) -> int:
        if not self.failed:
            try:
                self._stream.write(text)
                self._stream.flush()  # find a full disk now, not at exit
            except BrokenPipeError:
                self.closed_by_reader = True
            except OSError as exc:
                self.write_error = exc
        return len(text)

    def flush(self) -> None:
        if not self.failed:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self.closed_by_reader = True
            except OSError as exc:
                self.write_error = exc

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8")

    def problem(self) -> str | None:
        """One sentence for a write error worth telling (never for a closed pipe)."""
        if self.write_error is None:
            return None
        if self.write_error.errno == errno.ENOSPC:
            return "could not write the output: the disk is full"
        reason = self.write_error.strerror or type(self.write_error).__name__
        return f"could not write the output: {reason}"


def silence_real_stdout() -> None:
    """Point file descriptor 1 at /dev/null so the interpreter's final flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())
    except (OSError, AttributeError, ValueError):
        pass
