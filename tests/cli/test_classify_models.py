"""``classify --model A --model B``: every picture read by both models, one line per picture."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from cli import main as cli_main
from core.data.mnist import load_sample
from core.resources import bundled_model_file
from core.storage.checkpoint import Checkpoint, save_checkpoint
from core.training.models import build_model

CNN = str(bundled_model_file())


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("two")
    data = load_sample()
    paths = []
    for i in range(3):
        path = folder / f"d{i}.png"
        Image.fromarray(255 - data.test_images.numpy()[i]).resize((140, 140)).save(path)
        paths.append(str(path))
    torch.manual_seed(0)
    mlp = Checkpoint.from_model(build_model("mlp", "ce"), "mlp", "ce", dataset="test")
    return paths, str(save_checkpoint(mlp, folder / "mlp.pt"))


def run(capsys, *args: str) -> tuple[int, list[str]]:
    code = cli_main(["classify", *args])
    return code, capsys.readouterr().out.splitlines()


def single(capsys, path: str, model: str) -> dict:
    code, lines = run(capsys, path, "--model", model, "--json")
    assert code == 0
    return json.loads(lines[0])


def test_both_answers_per_picture(capsys, files):
    paths, mlp = files
    code, lines = run(capsys, *paths, "--model", CNN, "--model", mlp, "--json")
    assert code == 0
    records = [json.loads(line) for line in lines]
    assert [r["path"] for r in records] == paths
    for record in records:
        first, second = record["models"]
        assert first["model"] == CNN and second["model"] == mlp
        for entry, model in ((first, CNN), (second, mlp)):
            alone = single(capsys, record["path"], model)
            assert entry["digit"] == alone["digit"]
            assert entry["probabilities"] == pytest.approx(alone["probabilities"], abs=1e-5)
        assert record["agree"] == (first["digit"] == second["digit"])


def test_single_model_output_unchanged(capsys, files):
    paths, _ = files
    record = single(capsys, paths[0], CNN)
    assert "models" not in record and "agree" not in record
    assert {"path", "digit", "class_name", "confidence", "probabilities"} <= set(record)


def test_text_and_errors(capsys, files, tmp_path):
    paths, mlp = files
    missing = str(tmp_path / "missing.png")
    code, lines = run(capsys, paths[0], missing, "--model", CNN, "--model", mlp)
    assert code == 1
    assert lines[0].startswith(f"{paths[0]}: {CNN}: ") and " | " in lines[0]
    assert lines[0].endswith("(agree)") or lines[0].endswith("(disagree)")
    assert lines[1].startswith(f"{missing}: error:")
