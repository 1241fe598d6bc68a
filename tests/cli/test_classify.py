"""The ``classify`` CLI contract: one result per image in order, errors per image, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cli import main as cli_main
from core.checkpoint import Checkpoint, save_checkpoint
from core.data import load_sample
from core.inference import Classifier
from core.models import build_model
from core.resources import current_model_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sample():
    data = load_sample()
    return data.test_images.numpy(), data.test_labels.numpy()


@pytest.fixture
def digit_files(tmp_path, sample):
    """Eight test digits as 200x200 dark-on-light PNGs (as a user would draw or scan them)."""
    images, labels = sample
    paths = []
    for i in range(8):
        big = Image.fromarray(255 - images[i]).resize((200, 200), Image.Resampling.BILINEAR)
        path = tmp_path / f"digit{i}_{labels[i]}.png"
        big.save(path)
        paths.append(str(path))
    return paths, labels[:8]


@pytest.fixture
def model_file(tmp_path) -> Path:
    torch.manual_seed(0)
    checkpoint = Checkpoint.from_model(build_model("mlp", "ce"), "mlp", "ce", dataset="test")
    return save_checkpoint(checkpoint, tmp_path / "model.pt")


def run_cli(capsys, *args: str) -> tuple[int, list[str], str]:
    code = cli_main(["classify", *args])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def test_json_one_line_per_image_in_order(capsys, digit_files, model_file):
    paths, _ = digit_files
    code, lines, err = run_cli(capsys, *paths, "--model", str(model_file), "--json")
    assert code == 0, err
    records = [json.loads(line) for line in lines]
    assert [r["path"] for r in records] == paths
    for record in records:
        assert len(record["probabilities"]) == 10
        assert sum(record["probabilities"]) == pytest.approx(1.0, abs=1e-4)
        assert record["digit"] == int(np.argmax(record["probabilities"]))
        assert record["confidence"] == pytest.approx(max(record["probabilities"]))


def test_bad_image_is_reported_and_the_rest_still_classified(capsys, digit_files, model_file):
    paths, _ = digit_files
    bad = Path(paths[0]).parent / "broken.png"
    bad.write_bytes(b"this is not a picture")
    blank = Path(paths[0]).parent / "blank.png"
    Image.new("L", (100, 100), 255).save(blank)
    order = [paths[0], str(bad), paths[1], str(Path(paths[0]).parent / "missing.png"), str(blank)]
    code, lines, _ = run_cli(capsys, *order, "--model", str(model_file), "--json")
    assert code == 1
    records = [json.loads(line) for line in lines]
    assert [r["path"] for r in records] == order
    assert "digit" in records[0] and "digit" in records[2]
    assert "broken.png" in records[1]["error"]
    assert "does not exist" in records[3]["error"]
    assert "blank" in records[4]["error"]


def test_text_output_one_line_per_image(capsys, digit_files, model_file):
    paths, _ = digit_files
    code, lines, _ = run_cli(capsys, paths[0], "nope.png", paths[1], "--model", str(model_file))
    assert code == 1
    assert len(lines) == 3
    assert lines[0].startswith(f"{paths[0]}: ")
    assert lines[1].startswith("nope.png: error: ")
    assert lines[2].startswith(f"{paths[1]}: ")


@pytest.mark.parametrize("content", [None, b"garbage", b""])
def test_bad_model_is_an_error_line(capsys, digit_files, tmp_path, content):
    path = tmp_path / "model.pt"
    if content is not None:
        path.write_bytes(content)
    code, lines, err = run_cli(capsys, digit_files[0][0], "--model", str(path))
    assert code != 0 and not lines
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_without_model_uses_the_apps_current_model(capsys, digit_files, model_file):
    paths, _ = digit_files
    save_checkpoint(
        Checkpoint.from_model(build_model("mlp", "ce"), "mlp", "ce"), current_model_file()
    )
    from core.checkpoint import load_checkpoint

    expected = Classifier(load_checkpoint(current_model_file())).predict(
        [np.asarray(Image.open(p)) for p in paths[:2]]
    )
    code, lines, _ = run_cli(capsys, *paths[:2], "--json")
    assert code == 0
    for line, prediction in zip(lines, expected, strict=True):
        np.testing.assert_allclose(
            json.loads(line)["probabilities"], prediction.probabilities, atol=1e-5
        )


def test_bundled_model_reads_the_digits(capsys, digit_files):
    paths, labels = digit_files
    code, lines, _ = run_cli(capsys, *paths, "--json")
    assert code == 0
    digits = [json.loads(line)["digit"] for line in lines]
    assert sum(int(d == y) for d, y in zip(digits, labels, strict=True)) >= 7


def test_hundreds_of_images_are_quick(capsys, tmp_path, sample, model_file):
    images, _ = sample
    paths = []
    for i in range(300):
        path = tmp_path / f"d{i}.png"
        Image.fromarray(images[i]).save(path)
        paths.append(str(path))
    started = time.perf_counter()
    code, lines, _ = run_cli(capsys, *paths, "--model", str(model_file), "--json")
    elapsed = time.perf_counter() - started
    assert code == 0 and len(lines) == 300
    assert elapsed < 10, f"300 images took {elapsed:.1f} s"


def test_through_main_py(digit_files):
    paths, _ = digit_files
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "classify", paths[0], "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["path"] == paths[0]
