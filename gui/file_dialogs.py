"""One convention for the app's file dialogs: the extension is added, the last folder per kind
is remembered.

A learner who types "mymodel" in a Save dialog gets "mymodel.pt" (which the Load dialog's
filter then shows), and each kind of file ("model", "curves", "drawing"...) opens where the
last one of that kind went, not in the home folder every time.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget


def with_suffix(path: str | Path, suffix: str) -> Path:
    """``path`` ending in ``suffix`` (e.g. ".pt"): added when missing, kept when present."""
    path = Path(path)
    return path if path.suffix.lower() == suffix.lower() else path.with_name(path.name + suffix)


def last_folder(kind: str) -> Path:
    """The folder the last file of ``kind`` was saved to or opened from (home at first)."""
    stored = QSettings().value(f"folders/{kind}", "")
    folder = Path(str(stored)) if isinstance(stored, str) and stored else Path.home()
    return folder if folder.is_dir() else Path.home()


def remember_folder(kind: str, path: str | Path) -> None:
    QSettings().setValue(f"folders/{kind}", str(Path(path).parent))


def ask_save_path(
    parent: QWidget, kind: str, title: str, name: str, suffix: str, file_filter: str
) -> Path | None:
    """Ask where to save a ``kind`` file; the answer ends in ``suffix``. None if cancelled."""
    chosen, _ = QFileDialog.getSaveFileName(
        parent, title, str(last_folder(kind) / name), file_filter
    )
    if not chosen:
        return None
    path = with_suffix(chosen, suffix)
    remember_folder(kind, path)
    return path


def ask_open_path(parent: QWidget, kind: str, title: str, file_filter: str) -> Path | None:
    """Ask which ``kind`` file to open, starting in that kind's last folder. None if cancelled."""
    chosen, _ = QFileDialog.getOpenFileName(parent, title, str(last_folder(kind)), file_filter)
    if not chosen:
        return None
    remember_folder(kind, chosen)
    return Path(chosen)
