"""The ``attack`` CLI: its JSON line, the saved picture read back by ``classify``, its errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from cli import main as cli_main
from core.data.mnist import load_sample
from core.resources import bundled_model_file

MODEL = str(bundled_model_file())


@pytest.fixture(scope="module")
def digit_file(tmp_path_factory) -> str:
    """A test digit as a 200x200 dark-on-light PNG, as a user would draw or scan it."""
    image = load_sample().test_images.numpy()[0]
    path = tmp_path_factory.mktemp("attack") / "digit.png"
    Image.fromarray(255 - image).resize((200, 200), Image.Resampling.BILINEAR).save(path)
    return str(path)


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli_main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("method", ["fgsm", "pgd", "pixels"])
def test_saved_picture_is_read_by_classify_as_the_adversarial_digit(
    capsys, tmp_path, digit_file, method
):
    out = tmp_path / f"adv_{method}.png"
    args = ["attack", digit_file, "--model", MODEL, "--method", method]
    code, stdout, err = run(capsys, *args, "--out", str(out), "--json")
    assert code == 0, err
    record = json.loads(stdout)
    assert record["out"] == str(out)
    assert record["adversarial_digit"] != record["digit"]
    assert 0 < record["epsilon"] <= 1 and record["pixels_changed"] > 0
    assert out.exists()
    code, stdout, err = run(capsys, "classify", str(out), "--model", MODEL, "--json")
    assert code == 0, err
    assert json.loads(stdout)["digit"] == record["adversarial_digit"]
    code, stdout, _ = run(capsys, "classify", digit_file, "--model", MODEL, "--json")
    assert json.loads(stdout)["digit"] == record["digit"]


def test_target_and_text_output(capsys, tmp_path, digit_file):
    code, stdout, _ = run(capsys, "attack", digit_file, "--model", MODEL, "--json")
    digit = json.loads(stdout)["digit"]
    target = (digit + 5) % 10
    out = tmp_path / "targeted.png"
    code, stdout, err = run(
        capsys, "attack", digit_file, "--model", MODEL, "--target", str(target), "--out", str(out)
    )
    assert code == 0, err
    assert f"-> {target} (" in stdout and f"saved {out}" in stdout
    code, stdout, _ = run(capsys, "classify", str(out), "--model", MODEL, "--json")
    assert json.loads(stdout)["digit"] == target


def test_without_out_nothing_is_written(capsys, tmp_path, digit_file):
    code, stdout, _ = run(
        capsys, "attack", digit_file, "--model", MODEL, "--json", "--method", "fgsm"
    )
    assert code == 0
    assert json.loads(stdout)["out"] is None


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--target", "12"], "from 0 to 9"),
        (["--method", "cw"], "invalid choice"),
        (["--out", "adv.jpg"], ".png"),
        (["--out", "/no/such/folder/adv.png"], "does not exist"),
    ],
)
def test_mistakes_are_one_error_line_and_exit_2(capsys, digit_file, extra, message):
    code, stdout, err = run(capsys, "attack", digit_file, "--model", MODEL, *extra)
    assert code == 2
    assert stdout == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error:")
    assert message in err


def test_missing_and_blank_pictures(capsys, tmp_path):
    code, _, err = run(capsys, "attack", str(tmp_path / "missing.png"), "--model", MODEL)
    assert code == 2 and err.startswith("error:")
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((64, 64), 255, dtype=np.uint8)).save(blank)
    code, _, err = run(capsys, "attack", str(blank), "--model", MODEL)
    assert code == 2 and err.startswith("error:") and len(err.strip().splitlines()) == 1


def test_listed_in_help(capsys):
    from cli import COMMANDS, build_parser

    assert COMMANDS["attack"][0] == "cli.attack_cmd"
    assert "attack" in build_parser().format_help()


def test_no_flip_found_is_exit_1_with_the_result(capsys, monkeypatch, digit_file):
    import core.inference.attack as attack_module

    monkeypatch.setattr(attack_module, "_pixels", lambda attacker: None)
    code, stdout, err = run(
        capsys, "attack", digit_file, "--model", MODEL, "--method", "pixels", "--json"
    )
    assert code == 1 and err == ""
    record = json.loads(stdout)
    assert record["flipped"] is False
    assert record["adversarial_digit"] == record["digit"] and record["pixels_changed"] == 0
    assert "did not turn" in record["explanation"]
