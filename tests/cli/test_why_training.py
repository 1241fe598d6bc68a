"""``landscape`` and ``lr-find``: their JSON contracts and one-line errors."""

from __future__ import annotations

import json

import pytest

from cli import main as cli_main
from core.data.mnist import load_sample
from core.storage.checkpoint import save_checkpoint
from core.training.train_types import TrainConfig
from core.training.trainer import Trainer


@pytest.fixture(scope="module")
def mlp_file(tmp_path_factory):
    """The seed MLP trained 3 epochs on the sample (the issue's case)."""
    config = TrainConfig(epochs=3, dataset="sample", report_every=50)
    result = Trainer(config, data=load_sample(), finalize=None).run().result
    return save_checkpoint(result.checkpoint, tmp_path_factory.mktemp("m") / "mlp.pt")


def _json(capsys, *args: str) -> tuple[int, dict | None, str]:
    code = cli_main(list(args))
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    return code, (json.loads(lines[-1]) if code == 0 else None), captured.err


def test_landscape_of_the_seed_mlp(capsys, mlp_file):
    code, record, err = _json(
        capsys, "landscape", "--model", str(mlp_file), "--dataset", "sample", "--json"
    )
    assert code == 0, err
    line = record["line"]
    alphas = [a for a, _ in line]
    assert len(line) >= 21 and 0.0 in alphas and 1.0 in alphas and max(alphas) >= 1.5
    lowest = min(line, key=lambda point: point[1])[0]
    assert 0.8 <= lowest <= 1.2  # the line's minimum is near the trained weights
    grid = record["grid"]
    assert grid["size"] == 11 and len(grid["loss"]) == 11 and len(grid["loss"][0]) == 11
    assert grid["loss"][5][5] == grid["centre_loss"]
    assert grid["centre_loss"] <= 1.05 * grid["min_loss"]
    assert "seed 1" in record["init"]
    again = _json(capsys, "landscape", "--model", str(mlp_file), "--dataset", "sample", "--json")
    assert again[1]["grid"]["loss"] == grid["loss"]


def test_landscape_errors_are_one_line(capsys, mlp_file, tmp_path):
    assert cli_main(["landscape", "--model", str(mlp_file), "--grid", "4"]) == 2
    assert "odd" in capsys.readouterr().err
    assert cli_main(["landscape", "--model", str(tmp_path / "none.pt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_lr_find_json(capsys):
    code, record, err = _json(capsys, "lr-find", "--dataset", "sample", "--json")
    assert code == 0, err
    assert record["points"] >= 50 and record["decades"] >= 4
    lrs = [lr for lr, _ in record["curve"]]
    assert lrs[0] <= record["suggested_lr"] <= lrs[-1]
    assert record["suggested_lr"] == pytest.approx(record["minimum_lr"] / 10)


def test_lr_find_refuses_bad_options(capsys):
    assert cli_main(["lr-find", "--iterations", "3"]) == 2
    assert capsys.readouterr().err.startswith("error: ")
