"""An exported script travels (issue 23 item 7): a run on the bundled sample writes the sample
beside the script; copied to another folder, the script runs offline with no arguments and prints
its accuracy; learning-rate changes made mid-run become steps in its schedule."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import UserError
from core.training.script_export import SAMPLE_FOLDER, export_script, write_exported
from core.training.train_types import TrainConfig

ACCURACY = re.compile(r"test accuracy (\d+\.\d+)%")


def _offline_env() -> dict[str, str]:
    """No Digit Lab code and no network: every download goes to a closed port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIT_LAB")}
    env["PYTHONPATH"] = ""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        env[name] = "http://127.0.0.1:9"
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    return env


def _run(script: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd,
        env=_offline_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_a_sample_run_copied_elsewhere_runs_offline_with_no_arguments(tmp_path):
    exported = export_script(TrainConfig(dataset="sample", epochs=1, model="mlp"))
    assert exported.travels_with_sample and exported.suggested_name == "train_mlp_sample.py"
    home = tmp_path / "exported"
    home.mkdir()
    message = write_exported(exported, home / exported.suggested_name)
    assert SAMPLE_FOLDER in message and "--data DIR" in message and "full MNIST" in message
    assert (home / SAMPLE_FOLDER / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").exists()

    # the script alone, in another folder, run from a third one
    elsewhere, cwd = tmp_path / "elsewhere", tmp_path / "cwd"
    elsewhere.mkdir()
    cwd.mkdir()
    shutil.copy(home / exported.suggested_name, elsewhere)
    done = _run(elsewhere / exported.suggested_name, cwd)
    assert done.returncode == 0, done.stderr[-3000:]
    assert 50.0 < float(ACCURACY.findall(done.stdout)[-1]) <= 100.0
    assert (cwd / "model.pt").exists()

    # script and sample moved together, the original folder gone
    moved = tmp_path / "moved"
    shutil.move(str(home), str(moved))
    done = _run(moved / exported.suggested_name, cwd)
    assert done.returncode == 0, done.stderr[-3000:]
    assert ACCURACY.findall(done.stdout)


@pytest.mark.slow
def test_offline_without_data_is_one_line_not_a_traceback(tmp_path):
    exported = export_script(TrainConfig(dataset="mnist", epochs=1))
    assert not exported.travels_with_sample
    script = tmp_path / exported.suggested_name
    write_exported(exported, script)
    assert not (tmp_path / SAMPLE_FOLDER).exists()
    done = _run(script, tmp_path, "--data", str(tmp_path / "nothing"))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: no MNIST data in")


def test_lr_changes_become_steps_in_the_schedule():
    config = TrainConfig(dataset="sample", lr=0.01)
    text = export_script(config, lr_changes=[(30, 0.05), (10, 0.02)]).text
    assert "LR_STEPS = [(10, 2.0), (30, 5.0)]" in text
    assert "set_lr_for_step(optimizer, scheduler, (epoch - 1) * len(loader) + batch)" in text
    namespace: dict = {"SETTINGS": {"lr": 0.01}}
    source = text[text.index("LR_STEPS =") : text.index("def sample_folder")]
    exec(compile(source, "script", "exec"), namespace)

    class Optimizer:
        param_groups = [{"lr": 0.0}, {"lr": 0.0}]

    for step, expected in ((0, 0.01), (10, 0.02), (29, 0.02), (30, 0.05)):
        namespace["set_lr_for_step"](Optimizer, None, step)
        assert [g["lr"] for g in Optimizer.param_groups] == pytest.approx([expected] * 2)
    assert "LR_STEPS" not in export_script(config).text


def test_an_unwritable_place_for_the_sample_is_one_sentence(tmp_path):
    exported = export_script(TrainConfig(dataset="sample"))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="could not write the sample"):
        write_exported(exported, blocker / "sub" / "script.py")
