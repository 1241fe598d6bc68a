"""One writer for the command line's stdout and stderr that never ends a command with a traceback.

What can go wrong with a standard stream, and what each does here:

- a reader that goes away (``| head -1``): later output goes nowhere, quietly, as Unix tools do;
- a full disk (``> /dev/full``) or any other write error: one sentence at the end, exit 1;
- a stream closed before the start (``>&-``, ``2>&-``: Python then sets ``sys.stdout`` to
  None): descriptors 0-2 are first pointed at /dev/null, so no file the command opens can
  become "stdout" and receive its output or a C library's warnings; a closed stdout is one
  sentence on stderr (exit 1), a closed stderr just loses the messages;
- a strict encoding (``PYTHONIOENCODING=utf-8:strict``) and a file name that is not UTF-8
  (``$'\\xff.png'``): the name is written with its odd bytes as ``\\xff``, never a
  ``UnicodeEncodeError``.

Either way the command's real work (a training run, its saved model) goes on.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
from collections.abc import Callable
from typing import TextIO

CLOSED_AT_START = "closed"


def printable(text: str, encoding: str | None) -> str:
    """``text`` as the stream's encoding can write it: undecodable bytes of file names (held as
    surrogates) become ``\\xff``, other unencodable characters ``\\uXXXX``."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "backslashreplace")
    text = raw.decode("utf-8", "backslashreplace")
    encoding = encoding or "utf-8"
    try:
        return text.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        return text.encode("ascii", "backslashreplace").decode("ascii")


class GuardedStream(io.TextIOBase):
    """A text stream over ``stream`` (None when it was closed at start) that turns write
    failures into a recorded state instead of an exception."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__()
        self._stream = stream
        self.closed_by_reader = False
        self.closed_at_start = stream is None
        self.write_error: OSError | None = None

    @property
    def failed(self) -> bool:
        return self.closed_by_reader or self.closed_at_start or self.write_error is not None

    def write(self, text: str) -> int:
        if not self.failed:
            try:
                try:
                    self._stream.write(text)
                except UnicodeEncodeError:
                    self._stream.write(printable(text, self.encoding))
                self._stream.flush()  # find a full disk now, not at exit
            except (OSError, ValueError) as exc:
                self._record(exc)
        return len(text)

    def flush(self) -> None:
        if not self.failed:
            try:
                self._stream.flush()
            except (OSError, ValueError) as exc:
                self._record(exc)

    def _record(self, exc: Exception) -> None:
        if isinstance(exc, BrokenPipeError):
            self.closed_by_reader = True
        elif isinstance(exc, OSError):
            self.write_error = exc
        else:  # ValueError: I/O on a stream closed under us
            self.write_error = OSError(errno.EBADF, "the stream is closed")

    def isatty(self) -> bool:
        try:
            return self._stream is not None and self._stream.isatty()
        except (OSError, ValueError):
            return False

    def fileno(self) -> int:
        if self._stream is None:
            raise io.UnsupportedOperation("the stream was closed at start")
        return self._stream.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", None) or "utf-8"

    def problem(self) -> str | None:
        """One sentence for a write error worth telling (never for a closed pipe)."""
        if self.closed_at_start:
            return "could not write the output: standard output is closed"
        if self.write_error is None:
            return None
        if self.write_error.errno == errno.ENOSPC:
            return "could not write the output: the disk is full"
        reason = self.write_error.strerror or type(self.write_error).__name__
        return f"could not write the output: {reason}"


GuardedStdout = GuardedStream  # the name earlier callers import


def reserve_closed_descriptors() -> set[int]:
    """Point any of descriptors 0, 1, 2 that is closed at /dev/null; the ones that were.

    Run first thing: otherwise the next file opened takes the lowest free number, and a model
    file that became descriptor 2 would receive torch's warnings.
    """
    closed = set()
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.add(fd)
    for fd in sorted(closed):
        try:
            opened = os.open(os.devnull, os.O_RDWR)
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)
        except OSError:
            pass
    return closed


def silence_real_stdout() -> None:
    """Point file descriptor 1 at /dev/null so the interpreter's final flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())
    except (OSError, AttributeError, ValueError):
        pass


def run_guarded(run: Callable[[], int], fail: Callable[[str, int], int], failed: int) -> int:
    """Run a command with stdout and stderr guarded; its exit code, or ``failed`` when its
    output could not be written (after one sentence on stderr through ``fail``)."""
    closed = reserve_closed_descriptors()
    real_out, real_err = sys.stdout, sys.stderr
    out = GuardedStream(None if 1 in closed else real_out)
    err = GuardedStream(None if 2 in closed else real_err)
    sys.stdout, sys.stderr = out, err
    try:
        code = run()
        problem = out.problem()
        if problem:
            code = fail(problem, failed) if code == 0 else code
    finally:
        sys.stdout, sys.stderr = real_out, real_err
    if real_out is not None and real_out is sys.__stdout__ and out.failed:
        silence_real_stdout()
    if real_err is not None and err.failed:
        with contextlib.suppress(OSError):  # nothing more can reach it anyway
            os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    return code
