"""Every --out the user gives goes through core/storage/paths.py (issue 24, classes 8, 12, 13)."""

from __future__ import annotations

import os

import pytest

from cli import main
from core.errors import UserError
from core.resources import user_data_dir


def test_export_out_empty_is_one_sentence(capsys):
    assert main(["export-script", "--out", ""]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: --out is empty; give a file or folder name"


@pytest.mark.parametrize("slash", ["", "/"])
def test_export_out_an_existing_folder_writes_inside_it(tmp_path, capsys, slash):
    folder = tmp_path / "scripts"
    folder.mkdir()
    assert main(["export-script", "--out", f"{folder}{slash}"]) == 0
    written = list(folder.glob("*.py"))
    assert len(written) == 1 and written[0].name.startswith("train_")
    assert not (tmp_path / "scripts.py").exists()


def test_export_out_a_252_character_name(tmp_path):
    out = tmp_path / ("s" * 249 + ".py")
    assert main(["export-script", "--out", str(out)]) == 0
    assert out.is_file()


@pytest.mark.parametrize("make", ["loop", "loop-folder", "no-user"])
def test_export_out_unusable_is_one_sentence(tmp_path, capsys, make):
    if make == "no-user":
        out = "~nosuchuser/x.py"
    else:
        (tmp_path / "loop.py").symlink_to("loop.py")
        out = str(tmp_path / "loop.py") if make == "loop" else str(tmp_path / "loop.py" / "x.py")
    assert main(["export-script", "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def _checkpoint():
    from core.storage.checkpoint import Checkpoint
    from core.training.models import build_model

    return Checkpoint.from_model(build_model("mlp", "nll"), "mlp", "nll")


def test_a_symlink_loop_made_during_training_keeps_the_model(tmp_path):
    from cli.train_cmd import save_or_keep

    out = tmp_path / "loop.pt"
    out.symlink_to(out.name)  # appeared while the run trained
    with pytest.raises(UserError, match="kept at") as info:
        save_or_keep(_checkpoint(), out)
    kept = list((user_data_dir() / "models").glob("unsaved-*.pt"))
    assert len(kept) == 1 and str(kept[0]) in str(info.value)
    assert "\n" not in str(info.value)


def test_a_folder_loop_made_during_training_keeps_the_model(tmp_path):
    from cli.train_cmd import save_or_keep

    loop = tmp_path / "loop"
    os.symlink("loop", loop)
    with pytest.raises(UserError, match="kept at"):
        save_or_keep(_checkpoint(), loop / "m.pt")
    assert list((user_data_dir() / "models").glob("unsaved-*.pt"))


@pytest.mark.parametrize("length", [252, 255])
def test_save_a_legal_long_model_name(tmp_path, length):
    from core.storage.checkpoint import load_checkpoint, save_checkpoint

    out = tmp_path / ("m" * (length - 3) + ".pt")
    save_checkpoint(_checkpoint(), out)
    assert load_checkpoint(out).model_name == "mlp"
