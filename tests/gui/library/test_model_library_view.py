"""Models view, run offer banner and AppState: nothing is swapped without the learner choosing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core.resources import bundled_model_file, current_model_file
from core.storage.checkpoint import Checkpoint, load_checkpoint
from core.storage.model_library import BUNDLED_NAME, ModelLibrary, current_checkpoint
from core.training.models import build_model
from gui.app_state import AppState
from gui.library.model_library_view import ModelLibraryDialog, RunOfferBanner

ROOT = Path(__file__).resolve().parents[3]


def model(name: str = "mlp", accuracy: float = 0.83, seed: int = 0) -> Checkpoint:
    torch.manual_seed(seed)
    return Checkpoint.from_model(
        build_model(name, "ce"),
        name,
        "ce",
        metrics={"test_accuracy": accuracy},
        dataset="bundled MNIST sample",
    )


@pytest.fixture
def state(qtbot) -> AppState:
    state = AppState()
    assert state.load_startup_model() == ""
    return state


def test_start_up_uses_the_bundled_model_on_a_fresh_install(state):
    assert state.current_name == BUNDLED_NAME and state.current_entry_id is None
    assert state.current_model.test_accuracy == load_checkpoint(bundled_model_file()).test_accuracy


def test_a_finished_run_is_kept_and_offered_but_not_swapped_in(qtbot, state):
    banner = RunOfferBanner(state)
    qtbot.addWidget(banner)
    bundled = state.current_model
    changed = []
    state.modelChanged.connect(changed.append)
    offer = state.offer_run(model("mlp", 0.831))
    assert changed == [] and state.current_model is bundled  # nothing swapped silently
    assert state.library.current_id() is None and offer.entry is not None
    assert [e.id for e in state.library.entries()] == [offer.entry.id]
    assert not banner.isHidden()
    text = banner.text.text()
    assert "83.1%" in text and f"{bundled.test_accuracy:.1%}" in text  # side by side
    assert BUNDLED_NAME in text
    banner.keep_button.click()
    assert banner.isHidden() and state.current_model is bundled
    assert current_checkpoint().is_bundled  # classify agrees


def test_accepting_the_offer_makes_it_current_for_the_app_and_classify(qtbot, state):
    banner = RunOfferBanner(state)
    qtbot.addWidget(banner)
    trained = model("mlp", 0.97)
    offer = state.offer_run(trained)
    with qtbot.waitSignal(state.modelChanged) as changed:
        banner.use_button.click()
    assert changed.args[0] is trained and state.current_entry_id == offer.entry.id
    assert banner.isHidden()
    chosen = current_checkpoint()  # what classify without --model uses
    assert chosen.entry.id == offer.entry.id and chosen.checkpoint.model_name == "mlp"
    restarted = AppState()
    restarted.load_startup_model()
    assert restarted.current_entry_id == offer.entry.id  # the choice survives a relaunch


def test_a_loaded_file_is_kept_and_used(state):
    state.set_current_model(model("cnn", 0.95))
    (entry,) = state.library.entries()
    assert entry.source == "loaded" and state.library.current_id() == entry.id
    assert state.current_name == entry.name


@pytest.fixture
def dialog(qtbot, state):
    first = state.offer_run(model("mlp", 0.83, seed=1)).entry
    second = state.offer_run(model("cnn", 0.99, seed=2)).entry
    view = ModelLibraryDialog(state)
    qtbot.addWidget(view)
    view.ids = (first.id, second.id)
    return view


def names(view: ModelLibraryDialog) -> list[str]:
    return [view.table.item(row, 0).text() for row in range(view.table.rowCount())]


def test_the_dialog_lists_the_bundled_model_first_and_marks_the_one_in_use(dialog):
    rows = names(dialog)
    assert rows[0] == f"{BUNDLED_NAME}  ● in use" and len(rows) == 3
    assert rows[1].startswith("MLP 784-128-64-10, 83.0%")
    assert dialog.table.item(2, 3).text() == "99.0%"
    assert (
        "2 kept models" in dialog.usage_label.text() and "MB on disk" in dialog.usage_label.text()
    )
    assert dialog.selected_id() == ""  # the model in use is selected
    assert not dialog.delete_button.isEnabled()  # the bundled model cannot be deleted
    assert not dialog.use_button.isEnabled()  # nor used again: it is the one in use
    dialog.table.selectRow(1)
    assert dialog.use_button.isEnabled()


def test_use_rename_delete_from_the_dialog(dialog):
    state = dialog.state
    first, second = dialog.ids
    dialog.table.selectRow(2)
    assert dialog.use_selected() and state.current_entry_id == second
    assert names(dialog)[2].endswith("● in use") and "Now using" in dialog.message.text()
    assert dialog.rename_selected("my CNN") and state.current_name == "my CNN"
    assert names(dialog)[2] == "my CNN  ● in use"
    dialog.table.selectRow(1)
    assert not dialog.rename_selected("my CNN")  # names stay unique, said in place
    assert "already in the library" in dialog.message.text()
    dialog.table.selectRow(2)
    assert dialog.delete_selected(confirm=False)  # the model in use: back to the bundled one
    assert state.current_name == BUNDLED_NAME and state.library.current_id() is None
    assert [e.id for e in state.library.entries()] == [first]
    assert names(dialog)[0].endswith("● in use")


def test_use_bundled_is_one_click(dialog):
    state = dialog.state
    dialog.table.selectRow(1)
    dialog.use_selected()
    assert state.current_entry_id == dialog.ids[0]
    dialog.bundled_button.click()
    assert state.current_name == BUNDLED_NAME and current_checkpoint().is_bundled


def test_a_damaged_entry_is_refused_in_place_and_the_app_keeps_its_model(dialog):
    state = dialog.state
    first = dialog.ids[0]
    (state.library.folder / f"{first}.pt").write_bytes(b"PK\x03\x04 broken")
    dialog.table.selectRow(1)
    before = state.current_model
    assert not dialog.use_selected()
    assert state.current_model is before and "damaged" in dialog.message.text()


def test_the_main_window_has_the_models_menu_and_banner(qtbot):
    from gui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    titles = [a.text() for a in window.menuBar().actions()]
    assert "&Models" in titles
    window.show_models()
    assert window.models_dialog.isVisible() and window.models_dialog.table.rowCount() == 1
    window.state.offer_run(model())
    assert window.run_offer.isVisibleTo(window) and "83.0%" in window.run_offer.text.text()
    window.close()


# --------------------------------------------- start-up with a damaged user folder
def test_start_up_with_a_damaged_choice_falls_back_and_says_why(qtbot):
    library = ModelLibrary()
    entry = library.add(model())
    library.set_current(entry.id)
    (library.folder / entry.file_name).write_bytes(b"\x00" * 100)
    state = AppState()
    note = state.load_startup_model()
    assert state.current_name == BUNDLED_NAME and state.current_model is not None
    assert note.startswith("Using the bundled model:") and "could not be used" in note


def _damage_current_model(data: Path, damage: str) -> None:
    """An earlier version's ``models/current.pt`` of the kinds that crashed every launch."""
    current = data / "models" / current_model_file().name
    current.parent.mkdir(parents=True, exist_ok=True)
    payload = torch.load(bundled_model_file(), weights_only=True)
    if damage == "int keys":
        payload["state_dict"] = dict(enumerate(payload["state_dict"].values()))
    else:
        state = payload["state_dict"]
        name = next(k for k, v in state.items() if v.dim() == 2)  # a linear layer's weights
        state[name] = state[name].float().to_sparse()
    torch.save(payload, current)


@pytest.mark.parametrize("damage", ["int keys", "sparse"])
def test_start_up_survives_a_damaged_current_model(qtbot, isolated_user_dirs, damage):
    _damage_current_model(isolated_user_dirs, damage)
    state = AppState()
    note = state.load_startup_model()
    assert state.current_name == BUNDLED_NAME and "saved current model could not be used" in note


GUI_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gui.main_window import MainWindow
window = MainWindow()
window.show()
app.processEvents()
print("MODEL", window.state.current_name, "|", window.statusBar().currentMessage())
window.close()
"""


def _as_user(command: list[str]) -> list[str]:
    """Run as an unprivileged user when we are root, so a mode-000 folder is really unreadable."""
    if os.geteuid() != 0:
        return command
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]


@pytest.mark.parametrize("damage", ["int keys", "unreadable folder"])
def test_gui_start_up_and_classify_survive_a_bad_user_folder(damage):
    """Real processes: the window and ``classify`` without --model, on user folders that
    crashed every launch before (issue 13); the folder's mode is real, not simulated."""
    import shutil
    import tempfile

    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("needs setpriv to drop root's permission override")
    base = Path(tempfile.mkdtemp(prefix="digit-lab-user-"))
    try:
        os.chmod(base, 0o777)
        data = base / "user"
        if damage == "int keys":
            _damage_current_model(data, damage)
        else:
            ModelLibrary(data / "models").add(model())
        digit = base / "digit.png"
        _write_digit(digit)
        for path in [data, *data.rglob("*")]:
            os.chmod(path, 0o777 if path.is_dir() else 0o666)
        if damage == "unreadable folder":
            os.chmod(data / "models", 0)
        env = {**os.environ, "DIGIT_LAB_DATA_DIR": str(data), "QT_QPA_PLATFORM": "offscreen"}
        env["HOME"] = str(base)
        gui = subprocess.run(
            _as_user([sys.executable, "-c", GUI_SCRIPT.format(root=str(ROOT))]),
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert gui.returncode == 0, gui.stderr[-2000:]
        line = next(line for line in gui.stdout.splitlines() if line.startswith("MODEL"))
        assert BUNDLED_NAME in line and "Using the bundled model" in line
        cli = subprocess.run(
            _as_user([sys.executable, str(ROOT / "main.py"), "classify", str(digit), "--json"]),
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert cli.returncode == 0, cli.stderr[-2000:]
        assert "Traceback" not in cli.stderr
        if damage == "unreadable folder":  # said every time (the damaged file: once, above)
            assert "using the bundled model: the model library" in cli.stderr
            assert "cannot be read (permission denied)" in cli.stderr
        assert "digit" in json.loads(cli.stdout.splitlines()[-1])
    finally:
        os.chmod(base / "user" / "models", 0o755) if (base / "user").exists() else None
        shutil.rmtree(base, ignore_errors=True)


def _write_digit(path: Path) -> None:
    import numpy as np
    from PIL import Image

    picture = np.zeros((28, 28), dtype=np.uint8)
    picture[5:23, 13:16] = 255
    Image.fromarray(picture).save(path)


def test_a_file_is_added_without_being_used_and_bad_files_are_refused_in_place(dialog, tmp_path):
    from core.storage.checkpoint import save_checkpoint

    state = dialog.state
    path = save_checkpoint(model("cnn", 0.96, seed=5), tmp_path / "friend.pt")
    assert dialog.add_file(str(path))
    assert state.current_name == BUNDLED_NAME and len(state.library.entries()) == 3
    assert dialog.table.rowCount() == 4 and dialog.selected_id() == state.library.entries()[-1].id
    (tmp_path / "notes.pt").write_text("shopping list")
    assert not dialog.add_file(str(tmp_path / "notes.pt"))
    assert "Not added: 'notes.pt' is not a model file" in dialog.message.text()
