"""The ``classify`` CLI contract: one result per image in order, errors per image, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cli import main as cli_main
from core.inference.classifier import Classifier
from core.resources import current_model_file
from core.storage.checkpoint import Checkpoint, save_checkpoint
from core.training.models import build_model
from tests.helpers import random_checkpoint

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def digit_files(tmp_path, sample_test_digits):
    """Eight test digits as 200x200 dark-on-light PNGs (as a user would draw or scan them)."""
    images, labels = sample_test_digits
    paths = []
    for i in range(8):
        big = Image.fromarray(255 - images[i]).resize((200, 200), Image.Resampling.BILINEAR)
        path = tmp_path / f"digit{i}_{labels[i]}.png"
        big.save(path)
        paths.append(str(path))
    return paths, labels[:8]


@pytest.fixture
def model_file(tmp_path) -> Path:
    return save_checkpoint(random_checkpoint("mlp", "ce"), tmp_path / "model.pt")


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
    from core.storage.checkpoint import load_checkpoint

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


def test_many_images_stream_in_chunks_without_keeping_steps(
    capsys, tmp_path, sample_test_digits, model_file, monkeypatch
):
    """Memory is bounded by one chunk of 28x28 inputs: no crops kept, batches of CHUNK."""
    import cli.classify_cmd as classify_cmd
    from core.inference import preprocess

    images, _ = sample_test_digits
    paths = []
    for i in range(130):
        path = tmp_path / f"d{i}.png"
        Image.fromarray(images[i]).save(path)
        paths.append(str(path))
    batches, kept_steps = [], []
    real_predict, real_prepare = Classifier.predict_preprocessed, preprocess.canvas_to_input

    def counting_predict(self, items):
        batches.append(len(items))
        return real_predict(self, items)

    def watching_prepare(*args, **kwargs):
        result = real_prepare(*args, **kwargs)
        kept_steps.append(bool(result.steps))
        return result

    monkeypatch.setattr(Classifier, "predict_preprocessed", counting_predict)
    monkeypatch.setattr("core.inference.classifier.canvas_to_input", watching_prepare)
    code, lines, _ = run_cli(capsys, *paths, "--model", str(model_file), "--json")
    assert code == 0 and len(lines) == 130
    assert [json.loads(line)["path"] for line in lines] == paths
    assert max(b for b in batches if b > 1) <= classify_cmd.CHUNK and sum(batches) >= 130
    assert kept_steps and not any(kept_steps)


def test_json_says_whether_it_looks_like_a_digit(capsys, tmp_path, digit_files):
    paths, _ = digit_files
    dot = np.full((280, 280), 255, np.uint8)
    dot[125:155, 125:155] = 0
    Image.fromarray(dot).save(tmp_path / "dot.png")
    code, lines, _ = run_cli(capsys, paths[1], str(tmp_path / "dot.png"), "--json")
    assert code == 0
    digit, not_digit = (json.loads(line) for line in lines)
    assert digit["looks_like_digit"] is True and isinstance(digit["ood_score"], float)
    assert not_digit["looks_like_digit"] is False
    assert not_digit["ood_score"] > digit["ood_score"]
    code, lines, _ = run_cli(capsys, str(tmp_path / "dot.png"))
    assert ": not a digit? (closest: " in lines[0]


def test_blank_and_huge_pictures_are_one_line_each(capsys, tmp_path):
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((3000, 3000), 255, np.uint8)).save(blank)
    code, lines, err = run_cli(capsys, str(blank))
    assert code == 1 and err == ""
    assert lines == [
        f"{blank}: error: no digit found: blank.png is blank: it holds no ink to "
        "classify (every pixel is about the same grey)"
    ]


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
