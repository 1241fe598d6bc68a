"""``python main.py --self-test``: every check passes from source, and a broken part fails in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.selftest import all_checks
from core import selftest

ROOT = Path(__file__).resolve().parents[2]
CHECK_NAMES = [name for name, _check in all_checks()]


@pytest.mark.slow
def test_self_test_passes_from_source(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("DIGIT_LAB_SELF_TEST", None)
    done = subprocess.run(
        [sys.executable, "main.py", "--self-test"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    for name in CHECK_NAMES:
        assert any(line.startswith("PASS") and f" {name} " in line for line in lines), name
    assert lines[-1].startswith("self-test OK")
    # The self-test works in a temporary folder: the user's data folder is never touched.
    assert not any(Path(env["DIGIT_LAB_DATA_DIR"]).iterdir())


def test_a_raising_check_is_one_fail_line():
    def broken() -> str:
        import core.no_such_module  # noqa: F401

        return "unreachable"

    result = selftest.run_check("broken", broken)
    assert not result.passed
    assert result.detail == "ModuleNotFoundError: No module named 'core.no_such_module'"


def test_a_check_that_sees_a_problem_says_only_what():
    def wrong() -> str:
        raise selftest.CheckFailed("loss 1.2345; the seed gives 1.6802\nsecond line")

    result = selftest.run_check("loss", wrong)
    assert (result.passed, result.detail) == (False, "loss 1.2345; the seed gives 1.6802")


def test_exit_code_is_nonzero_when_any_check_fails(capsys):
    assert selftest.run_checks([("good", lambda: "fine"), ("bad", lambda: 1 / 0)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("PASS  good") and out[2].startswith("FAIL  bad")
    assert "ZeroDivisionError: division by zero" in out[2]
    assert out[-1] == "self-test FAILED: 1 of 2 checks (bad)"


def test_all_passing_checks_exit_zero(capsys):
    assert selftest.run_checks([("good", lambda: "fine")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "self-test OK: all 1 checks passed"


def test_checks_can_be_selected_by_name(monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_SELF_TEST", "device, window")
    checks = all_checks()
    assert [name for name, _check in selftest.selected_checks(checks)] == ["window", "device"]
    monkeypatch.setenv("DIGIT_LAB_SELF_TEST", "nonsense")
    assert selftest.selected_checks(checks) == []


def test_the_checks_cover_what_the_issue_asks_for():
    assert CHECK_NAMES == [
        "window",
        "torchvision",
        "loss ce-nll",
        "loss bce-logits",
        "training",
        "default model",
        "device",
    ]


def test_process_age_is_plausible():
    age = selftest.process_age_seconds()
    if sys.platform.startswith("linux"):
        assert age is not None and 0 <= age < 24 * 3600
