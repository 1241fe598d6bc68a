"""The model library: models kept, chosen, renamed, deleted; damage repaired, never a crash."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest
import torch

from core.errors import CheckpointError, UserError
from core.resources import bundled_model_file, current_model_file, user_data_dir
from core.storage.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from core.storage.model_library import (
    BUNDLED_NAME,
    LibraryEntry,
    LibraryError,
    ModelLibrary,
    current_checkpoint,
    default_name,
)
from core.training.models import build_model


def model(name: str = "mlp", accuracy: float | None = 0.9, seed: int = 0) -> Checkpoint:
    torch.manual_seed(seed)
    metrics = {} if accuracy is None else {"test_accuracy": accuracy}
    return Checkpoint.from_model(
        build_model(name, "ce"), name, "ce", metrics=metrics, dataset="MNIST (60,000 train)"
    )


@pytest.fixture
def library() -> ModelLibrary:
    return ModelLibrary()


def test_lives_in_the_user_data_folder(library):
    assert library.folder == user_data_dir() / "models" / "library"


def test_add_keeps_a_model_without_making_it_current(library):
    entry = library.add(model("cnn", 0.987))
    assert library.current_id() is None  # a new model is only kept, never swapped in
    assert current_checkpoint().is_bundled
    (listed,) = library.entries()
    assert listed.id == entry.id and listed.name.startswith("Small CNN, 98.7%, MNIST, ")
    assert (listed.model_kind, listed.loss, listed.test_accuracy) == ("cnn", "ce", 0.987)
    assert listed.dataset.startswith("MNIST") and listed.created[:4].isdigit()
    assert listed.size_bytes > 100_000 and library.disk_usage() >= listed.size_bytes
    assert load_checkpoint(library.folder / listed.file_name).model_name == "cnn"


def test_the_current_choice_is_kept_and_used(library):
    first = library.add(model("mlp", 0.9, seed=1))
    second = library.add(model("cnn", 0.95, seed=2))
    library.set_current(second.id)
    assert ModelLibrary().current_id() == second.id  # survives a new process
    chosen = current_checkpoint()
    assert chosen.entry.id == second.id and chosen.checkpoint.model_name == "cnn"
    assert chosen.reason == "" and not chosen.is_bundled
    library.set_current(first.id)
    assert current_checkpoint().checkpoint.model_name == "mlp"
    library.set_current(None)  # "Use bundled model"
    bundled = current_checkpoint()
    assert bundled.is_bundled and bundled.name == BUNDLED_NAME and bundled.reason == ""
    assert bundled.checkpoint.summary() == load_checkpoint(bundled_model_file()).summary()


def test_names_are_unique_and_can_be_changed(library):
    a = library.add(model(accuracy=0.9))
    b = library.add(model(accuracy=0.9))
    assert b.name != a.name and "(2)" not in b.name  # the seconds tell them apart
    c = library.add(model(accuracy=0.9), name=a.name)
    assert c.name == f"{a.name} (2)"  # a name the learner typed twice
    library.rename(a.id, "  my   first  model ")
    assert library.entry(a.id).name == "my first model"
    with pytest.raises(LibraryError, match="already in the library"):
        library.rename(b.id, "my first model")
    with pytest.raises(LibraryError, match="empty"):
        library.rename(b.id, "   ")
    with pytest.raises(LibraryError, match="at most"):
        library.rename(b.id, "x" * 200)
    with pytest.raises(LibraryError, match="no model"):
        library.rename("nope", "x")


def test_delete_removes_the_file_and_deleting_the_current_one_falls_back(library):
    keep = library.add(model(seed=1))
    gone = library.add(model(seed=2))
    library.set_current(gone.id)
    library.delete(gone.id)
    assert [e.id for e in library.entries()] == [keep.id]
    assert not (library.folder / gone.file_name).exists()
    assert library.current_id() is None and current_checkpoint().is_bundled


def test_default_names_say_what_the_model_is():
    when = datetime(2026, 12, 5, 10, 31, 7, tzinfo=UTC)
    local = when.astimezone()
    stamp = f"{local.day} {local:%b %H:%M}"
    assert default_name(model("mlp", None), when) == f"MLP 784-128-64-10, MNIST, {stamp}"
    assert default_name(model("cnn", 0.5), when).startswith("Small CNN, 50.0%")
    assert default_name(model("cnn", 0.5), when, seconds=True).endswith(f"{stamp}:07")


# --------------------------------------------------------- damage and repair
def test_a_damaged_index_is_rebuilt_from_the_files(library):
    kept = library.add(model("cnn", 0.97))
    library.index_file.write_text("{ not json")
    (entry,) = ModelLibrary().entries()
    assert entry.id == kept.id and entry.model_kind == "cnn" and entry.test_accuracy == 0.97
    assert json.loads(library.index_file.read_text())["entries"][0]["id"] == kept.id


def test_one_malformed_entry_does_not_lose_the_others(library):
    a = library.add(model(seed=1))
    b = library.add(model(seed=2))
    library.rename(b.id, "keep my name")
    index = json.loads(library.index_file.read_text())
    index["entries"][0] = {"id": a.id, "name": 42, "test_accuracy": "high"}
    index["entries"][1]["dataset"] = ["not", "text"]
    index["entries"].append("garbage")
    index["entries"].append({"id": "../../etc/passwd", "name": "x"})
    library.index_file.write_text(json.dumps(index))
    entries = {e.id: e for e in ModelLibrary().entries()}
    assert set(entries) == {a.id, b.id}  # the malformed one re-read from its file
    assert entries[b.id].name == "keep my name" and entries[b.id].dataset == "unknown data"


@pytest.mark.parametrize("text", ["[" * 100_000, '{"entries": 3}', "\xff\xfe", " " * (5 << 20)])
def test_any_damaged_index_is_rebuilt(library, text):
    kept = library.add(model())
    library.index_file.write_bytes(text.encode("latin-1"))
    assert [e.id for e in ModelLibrary().entries()] == [kept.id]


def test_files_missing_or_unknown_to_the_index_are_reconciled(library):
    a = library.add(model(seed=1))
    (library.folder / a.file_name).unlink()
    save_checkpoint(model("cnn", 0.8), library.folder / "dropped-in.pt")
    entries = ModelLibrary().entries()
    assert [e.id for e in entries] == ["dropped-in"] and entries[0].model_kind == "cnn"


def test_a_damaged_model_file_is_listed_with_its_problem_and_can_be_deleted(library):
    (library.folder).mkdir(parents=True)
    (library.folder / "broken.pt").write_bytes(b"PK\x03\x04 cut")
    (entry,) = library.entries()
    assert entry.problem and "damaged" in entry.problem and entry.name.startswith("Damaged")
    library.delete(entry.id)
    assert library.entries() == []


def test_a_damaged_current_model_falls_back_to_the_bundled_one_saying_why(library):
    chosen = library.add(model("cnn"))
    library.rename(chosen.id, "my model")
    library.set_current(chosen.id)
    (library.folder / chosen.file_name).write_bytes(b"PK\x03\x04" + os.urandom(300))
    result = current_checkpoint()
    bundled = load_checkpoint(bundled_model_file())
    assert result.is_bundled and result.checkpoint.model_name == bundled.model_name
    assert "'my model' could not be used" in result.reason and "damaged" in result.reason


def test_an_unreadable_models_folder_falls_back_saying_why(library, monkeypatch):
    library.add(model())

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(type(library.folder), "iterdir", denied)
    result = current_checkpoint()
    assert result.is_bundled and "cannot be read (permission denied)" in result.reason
    assert library.entries() == [] and "cannot be read" in library.problem
    with pytest.raises(LibraryError, match="cannot be read"):
        library.add(model())


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads folders whatever their mode")
def test_a_models_folder_with_mode_000_falls_back(library):
    library.add(model())
    os.chmod(library.root, 0)
    try:
        assert current_checkpoint().is_bundled
    finally:
        os.chmod(library.root, 0o755)


def test_the_bundled_model_missing_is_one_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="no model available"):
        current_checkpoint(bundled=tmp_path / "missing.pt")


def test_an_unwritable_library_is_a_library_error(library, monkeypatch):
    library.add(model())

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("core.storage.model_library.write_text_atomic", full)
    with pytest.raises(LibraryError, match="no space left"):
        library.set_current(None)


# ----------------------------------------------- models of earlier versions
def test_an_earlier_versions_current_model_is_imported_once_and_chosen():
    save_checkpoint(model("cnn", 0.96), current_model_file())
    result = current_checkpoint()
    assert not result.is_bundled and result.entry.source == "earlier version"
    assert result.checkpoint.model_name == "cnn"
    ModelLibrary().set_current(None)
    assert current_checkpoint().is_bundled  # not imported again
    assert len(ModelLibrary().entries()) == 1


def test_a_damaged_earlier_current_model_falls_back_saying_why():
    current_model_file().parent.mkdir(parents=True, exist_ok=True)
    current_model_file().write_bytes(torch.zeros(3).numpy().tobytes())
    result = current_checkpoint()
    assert result.is_bundled and "saved current model could not be used" in result.reason


def test_a_chosen_model_whose_file_is_gone_falls_back_saying_so_once(library):
    chosen = library.add(model())
    library.set_current(chosen.id)
    (library.folder / chosen.file_name).unlink()
    result = current_checkpoint()
    assert result.is_bundled and f"{chosen.id}.pt is gone" in result.reason
    assert current_checkpoint().reason == ""  # the repaired index no longer claims it


# ------------------------------------------------ issue 24: special files, links, dates, processes
@pytest.mark.parametrize("kind", ["fifo", "devzero", "urandom", "folder"])
def test_a_special_file_as_the_index_is_rebuilt_from_the_files_never_read(library, kind):
    library.add(model("mlp", 0.91), "kept")
    index = library.index_file
    index.unlink()
    if kind == "fifo":
        os.mkfifo(index)
    elif kind == "folder":
        index.mkdir()
    else:
        index.symlink_to("/dev/zero" if kind == "devzero" else "/dev/urandom")
    entries = ModelLibrary().entries()  # a FIFO read would block here; /dev/zero never ends
    assert [e.model_kind for e in entries] == ["mlp"]


def test_a_reader_never_writes_through_a_link_out_of_the_data_folder(library, tmp_path_factory):
    library.add(model("mlp", 0.91), "kept")
    victim = tmp_path_factory.mktemp("elsewhere") / "victim.txt"
    victim.write_text("precious")
    library.index_file.unlink()
    library.index_file.symlink_to(victim)  # planted: the next read finds it damaged and repairs
    assert [e.model_kind for e in ModelLibrary().entries()] == ["mlp"]
    assert victim.read_text() == "precious"
    assert not library.index_file.is_symlink()  # the link itself was replaced by a real index


def test_a_library_folder_linked_out_of_the_data_folder_is_not_written(tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "index.json").write_text("precious")
    models = user_data_dir() / "models"
    models.mkdir(parents=True)
    (models / "library").symlink_to(outside)
    with pytest.raises(UserError):
        ModelLibrary().add(model("mlp", 0.9), "x")
    assert (outside / "index.json").read_text() == "precious"


@pytest.mark.parametrize(
    "created",
    ["0001-01-01T00:00:00+00:00", "0001-01-01T03:00:00+05:00", "9999-12-31T23:59:59-12:00"],
)
def test_dates_at_the_ends_of_the_calendar_are_shown(monkeypatch, created):
    import time

    for zone in ("America/New_York", "Pacific/Kiritimati"):
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        try:
            text = LibraryEntry("a", "n", "mlp", "nll", "d", None, created).date_text
        finally:
            monkeypatch.undo()
            time.tzset()
        assert text[:4] in ("0001", "9999")


def test_a_malformed_date_is_shown_as_it_is():
    assert LibraryEntry("a", "n", "mlp", "nll", "d", None, "yesterday").date_text == "yesterday"


_RENAMER = """
import sys
from core.storage.model_library import ModelLibrary
library = ModelLibrary()
mine = sorted(e.id for e in library.entries())[int(sys.argv[1])]
for k in range(int(sys.argv[2])):
    library.rename(mine, f"p{sys.argv[1]}-{k}")
"""


def test_two_processes_renaming_at_once_lose_nothing(library):
    import subprocess
    import sys
    from pathlib import Path

    for name in ("a", "b"):
        library.add(model("mlp", 0.9), name)
    root = str(Path(__file__).resolve().parents[3])
    env = dict(os.environ, PYTHONPATH=root)
    workers = [
        subprocess.Popen([sys.executable, "-c", _RENAMER, str(k), "25"], env=env) for k in (0, 1)
    ]
    assert [w.wait(timeout=300) for w in workers] == [0, 0]
    assert sorted(e.name for e in ModelLibrary().entries()) == ["p0-24", "p1-24"]


def test_a_held_lock_makes_a_change_wait_then_say_busy(library, monkeypatch):
    import fcntl

    from core.storage import model_library as module

    library.add(model("mlp", 0.9), "a")
    monkeypatch.setattr(module, "LOCK_WAIT_SECONDS", 0.2)
    fd = os.open(library.folder / module.LOCK_NAME, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another process's change in progress
        with pytest.raises(LibraryError, match="busy"):
            ModelLibrary().rename(library.entries()[0].id, "b")
    finally:
        os.close(fd)
    ModelLibrary().rename(library.entries()[0].id, "b")
    assert library.entries()[0].name == "b"
