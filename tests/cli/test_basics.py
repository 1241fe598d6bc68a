from __future__ import annotations

from tests.helpers import run_main


def test_version():
    from core import __version__

    result = run_main("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"digit-lab {__version__}"


def test_unknown_subcommand_is_one_line_error():
    result = run_main("frobnicate")
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
