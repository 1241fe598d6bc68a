"""`train` and `evaluate` CLI, end to end: the contract other checks rely on."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from cli import main as cli_main
from tests.helpers import run_main

TRAIN_KEYS = {
    "model",
    "dataset",
    "device",
    "train_samples",
    "test_samples",
    "epochs",
    "test_accuracy",
    "test_loss",
    "seconds",
    "samples_per_second",
    "checkpoint",
}


def test_train_then_evaluate_with_json(tmp_path):
    out = tmp_path / "mlp.pt"
    trained = run_main(
        "train",
        "--dataset",
        "sample",
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--out",
        str(out),
        "--json",
    )
    assert trained.returncode == 0, trained.stderr
    lines = trained.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary.keys() >= TRAIN_KEYS
    assert summary["model"] == "mlp" and summary["dataset"] == "sample"
    assert summary["device"] == "cpu" and summary["epochs"] == 1
    # 400 of the sample's 4,000 training digits are held out for calibration.
    assert (summary["train_samples"], summary["test_samples"]) == (3600, 1000)
    assert 0.5 < summary["test_accuracy"] <= 1
    assert summary["samples_per_second"] > 0 and summary["seconds"] > 0
    assert Path(summary["checkpoint"]) == out.resolve() and out.is_file()
    assert any(line.startswith("epoch 1/1:") for line in lines)  # one line per epoch
    assert "Traceback" not in trained.stderr

    evaluated = run_main("evaluate", "--model", str(out), "--dataset", "sample", "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    result = json.loads(evaluated.stdout.strip().splitlines()[-1])
    assert result["test_accuracy"] == pytest.approx(summary["test_accuracy"])
    assert result["test_loss"] == pytest.approx(summary["test_loss"], rel=1e-5)
    assert len(result["confusion"]) == 10 and sum(map(sum, result["confusion"])) == 1000
    assert "confusion matrix" in evaluated.stdout and "per-class accuracy" in evaluated.stdout


def test_defaults_are_the_seeds_and_out_goes_to_the_user_data_dir(isolated_user_dirs, capsys):
    code = cli_main(["train", "--dataset", "auto", "--epochs", "1", "--json"])
    assert code == 0
    stdout = capsys.readouterr().out
    assert "bundled MNIST sample" in stdout and "full MNIST not found" in stdout
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert (summary["model"], summary["batch_size"], summary["optimizer"]) == ("mlp", 64, "sgd")
    assert (summary["lr"], summary["momentum"]) == (0.01, 0.9)
    checkpoint = Path(summary["checkpoint"])
    assert checkpoint.parent == isolated_user_dirs / "models" and checkpoint.is_file()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["train", "--epochs", "0"], "epochs"),
        (["train", "--model", "resnet"], "invalid choice"),
        (["train", "--lr", "abc"], "invalid float"),
        (["train", "--dataset", "mnist", "--data-dir", "/nonexistent/x"], "full MNIST is not in"),
        (["evaluate"], "--model"),
        (["evaluate", "--model", "/nonexistent/model.pt"], "does not exist"),
    ],
)
def test_bad_arguments_are_one_line_errors(args, fragment, capsys):
    assert cli_main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and fragment in err
    assert len(err.strip().splitlines()) == 1


def test_a_hostile_model_file_is_an_error_not_a_traceback(tmp_path):
    marker = tmp_path / "pwned"

    class Hostile:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    torch.save({"x": Hostile()}, tmp_path / "evil.pt")
    result = run_main("evaluate", "--model", str(tmp_path / "evil.pt"), "--dataset", "sample")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert not marker.exists()
