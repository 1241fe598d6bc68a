"""Export a run as a standalone script: it compiles, lints, trains like the engine, and scales out
with torchrun; its checkpoint loads in the app."""

from __future__ import annotations

import json
import os
import py_compile
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.data.mnist import load_sample
from core.errors import UserError
from core.resources import sample_data_dir
from core.storage.checkpoint import load_checkpoint
from core.training.script_export import export_script
from core.training.train_types import TrainConfig
from core.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[3]
ACCURACY = re.compile(r"test accuracy (\d+\.\d+)%")


@pytest.fixture(scope="module")
def sample_folder(tmp_path_factory) -> Path:
    """A copy of the bundled sample in torchvision's layout (the script extracts it there)."""
    folder = tmp_path_factory.mktemp("data")
    shutil.copytree(sample_data_dir(), folder, dirs_exist_ok=True)
    return folder


def write(config: TrainConfig, folder: Path) -> Path:
    path = folder / export_script(config).suggested_name
    path.write_text(export_script(config, origin="a test run").text)
    return path


def run_script(command: list[str], cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIT_LAB")}
    env["PYTHONPATH"] = ""  # the script must not need Digit Lab's code
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_exported_script_compiles_and_lints_clean(tmp_path, model):
    for schedule in ("constant", "onecycle"):
        for optimizer in ("sgd", "adam"):
            config = TrainConfig(model=model, schedule=schedule, optimizer=optimizer, loss="ce")
            path = write(config, tmp_path)
            py_compile.compile(str(path), doraise=True)
            lint = subprocess.run(
                [sys.executable, "-m", "ruff", "check", "--isolated", str(path)],
                capture_output=True,
                text=True,
                check=False,
            )
            assert lint.returncode == 0, lint.stdout
            text = path.read_text()
            assert "import core" not in text and "from core" not in text
            assert f"lr={config.lr!r}" in text and "DistributedSampler" in text


AUGMENTED = {"augment": True, "schedule": "onecycle", "optimizer": "adam", "lr": 0.002}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model", "extra"), [("mlp", {}), ("cnn", {}), ("mlp", AUGMENTED)], ids=["mlp", "cnn", "aug"]
)
def test_script_trains_like_the_engine(tmp_path, sample_folder, model, extra):
    config = TrainConfig(model=model, epochs=1, dataset="sample", device="cpu", seed=1, **extra)
    engine = Trainer(config, data=load_sample()).run()
    assert engine.status == "finished"
    engine_accuracy = engine.result.evaluation.accuracy * 100
    script = write(config, tmp_path)
    out = tmp_path / "model.pt"
    stdout = run_script(
        [sys.executable, str(script), "--data", str(sample_folder), "--out", str(out)], tmp_path
    )
    script_accuracy = float(ACCURACY.findall(stdout)[-1])
    assert abs(script_accuracy - engine_accuracy) <= 2.0, (script_accuracy, engine_accuracy)
    checkpoint = load_checkpoint(out)
    assert checkpoint.model_name == model
    assert checkpoint.test_accuracy == pytest.approx(script_accuracy / 100, abs=1e-4)


@pytest.mark.slow
def test_script_runs_under_torchrun_with_two_cpu_processes(tmp_path, sample_folder):
    script = write(TrainConfig(model="mlp", epochs=1, dataset="sample"), tmp_path)
    out = tmp_path / "ddp.pt"
    stdout = run_script(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
        + [str(script), "--data", str(sample_folder), "--out", str(out)],
        tmp_path,
    )
    assert len(ACCURACY.findall(stdout)) == 1  # rank 0 logs, rank 1 stays quiet
    checkpoint = load_checkpoint(out)
    assert checkpoint.model_name == "mlp" and checkpoint.config["epochs"] == 1
    assert json.dumps(checkpoint.metrics)


def test_export_script_command_takes_the_train_options(tmp_path):
    from tests.helpers import run_main

    out = tmp_path / "my_run"
    done = run_main(
        "export-script", "--model", "cnn", "--optimizer", "adam", "--lr", "0.002",
        "--epochs", "3", "--schedule", "onecycle", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "my_run.py").read_text()
    assert "class SmallCNN" in text and "torch.optim.Adam(model.parameters(), lr=0.002)" in text
    assert "OneCycleLR" in text and "'epochs': 3" in text
    bad = run_main("export-script", "--epochs", "0", "--out", str(tmp_path / "x.py"))
    assert bad.returncode == 2 and bad.stderr.startswith("error: ")
    assert len(bad.stderr.strip().splitlines()) == 1


def test_a_fashion_mnist_run_exports_torchvisions_fashion_mnist(tmp_path):
    config = TrainConfig(model="cnn", dataset="fashion-mnist", epochs=1)
    exported = export_script(config)
    assert "datasets.FashionMNIST(root, train=train, download=download)" in exported.text
    assert "DIR/FashionMNIST/raw" in exported.text and "Xiao" in exported.text
    assert exported.suggested_name == "train_cnn_fashionmnist.py"
    path = write(config, tmp_path)
    py_compile.compile(str(path), doraise=True)
    assert "datasets.KMNIST(" in export_script(TrainConfig(dataset="kmnist")).text
    with pytest.raises(UserError, match="'folder' dataset cannot be exported"):
        export_script(TrainConfig(dataset="folder", data_dir=str(tmp_path)))


@pytest.mark.slow
def test_the_fashion_script_trains_on_a_local_folder_and_names_its_classes(tmp_path):
    from core.data.datasets import FASHION_MNIST, checkpoint_class_names
    from core.data.mnist import write_idx_dataset
    from tests.helpers import synthetic

    write_idx_dataset(tmp_path / "data", *synthetic(200, 50), dataset="fashion-mnist")
    script = write(TrainConfig(model="mlp", epochs=1, dataset="fashion-mnist"), tmp_path)
    out = tmp_path / "fashion.pt"
    stdout = run_script(
        [sys.executable, str(script), "--data", str(tmp_path / "data"), "--out", str(out)],
        tmp_path,
    )
    assert ACCURACY.findall(stdout)  # no download: the local folder was read
    assert checkpoint_class_names(load_checkpoint(out)) == FASHION_MNIST.class_names
