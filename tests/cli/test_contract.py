"""The contract every command keeps: no torch for --help/--version, quiet closed pipes, one
sentence for a full disk, ``error: interrupted`` and 130 for Ctrl+C at any moment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import ROOT

LOSS_ARGS = ["loss", "--pair", "ce-nll", "--prediction", "[[0.1, 2.0, -1.0]]", "--target", "[1]"]


def python_main(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-X", "importtime", str(ROOT / "main.py"), *args],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["frobnicate"]])
def test_help_and_version_do_not_import_torch(args):
    process = python_main(*args, stdout=subprocess.PIPE)
    _out, err = process.communicate(timeout=120)
    imported = [line.split("|")[-1].strip() for line in err.splitlines() if "import time:" in line]
    assert imported, err[-2000:]
    assert not [name for name in imported if name.split(".")[0] == "torch"]


@pytest.mark.parametrize("args", [[*LOSS_ARGS, "--json"], ["loss", "--list-pairs"]])
def test_a_reader_that_closes_the_pipe_ends_the_output_quietly(args):
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written: EPIPE for sure
    try:
        process = python_main(*args, stdout=write_end)
    finally:
        os.close(write_end)
    _out, err = process.communicate(timeout=120)
    messages = [line for line in err.splitlines() if "import time:" not in line]
    assert process.returncode == 0, messages
    assert messages == []


def test_a_full_disk_on_stdout_is_one_sentence():
    with open("/dev/full", "w") as full:
        process = python_main(*LOSS_ARGS, "--json", stdout=full)
        _out, err = process.communicate(timeout=120)
    messages = [line for line in err.splitlines() if "import time:" not in line]
    assert process.returncode == 1
    assert messages == ["error: could not write the output: the disk is full"]


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.2, 1.0, 3.0])
def test_ctrl_c_at_any_moment_is_error_interrupted(tmp_path, delay):
    """Early (still importing torch), later (loading data or training): the same one line."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "train", "--model", "cnn", "--dataset", "sample"]
        + ["--epochs", "50", "--device", "cpu", "--out", str(tmp_path / "m.pt")],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err[-3000:]
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "error: interrupted"
