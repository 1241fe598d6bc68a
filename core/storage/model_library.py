"""The model library: every trained or loaded model kept in the user data folder, one chosen.

Models are never swapped silently: a finished run is *added* here, and it becomes the model the
Draw tab and ``classify`` use only when the learner chooses it (``set_current``). The bundled
model is not stored; choosing it is ``set_current(None)``.

On disk (``user_data_dir()/models``)::

    library/index.json        names, kinds, datasets, accuracies, dates, and the current choice
    library/<id>.pt           one checkpoint per model (core.storage.checkpoint, written atomically)
    current.pt                the single model of earlier versions: imported once, then left alone

The index is a cache of what the files say plus the names people gave them: it is written
atomically, and a damaged index, a damaged entry or a file the index does not know is repaired
from the files, never a crash. A damaged model file stays listed with its problem, so it can be
deleted. An unreadable folder makes the library empty with a reason (``problem``), and
``current_checkpoint`` falls back to the bundled model saying why.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from core.errors import CheckpointError, UserError
from core.resources import bundled_model_file, current_model_file, user_data_dir
from core.storage.atomic import write_text_atomic
from core.storage.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from core.storage.safe_read import UnsafeFileError, read_text
from core.training.models import MODELS

T = TypeVar("T")

log = logging.getLogger(__name__)

INDEX_VERSION = 1
MAX_NAME = 80
MAX_INDEX_BYTES = 4 << 20  # thousands of entries; more is damage, not a library
LOCK_NAME = ".lock"  # in the library folder: one process changes the index at a time
LOCK_WAIT_SECONDS = 10.0  # a change waits this long for another process's change to end
BUNDLED_NAME = "Bundled model"


class LibraryError(UserError):
    """The library cannot do what was asked (unknown model, bad name, folder not writable)."""


@dataclass
class LibraryEntry:
    """One kept model as the Models view lists it."""

    id: str
    name: str
    model_kind: str  # registry key: "mlp", "cnn"
    loss: str
    dataset: str
    test_accuracy: float | None
    created: str  # ISO 8601, UTC
    source: str = "trained"  # "trained", "loaded", "earlier version"
    temperature: float = 1.0
    size_bytes: int = 0
    problem: str = ""  # non-empty when the file cannot be used (damaged, missing)

    @property
    def file_name(self) -> str:
        return f"{self.id}.pt"

    @property
    def kind_title(self) -> str:
        spec = MODELS.get(self.model_kind)
        return spec.title if spec else self.model_kind or "unknown"

    @property
    def date_text(self) -> str:
        """The creation date for people, in local time: "2026-12-01 09:14"."""
        try:
            when = datetime.fromisoformat(self.created)
        except (ValueError, TypeError):
            return str(self.created)[:40] or "unknown date"
        try:
            local, zone = when.astimezone(), ""
        except (OverflowError, OSError, ValueError):
            # Year 1 in UTC is year 0 in a western time zone: out of datetime's range.
            local, zone = when, " UTC" if when.tzinfo is not None else ""
        return f"{local.year:04d}-{local:%m-%d %H:%M}{zone}"  # %Y gives "1", not "0001", on glibc


@dataclass
class CurrentModel:
    """The model in use, which entry it is (None: the bundled one), and why, if not the choice."""

    checkpoint: Checkpoint
    entry: LibraryEntry | None = None
    reason: str = ""  # why the bundled model is used instead of the chosen one; "" = as chosen

    @property
    def is_bundled(self) -> bool:
        return self.entry is None

    @property
    def name(self) -> str:
        return BUNDLED_NAME if self.entry is None else self.entry.name


@dataclass
class _Index:
    current: str | None = None
    entries: list[LibraryEntry] = field(default_factory=list)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _entry_from_checkpoint(
    entry_id: str, name: str, checkpoint: Checkpoint, source: str, created: str | None = None
) -> LibraryEntry:
    return LibraryEntry(
        id=entry_id,
        name=name,
        model_kind=checkpoint.model_name,
        loss=checkpoint.loss,
        dataset=checkpoint.dataset or "unknown data",
        test_accuracy=checkpoint.test_accuracy,
        created=created or _now(),
        source=source,
        temperature=checkpoint.temperature,
    )


def default_name(
    checkpoint: Checkpoint, when: datetime | None = None, *, seconds: bool = False
) -> str:
    """A name that says what the model is and when it was made (local time):
    "Small CNN, 98.2%, full MNIST, 5 Dec 10:31" (``seconds``: "5 Dec 10:31:07", which tells two
    models of the same minute apart without a "(2)")."""
    spec = MODELS.get(checkpoint.model_name)
    parts = [spec.title if spec else checkpoint.model_name]
    if checkpoint.test_accuracy is not None:
        parts.append(f"{checkpoint.test_accuracy:.1%}")
    dataset = (checkpoint.dataset or "").split("(")[0].strip()
    if dataset:
        parts.append(dataset[:30])
    local = (when or datetime.now(UTC)).astimezone()
    parts.append(f"{local.day} {local:%b %H:%M:%S}" if seconds else f"{local.day} {local:%b %H:%M}")
    return ", ".join(parts)[:MAX_NAME]


def _valid_id(entry_id: str) -> bool:
    """An id is a file stem in the library folder: no separators, not hidden, not too long."""
    return (
        bool(entry_id)
        and len(entry_id) <= 100
        and not entry_id.startswith(".")
        and "/" not in entry_id
        and "\\" not in entry_id
    )


def _parse_entry(raw: Any) -> LibraryEntry | None:
    """An index entry, or None when it is malformed (the file is then re-read instead)."""
    if not isinstance(raw, dict):
        return None
    known = {f.name for f in fields(LibraryEntry)}
    values = {k: v for k, v in raw.items() if k in known}
    try:
        entry = LibraryEntry(**values)
    except TypeError:
        return None
    text_ok = all(isinstance(getattr(entry, k), str) for k in ("id", "name", "model_kind", "loss"))
    acc = entry.test_accuracy
    acc_ok = acc is None or (isinstance(acc, int | float) and 0 <= acc <= 1)
    id_ok = text_ok and _valid_id(entry.id)
    if not (text_ok and acc_ok and id_ok and isinstance(entry.created, str)):
        return None
    if not isinstance(entry.temperature, int | float) or isinstance(entry.temperature, bool):
        entry.temperature = 1.0
    entry.dataset = entry.dataset if isinstance(entry.dataset, str) else "unknown data"
    entry.source = entry.source if isinstance(entry.source, str) else "unknown"
    entry.name = entry.name[:MAX_NAME] or entry.id
    entry.problem = ""
    return entry


def _why(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()


def _one_change_at_a_time(method: Callable[..., T]) -> Callable[..., T]:
    """Serialise a read-modify-write of the index (each call reads the file afresh): between
    threads with the library's lock, between processes with the folder's lock file."""

    @functools.wraps(method)
    def locked(self: ModelLibrary, *args: Any, **kwargs: Any) -> T:
        with self._locked():
            return method(self, *args, **kwargs)

    return locked


def _try_flock(fd: int) -> bool:
    """Take an exclusive ``flock`` without waiting; True when taken (always, without fcntl)."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock between processes, one process at a time is assumed
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class ModelLibrary:
    """The kept models in ``root/library`` (default: the user data folder's ``models``)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else user_data_dir() / "models"
        self.folder = self.root / "library"
        self.index_file = self.folder / "index.json"
        self.legacy_file = self.root / current_model_file().name
        self.problem = ""  # why the library cannot be read at all ("" when it can)
        self.choice_note = ""  # why the choice was dropped (earlier current.pt damaged, file gone)
        # The training worker adds a run while the window may rename or delete: one change at a time.
        self._lock = threading.RLock()
        self._lock_depth = 0  # how deep this thread is inside ``_locked`` (the file lock is held)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the thread lock and ``library/.lock`` (``flock``) for one read-modify-write.

        Another process's change is waited for up to ``LOCK_WAIT_SECONDS``; a folder where the
        lock file cannot be made (read-only) is changed without it (the write then fails anyway).
        """
        with self._lock:
            if self._lock_depth:
                self._lock_depth += 1
                try:
                    yield
                finally:
                    self._lock_depth -= 1
                return
            fd = self._open_lock_file()
            try:
                deadline = time.monotonic() + LOCK_WAIT_SECONDS
                while fd is not None and not _try_flock(fd):
                    if time.monotonic() > deadline:
                        raise LibraryError(
                            "the model library is busy: another Digit Lab is changing it; "
                            "try again in a moment"
                        )
                    time.sleep(0.02)
                self._lock_depth = 1
                try:
                    yield
                finally:
                    self._lock_depth = 0
            finally:
                if fd is not None:
                    os.close(fd)  # closing releases the flock

    def _open_lock_file(self) -> int | None:
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            return os.open(self.folder / LOCK_NAME, flags | getattr(os, "O_NONBLOCK", 0), 0o644)
        except OSError:
            return None

    # ------------------------------------------------------------- reading
    def entries(self) -> list[LibraryEntry]:
        """Every kept model, oldest first (never raises; see ``problem``)."""
        return self._read().entries

    def entry(self, entry_id: str) -> LibraryEntry:
        for entry in self.entries():
            if entry.id == entry_id:
                return entry
        raise LibraryError(f"there is no model {entry_id!r} in the library")

    def current_id(self) -> str | None:
        """The chosen entry's id, or None for the bundled model."""
        return self._read().current

    def load(self, entry_id: str) -> Checkpoint:
        """The entry's checkpoint, read and checked like any model file."""
        entry = self.entry(entry_id)
        return load_checkpoint(self.folder / entry.file_name)

    def disk_usage(self) -> int:
        """Bytes the library takes on disk (model files and index)."""
        try:
            return sum(p.stat().st_size for p in self.folder.iterdir() if p.is_file())
        except OSError:
            return 0

    def _read(self) -> _Index:
        """The index repaired from the files: unknown files added, missing ones dropped.

        A repair is written under the folder's lock, read afresh there, so a repair never
        overwrites what another process changed meanwhile.
        """
        index, dirty = self._scan(repair=bool(self._lock_depth))
        if not dirty:
            return index
        if self._lock_depth:
            self._try_write(index)
            return index
        try:
            with self._locked():
                index, dirty = self._scan(repair=True)
                if dirty:
                    self._try_write(index)
        except LibraryError as exc:
            log.warning("could not save the repaired model library index: %s", exc)
        return index

    def _scan(self, repair: bool) -> tuple[_Index, bool]:
        """The index as stored, repaired in memory; and whether the repair needs writing.

        An earlier version's model is imported (a file written) only with ``repair``, under the
        folder's lock; without it, the need to import just makes the index dirty.
        """
        self.problem = ""
        try:
            present = self._model_files()
            stored, dirty = self._read_index_file()
            fresh = not self.index_file.exists() and self.legacy_file.is_file()
        except OSError as exc:
            self.problem = f"the model library {self.folder} cannot be read ({_why(exc)})"
            return _Index(), False
        entries, seen = [], set()
        for entry in stored.entries:
            if entry.file_name in present and entry.id not in seen:
                seen.add(entry.id)
                entries.append(entry)
            else:
                dirty = True
        for name in sorted(present - {e.file_name for e in entries}):
            entries.append(self._entry_from_file(name))
            dirty = True
        index = _Index(stored.current if stored.current in seen else None, entries)
        if stored.current is not None and index.current is None:
            self.choice_note = f"the chosen model's file {stored.current}.pt is gone"
            dirty = True
        if fresh and not entries:
            dirty = (self._import_legacy(index) if repair else True) or dirty
        for entry in index.entries:
            entry.size_bytes = self._size(entry)
        return index, dirty

    def _model_files(self) -> set[str]:
        if not self.folder.is_dir():
            return set()
        return {p.name for p in self.folder.iterdir() if p.suffix == ".pt" and _valid_id(p.stem)}

    def _read_index_file(self) -> tuple[_Index, bool]:
        """The stored index and whether it needs rewriting; damage gives an empty index."""
        try:
            # Regular files only, within the cap: /dev/zero or a FIFO here is damage, not a wait.
            text = read_text(self.index_file, MAX_INDEX_BYTES, "the model library index")
            raw = json.loads(text)
        except UnsafeFileError:
            if not os.path.lexists(self.index_file):
                return _Index(), False
            log.warning("the model library index is not a readable file; rebuilding it")
            return _Index(), True
        except (ValueError, UnicodeDecodeError, RecursionError):
            log.warning("the model library index is damaged; rebuilding it from the files")
            return _Index(), True
        if not isinstance(raw, dict) or not isinstance(raw.get("entries"), list):
            return _Index(), True
        entries = [_parse_entry(item) for item in raw["entries"]]
        current = raw.get("current")
        parsed = _Index(current if isinstance(current, str) else None, [e for e in entries if e])
        return parsed, len(parsed.entries) != len(entries)

    def _entry_from_file(self, name: str) -> LibraryEntry:
        """An entry for a model file the index does not know (or lost): read from the file."""
        path = self.folder / name
        try:
            created = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(
                timespec="seconds"
            )
        except OSError:
            created = _now()
        try:
            checkpoint = load_checkpoint(path)
        except CheckpointError as exc:
            return LibraryEntry(
                Path(name).stem,
                f"Damaged file {name}",
                "",
                "",
                "",
                None,
                created,
                "unknown",
                problem=str(exc),
            )
        return _entry_from_checkpoint(
            Path(name).stem, default_name(checkpoint), checkpoint, "found in the folder", created
        )

    def _import_legacy(self, index: _Index) -> bool:
        """An earlier version's ``current.pt`` becomes the first entry and the choice, once."""
        try:
            checkpoint = load_checkpoint(self.legacy_file)
        except CheckpointError as exc:
            self.choice_note = f"the saved current model could not be used: {exc}"
            return True
        try:
            entry = self._store(checkpoint, default_name(checkpoint), "earlier version")
        except UserError as exc:
            self.choice_note = str(exc)
            return False
        index.entries.append(entry)
        index.current = entry.id
        return True

    def _size(self, entry: LibraryEntry) -> int:
        try:
            return (self.folder / entry.file_name).stat().st_size
        except OSError:
            return 0

    # ------------------------------------------------------------- writing
    def _write(self, index: _Index) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stored = []
        for entry in index.entries:
            record = asdict(entry)
            record.pop("problem")
            record.pop("size_bytes")
            stored.append(record)
        text = json.dumps(
            {"version": INDEX_VERSION, "current": index.current, "entries": stored}, indent=1
        )
        write_text_atomic(self.index_file, text + "\n")

    def _try_write(self, index: _Index) -> None:
        """Save a repaired index if the folder allows; reading goes on either way."""
        try:
            self._write(index)
        except (OSError, UserError) as exc:
            log.warning("could not save the repaired model library index: %s", exc)

    def _write_or_fail(self, index: _Index) -> None:
        try:
            self._write(index)
        except OSError as exc:
            raise LibraryError(
                f"could not update the model library in {self.folder}: {_why(exc)}"
            ) from None

    def _store(self, checkpoint: Checkpoint, name: str, source: str) -> LibraryEntry:
        """Write the checkpoint's file under a fresh id; the index is the caller's to update."""
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        entry_id = f"{stamp}-{secrets.token_hex(3)}"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LibraryError(
                f"could not create the model library {self.folder}: {_why(exc)}"
            ) from None
        save_checkpoint(checkpoint, self.folder / f"{entry_id}.pt")
        entry = _entry_from_checkpoint(entry_id, name, checkpoint, source)
        entry.size_bytes = self._size(entry)
        return entry

    @_one_change_at_a_time
    def add(
        self, checkpoint: Checkpoint, name: str | None = None, *, source: str = "trained"
    ) -> LibraryEntry:
        """Keep ``checkpoint`` (it does not become current); its entry, with a unique name."""
        index = self._read()
        if self.problem:
            raise LibraryError(self.problem)
        taken = {e.name for e in index.entries}
        wanted = _clean_name(name) if name is not None else default_name(checkpoint)
        if name is None and wanted in taken:  # two models in one minute: the seconds, not "(2)"
            wanted = default_name(checkpoint, seconds=True)
        entry = self._store(checkpoint, _unique(wanted, taken), source)
        index.entries.append(entry)
        self._write_or_fail(index)
        return entry

    @_one_change_at_a_time
    def rename(self, entry_id: str, name: str) -> LibraryEntry:
        index = self._read()
        entry = _find(index, entry_id)
        name = _clean_name(name)
        if any(e.name == name and e.id != entry_id for e in index.entries):
            raise LibraryError(f"a model named {name!r} is already in the library")
        entry.name = name
        self._write_or_fail(index)
        return entry

    @_one_change_at_a_time
    def delete(self, entry_id: str) -> None:
        """Remove the model and its file; deleting the current one makes the bundled current."""
        index = self._read()
        entry = _find(index, entry_id)
        try:
            (self.folder / entry.file_name).unlink(missing_ok=True)
        except OSError as exc:
            raise LibraryError(f"could not delete {entry.name!r}: {_why(exc)}") from None
        index.entries.remove(entry)
        if index.current == entry_id:
            index.current = None
        self._write_or_fail(index)

    @_one_change_at_a_time
    def set_current(self, entry_id: str | None) -> None:
        """Choose the model the Draw tab and ``classify`` use (None: the bundled one)."""
        index = self._read()
        if entry_id is not None:
            _find(index, entry_id)
        index.current = entry_id
        self._write_or_fail(index)

    def current(self, bundled: Path | None = None) -> CurrentModel:
        """The chosen model, or the bundled one (``bundled``: its file, default the shipped one)
        with the reason when the choice cannot be used."""
        index = self._read()
        reason = self.problem or self.choice_note
        if index.current is not None:
            entry = _find(index, index.current)
            try:
                return CurrentModel(load_checkpoint(self.folder / entry.file_name), entry)
            except CheckpointError as exc:
                reason = f"the chosen model {entry.name!r} could not be used: {exc}"
        return CurrentModel(bundled_checkpoint(bundled), None, reason)


def _find(index: _Index, entry_id: str) -> LibraryEntry:
    for entry in index.entries:
        if entry.id == entry_id:
            return entry
    raise LibraryError(f"there is no model {entry_id!r} in the library")


def _clean_name(name: str) -> str:
    cleaned = " ".join(str(name).split())
    if not cleaned:
        raise LibraryError("a model's name cannot be empty")
    if len(cleaned) > MAX_NAME:
        raise LibraryError(f"a model's name is at most {MAX_NAME} characters")
    return cleaned


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    number = 2
    while f"{name} ({number})" in taken:
        number += 1
    return f"{name} ({number})"


def bundled_checkpoint(path: Path | None = None) -> Checkpoint:
    """The model shipped with the app; a clear error if it is missing or damaged."""
    bundled = path or bundled_model_file()
    try:
        return load_checkpoint(bundled)
    except CheckpointError as exc:
        raise CheckpointError(
            f"no model available: the bundled model cannot be used ({exc}); train one with "
            "'python main.py train' or rerun tools/train_default_model.py"
        ) from None


def current_checkpoint(
    library: ModelLibrary | None = None, bundled: Path | None = None
) -> CurrentModel:
    """What the Draw tab and ``classify`` without ``--model`` use: the learner's choice, else
    the bundled model with ``reason`` saying why. Never raises for a bad user folder; raises
    ``CheckpointError`` only when the bundled model itself is missing or damaged."""
    return (library or ModelLibrary()).current(bundled)
