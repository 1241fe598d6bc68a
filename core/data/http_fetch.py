"""Fetching one file over HTTP(S) that never hangs, never ignores Cancel and never traces back.

``urllib``'s timeout bounds each socket call, not a download: a server that drips one byte every
two seconds never times out, and ``response.read(64 KB)`` waits for all 64 KB before anyone can
look at a Cancel button. Here the connection and the reads run on a helper thread; the caller's
thread waits at most ``POLL_SECONDS`` at a time, checking the cancel and the progress in
between: fewer than ``STALL_BYTES`` in the last ``STALL_SECONDS`` is a stalled server. The
partial file is created afresh (``O_EXCL | O_NOFOLLOW``), so a link planted under its name
never receives the download. Mirror addresses are checked before use (``check_mirror``).
"""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from core.errors import UserError

POLL_SECONDS = 0.5  # the longest the caller waits without looking at its cancel
CONNECT_SECONDS = 5.0  # connecting and each socket read: offline fails within seconds
STALL_SECONDS = 10.0  # a window this long ...
STALL_BYTES = 1024  # ... with fewer bytes than this is a server that stopped sending
CHUNK = 1 << 16
USER_AGENT = "pytorch/vision"  # torchvision's; some mirrors refuse urllib's default agent


class FetchCancelled(UserError):
    """The caller's ``should_cancel`` answered True."""


class FetchFailed(OSError):
    """The server could not be reached, refused, or stopped sending; ``str`` is one line."""


def check_mirror(url: str, what: str = "mirror") -> str:
    """``url`` as a normalised http(s) address ending in "/", or ``UserError`` saying why not.

    Refuses what ``urllib`` would trace back on: no scheme (``notaurl``), a malformed host
    (``http://[::1``), a bad port, a host that is not a valid international name; the path is
    percent-encoded so that non-ASCII folder names work.
    """
    shown = url if len(url) <= 80 else f"{url[:77]}..."
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname or ""
    except ValueError as exc:
        raise UserError(f"{what} {shown!r} is not a valid address ({exc})") from None
    if parts.scheme not in ("http", "https") or not host:
        raise UserError(f"{what} {shown!r} is not an http:// or https:// address")
    try:
        ascii_host = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        raise UserError(f"{what} {shown!r} has a host name that is not valid") from None
    if any(c.isspace() or ord(c) < 32 for c in ascii_host):
        raise UserError(f"{what} {shown!r} has a host name that is not valid")
    netloc = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    if port is not None:
        netloc += f":{port}"
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    return f"{parts.scheme}://{netloc}{path.rstrip('/')}/"


def one_line(exc: BaseException) -> str:
    """An exception as one short line (a redirect loop's message has three)."""
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
    if isinstance(reason, BaseException) and reason is not exc:
        reason = one_line(reason)
    text = " ".join(str(reason).split()) or type(exc).__name__
    return text if len(text) <= 160 else f"{text[:157]}..."


class _Connection(threading.Thread):
    """Opens ``url`` and reads it, handing chunks (then b"" or an exception) to a queue."""

    def __init__(self, url: str) -> None:
        super().__init__(name="download", daemon=True)
        self.url = url
        self.chunks: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=64)
        self.response: Any = None
        self.stop = threading.Event()

    def run(self) -> None:
        import urllib.request

        request = urllib.request.Request(self.url, headers={"User-Agent": USER_AGENT})
        try:
            self.response = urllib.request.urlopen(request, timeout=CONNECT_SECONDS)
            with self.response:
                while not self.stop.is_set():
                    chunk = self.response.read1(CHUNK)
                    self._put(chunk)
                    if not chunk:
                        return
        except BaseException as exc:  # noqa: BLE001 (handed to the waiting caller)
            self._put(exc)

    def _put(self, item: bytes | BaseException) -> None:
        while not self.stop.is_set():
            try:
                self.chunks.put(item, timeout=POLL_SECONDS)
                return
            except queue.Full:
                continue

    def abort(self) -> None:
        """Stop reading: the socket is shut down so a read blocked in ``recv`` returns now."""
        self.stop.set()
        sock = getattr(getattr(getattr(self.response, "fp", None), "raw", None), "_sock", None)
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _create_partial(partial: Path) -> int:
    """A fresh file at ``partial``: what was there (a stale part, a planted link) is removed."""
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    return os.open(partial, flags | getattr(os, "O_BINARY", 0), 0o644)


def stream_to_file(
    url: str,
    target: Path,
    on_bytes: Callable[[int], None],
    should_cancel: Callable[[], bool] | None = None,
) -> None:
    """Download ``url`` to ``target`` via ``target.part``; ``FetchCancelled`` on cancel,
    ``FetchFailed`` (or urllib's errors) when the server fails or stalls."""
    partial = target.with_name(target.name + ".part")
    connection = _Connection(url)
    connection.start()
    window: deque[tuple[float, int]] = deque()
    started = time.monotonic()
    try:
        with os.fdopen(_create_partial(partial), "wb") as out:
            while True:
                try:
                    item = connection.chunks.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    item = None
                if should_cancel is not None and should_cancel():
                    raise FetchCancelled("download cancelled")
                if isinstance(item, BaseException):
                    raise item
                if item == b"":
                    break
                now = time.monotonic()
                if item:
                    out.write(item)
                    on_bytes(len(item))
                    window.append((now, len(item)))
                _check_flow(window, now, started, connection.response is not None)
        os.replace(partial, target)
    finally:
        connection.abort()
        partial.unlink(missing_ok=True)


def _check_flow(window: deque[tuple[float, int]], now: float, started: float, open_: bool) -> None:
    """Raise ``FetchFailed`` when the server gave too little for too long."""
    while window and window[0][0] < now - STALL_SECONDS:
        window.popleft()
    if now - started < STALL_SECONDS:
        return
    if not open_ and now - started > CONNECT_SECONDS * 3:
        raise FetchFailed("the server did not answer")
    if open_ and sum(size for _, size in window) < STALL_BYTES:
        got = sum(size for _, size in window)
        raise FetchFailed(
            f"the server stopped sending ({got} bytes in the last {STALL_SECONDS:g} s)"
        )
