"""The ``inspect`` CLI contract: per-layer records, the JSON last line, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from cli import main as cli_main
from core.inference.classifier import Classifier
from core.inspection.activations import inspect_tensor
from core.resources import bundled_model_file
from core.storage.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from core.training.models import MODELS, build_model
from tests.helpers import random_checkpoint, run_main


@pytest.fixture
def digit_file(tmp_path, sample_test_digits):
    """A test digit as a 200x200 dark-on-light PNG, as a user would draw it."""
    images, labels = sample_test_digits
    path = tmp_path / f"digit_{labels[0]}.png"
    Image.fromarray(255 - images[0]).resize((200, 200), Image.Resampling.BILINEAR).save(path)
    return path, int(labels[0])


@pytest.fixture
def mlp_file(tmp_path):
    return save_checkpoint(random_checkpoint("mlp", "ce"), tmp_path / "mlp.pt")


def run_cli(capsys, *args: str) -> tuple[int, list[str], str]:
    code = cli_main(["inspect", *args])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def test_json_last_line_describes_every_layer_of_the_bundled_model(capsys, digit_file):
    path, label = digit_file
    checkpoint = load_checkpoint(bundled_model_file())
    code, lines, err = run_cli(capsys, str(path), "--model", str(bundled_model_file()), "--json")
    assert code == 0, err
    record = json.loads(lines[-1])
    assert record["digit"] == label  # the bundled model reads a clean test digit
    stages = MODELS[checkpoint.model_name].stages
    assert [layer["name"] for layer in record["layers"]] == [s.name for s in stages]
    for layer in record["layers"]:
        assert set(layer) == {"name", "kind", "shape", "active_fraction", "top_units"}
        values = [unit["value"] for unit in layer["top_units"]]
        assert values == sorted(values, reverse=True)
    logits = record["layers"][-1]
    assert logits["kind"] == "logits" and logits["shape"] == [10]
    assert logits["active_fraction"] is None and logits["top_units"][0]["index"] == label


def test_small_cnn_layers_and_shapes(capsys, digit_file, tmp_path):
    torch.manual_seed(0)
    cnn = save_checkpoint(
        Checkpoint.from_model(build_model("cnn"), "cnn", "nll", dataset="test"), tmp_path / "c.pt"
    )
    code, lines, err = run_cli(capsys, str(digit_file[0]), "--model", str(cnn), "--json")
    assert code == 0, err
    layers = json.loads(lines[-1])["layers"]
    shapes = {layer["name"]: layer["shape"] for layer in layers}
    assert shapes == {
        "conv1_maps": [16, 28, 28],
        "conv1": [16, 14, 14],
        "conv2": [32, 7, 7],
        "fc1": [128],
        "logits": [10],
    }
    active = {layer["name"]: layer["active_fraction"] for layer in layers}
    assert active["conv1_maps"] is None and 0 <= active["conv1"] <= 1


def test_json_agrees_with_the_engine_for_an_mlp(capsys, digit_file, mlp_file):
    path, _ = digit_file
    code, lines, _ = run_cli(capsys, str(path), "--model", str(mlp_file), "--json")
    assert code == 0
    record = json.loads(lines[-1])
    classifier = Classifier(load_checkpoint(mlp_file))
    item = classifier.preprocess(np.asarray(Image.open(path)))
    expected = inspect_tensor(classifier.model, "mlp", item.tensor).to_json()
    assert record["digit"] == expected["digit"]
    for got, want in zip(record["layers"], expected["layers"], strict=True):
        assert got["name"] == want["name"] and got["shape"] == want["shape"]
        assert got["active_fraction"] == pytest.approx(want["active_fraction"])
        assert [u["index"] for u in got["top_units"]] == [u["index"] for u in want["top_units"]]


def test_text_output_has_one_line_per_layer(capsys, digit_file, mlp_file):
    path, _ = digit_file
    code, lines, _ = run_cli(capsys, str(path), "--model", str(mlp_file))
    assert code == 0
    assert lines[0].startswith("answer: ")
    assert [line.split()[0] for line in lines[2:]] == ["fc1", "fc2", "logits"]


@pytest.mark.parametrize("kind", ["missing", "garbage", "blank"])
def test_bad_picture_is_one_error_line_exit_2(capsys, tmp_path, kind):
    path = tmp_path / "picture.png"
    if kind == "garbage":
        path.write_bytes(b"not a picture")
    elif kind == "blank":
        Image.new("L", (64, 64), 255).save(path)
    code, lines, err = run_cli(capsys, str(path))
    assert code == 2 and not lines
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    if kind == "blank":
        assert "blank" in err


def test_bad_model_file_is_one_error_line(capsys, digit_file, tmp_path):
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"garbage")
    code, lines, err = run_cli(capsys, str(digit_file[0]), "--model", str(bad))
    assert code == 2 and not lines and err.startswith("error: ")


def test_end_to_end_as_a_user_runs_it(digit_file):
    result = run_main("inspect", str(digit_file[0]), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["layers"]


def test_a_dot_is_not_a_digit_as_classify_says(capsys, tmp_path, digit_file):
    """One verdict everywhere: ``inspect --json`` carries ``looks_like_digit`` and ``ood_score``
    exactly as ``classify`` does, and the text output says "not a digit?"."""
    dot = np.full((280, 280), 255, np.uint8)
    dot[125:155, 125:155] = 0
    Image.fromarray(dot).save(tmp_path / "dot.png")
    model = str(bundled_model_file())
    for path, expected in ((tmp_path / "dot.png", False), (digit_file[0], True)):
        code, lines, err = run_cli(capsys, str(path), "--model", model, "--json")
        assert code == 0, err
        inspected = json.loads(lines[-1])
        assert cli_main(["classify", str(path), "--model", model, "--json"]) == 0
        classified = json.loads(capsys.readouterr().out.splitlines()[-1])
        assert inspected["looks_like_digit"] is classified["looks_like_digit"] is expected
        assert inspected["ood_score"] == pytest.approx(classified["ood_score"], abs=1e-3)
        np.testing.assert_allclose(
            inspected["probabilities"], classified["probabilities"], atol=2e-6
        )
    code, lines, _ = run_cli(capsys, str(tmp_path / "dot.png"), "--model", model)
    assert code == 0 and lines[0].startswith("answer: not a digit? (closest: ")
