"""`train` and `evaluate` CLI, end to end: the contract other checks rely on."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from cli import main as cli_main
from core.training.train_types import TrainConfig
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
    from core.storage.model_library import ModelLibrary

    (kept,) = ModelLibrary().entries()  # listed in the app's Models view, not made current
    assert kept.model_kind == "mlp" and ModelLibrary().current_id() is None


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


def test_options_come_from_the_settings_table(capsys):
    from core.training.train_settings import SETTINGS

    with pytest.raises(SystemExit):
        cli_main(["train", "--help"])
    text = capsys.readouterr().out
    for row in SETTINGS.values():
        if row.cli_flag:
            assert row.cli_flag in text


def test_a_preset_sets_a_group_and_options_given_win():
    import argparse

    from cli.train_cmd import config_from_args

    config = config_from_args(argparse.Namespace(preset="speedrun", epochs=1))
    assert (config.optimizer, config.schedule, config.batch_size, config.epochs) == (
        "adam",
        "onecycle",
        512,
        1,
    )
    assert config.preset == "speedrun"
    assert config_from_args(argparse.Namespace()) == TrainConfig()


def test_speedrun_on_the_cpu_runs_and_says_it_is_slow(tmp_path, capsys):
    out = tmp_path / "fast.pt"
    args = ["train", "--preset", "speedrun", "--epochs", "1", "--dataset", "sample"]
    code = cli_main([*args, "--device", "cpu", "--out", str(out), "--json"])
    assert code == 0
    stdout = capsys.readouterr().out
    assert "note: the speedrun preset is tuned for a GPU" in stdout and "slowly" in stdout
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert (summary["preset"], summary["schedule"], summary["batch_size"]) == (
        "speedrun",
        "onecycle",
        512,
    )
    assert out.is_file()


def test_cpu_speedrun_reports_its_seconds_apart_and_its_flops(tmp_path, capsys):
    out = tmp_path / "fast.pt"
    args = ["train", "--preset", "cpu-speedrun", "--dataset", "sample", "--device", "cpu"]
    assert cli_main([*args, "--out", str(out), "--json"]) == 0
    stdout = capsys.readouterr().out
    assert "note:" not in stdout  # made for the CPU: nothing to warn about
    assert "model: cnn-fast, 1.59 MFLOP a digit" in stdout
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert (summary["model"], summary["epochs"], summary["label_smoothing"]) == ("cnn-fast", 2, 0.1)
    assert summary["flops_per_digit"] == 1_589_760
    # seconds: training steps and evaluations; set-up (with decoding) and the end apart
    assert 0 < summary["eval_seconds"] < summary["seconds"]
    assert summary["setup_seconds"] >= summary["decode_seconds"] > 0
    assert summary["finish_seconds"] > 0
    reached = summary["test_accuracy"] >= 0.99
    assert (summary["seconds_to_99"] is not None) == reached
    assert out.is_file()


def test_an_unwritable_out_is_refused_before_training(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = cli_main(["train", "--dataset", "sample", "--out", str(blocker / "m.pt")])
    assert code == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: cannot write --out")
    assert "epoch" not in captured.out  # nothing was trained
    code = cli_main(["train", "--dataset", "sample", "--out", str(tmp_path / ("m" * 300))])
    assert code == 2
    assert "too long" in capsys.readouterr().err


def test_a_failed_save_keeps_the_model_and_says_where(tmp_path, monkeypatch, capsys):
    from core.errors import CheckpointError
    from core.storage import checkpoint as checkpoint_module

    real_save = checkpoint_module.save_checkpoint
    target = tmp_path / "m.pt"

    def full_disk_at_target(checkpoint, path):
        if Path(path) == target:
            raise CheckpointError(f"could not write the model file {path}: the disk is full")
        return real_save(checkpoint, path)

    monkeypatch.setattr(checkpoint_module, "save_checkpoint", full_disk_at_target)
    code = cli_main(["train", "--dataset", "sample", "--epochs", "1", "--out", str(target)])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: could not write the model file") and "disk is full" in err
    kept = Path(err.rsplit("kept at ", 1)[1])
    assert kept.is_file() and kept != target
    assert checkpoint_module.load_checkpoint(kept).model_name == "mlp"


def test_train_into_a_closed_pipe_still_saves_the_model(tmp_path):
    import subprocess
    import sys

    from tests.helpers import ROOT

    out = tmp_path / "piped.pt"
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "train", "--dataset", "sample", "--epochs", "2"]
        + ["--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    first = process.stdout.readline()  # what `| head -1` reads, then it goes away
    process.stdout.close()
    _, err = process.communicate(timeout=300)
    assert first.startswith(b"data: ")
    assert b"Traceback" not in err and b"BrokenPipe" not in err
    assert out.is_file()  # the trained model was saved whatever happened to stdout


@pytest.mark.parametrize("kind", ["long", "file", "locked"])
def test_bad_data_folders_are_one_line_errors(tmp_path, kind, capsys):
    if kind == "long":
        folder = tmp_path / ("d" * 300)
    elif kind == "file":
        folder = tmp_path / "file"
        folder.write_text("x")
    else:
        if os.geteuid() == 0:
            pytest.skip("root reads any folder")
        folder = tmp_path / "locked"
        folder.mkdir(mode=0)
    assert cli_main(["train", "--data-dir", str(folder), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert {"long": "too long", "file": "not a folder", "locked": "permission denied"}[kind] in err


def test_evaluate_reports_calibration(tmp_path, capsys):
    out = tmp_path / "m.pt"
    assert cli_main(["train", "--dataset", "sample", "--epochs", "1", "--out", str(out)]) == 0
    capsys.readouterr()
    assert cli_main(["evaluate", "--model", str(out), "--dataset", "sample", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0 <= summary["ece"] <= 1 and summary["temperature"] != 1.0
