"""The window's settings file, made safe before Qt reads it, and its values restored one by one.

Qt's ``QSettings`` opens its file with a plain blocking read the moment it is constructed: a FIFO
there hung start-up for good, and a value of the wrong type (``[window] geometry=hello``) made
``restoreGeometry`` raise ``TypeError`` and the app exit. So, before the first ``QSettings``:
``quarantine_unsafe`` moves a settings file that is not a regular file within its size cap
aside (``NAME.unusable-STAMP``) and says so in a note; after it, each value is restored through
a check (``geometry_bytes`` here; the Training tab's fields through
``core.training.train_settings.restore_value``'s clamp): a bad value is dropped, never fatal.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from core.storage.safe_read import LIMITS, regular_or_missing

MAX_GEOMETRY_BYTES = 4096  # Qt's saved geometry is ~66 bytes


def _unsafe(path: Path) -> str | None:
    """Why ``path`` must not be handed to Qt, or None when it is missing or a fine file."""
    problem = regular_or_missing(path)
    if problem is not None:
        return problem
    with contextlib.suppress(OSError):
        size = os.stat(path).st_size
        if size > LIMITS["settings"]:
            return f"{size / 1e6:,.1f} MB, far larger than any settings file"
    return None


def quarantine_unsafe(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Move each unusable settings file aside; one note per file moved (or not movable).

    A link that loops, a FIFO, a device, a folder or a huge file is renamed (the rename moves
    the link or the FIFO itself, never what it points to), so Qt starts from defaults.
    """
    notes = []
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for raw in paths:
        path = Path(raw)
        problem = _unsafe(path)
        if problem is None:
            continue
        aside = path.with_name(f"{path.name}.unusable-{stamp}")
        try:
            os.replace(path, aside)
        except OSError as exc:
            notes.append(
                f"the settings file {path} is {problem} and could not be moved aside "
                f"({(exc.strerror or type(exc).__name__).lower()}); settings are not kept"
            )
            continue
        notes.append(
            f"the settings file {path} was {problem}; it was moved to {aside.name} "
            "and the default settings are used"
        )
    return notes


def unusable(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` still is no file Qt may read (it could not be moved aside)."""
    return _unsafe(Path(path)) is not None


def geometry_bytes(value: Any) -> bytes | None:
    """A stored window geometry as bytes for ``restoreGeometry``, or None to use the default.

    ``QSettings.value`` returns whatever the file holds: a ``QByteArray`` when Qt wrote it, a
    string (``geometry=hello``), a list, a number. Only bytes-like values of sane size pass.
    """
    if value is None or isinstance(value, str | int | float | bool | list | tuple | dict):
        return None
    data = getattr(value, "data", None)
    try:
        raw = bytes(data()) if callable(data) else bytes(value)
    except (TypeError, ValueError, BufferError):
        return None
    return raw if 0 < len(raw) <= MAX_GEOMETRY_BYTES else None


def stored_int(value: Any, default: int, low: int, high: int) -> int:
    """A stored small integer (a tab index), ``default`` for anything else or out of range."""
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        return default
    return number if low <= number <= high else default
