"""One writer for stdout and stderr: closed, strict or full streams never end a command with a
traceback (issue 24, classes 10 and 13)."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from cli.output import GuardedStream, printable, run_guarded
from tests.helpers import ROOT


class Strict(io.StringIO):
    encoding = "utf-8"

    def write(self, text: str) -> int:
        text.encode("utf-8")  # strict: lone surrogates raise UnicodeEncodeError
        return super().write(text)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (os.fsdecode(b"\xff.png"), "\\xff.png"),
        ("\ud800 alone", "\\ud800 alone"),
        ("caf\u00e9", "caf\u00e9"),
    ],
)
def test_unencodable_text_is_written_escaped(text, shown):
    stream = Strict()
    guarded = GuardedStream(stream)
    guarded.write(f"{text}\n")
    assert stream.getvalue() == f"{shown}\n" and not guarded.failed


def test_an_ascii_stream_gets_escapes():
    assert printable("caf\u00e9 \udcff", "ascii") == "caf\\xe9 \\xff"


def test_a_stream_closed_at_start_is_recorded_not_raised():
    guarded = GuardedStream(None)
    guarded.write("x")
    guarded.flush()
    assert guarded.failed and "closed" in guarded.problem() and not guarded.isatty()


def test_a_stream_closed_under_us_is_recorded():
    stream = io.StringIO()
    guarded = GuardedStream(stream)
    stream.close()
    guarded.write("x")
    assert guarded.failed and guarded.problem()


def test_run_guarded_restores_the_streams_and_reports_a_closed_stdout(monkeypatch):
    failures = []
    monkeypatch.setattr(sys, "stdout", None)
    code = run_guarded(
        lambda: print("lost") or 0, lambda text, code: failures.append(text) or code, 1
    )
    assert code == 1 and "standard output is closed" in failures[0]
    assert sys.stdout is None


def _main(args: list, redirect: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    quoted = " ".join(
        "'" + (os.fsdecode(a) if isinstance(a, bytes) else a).replace("'", "'\\''") + "'"
        for a in [sys.executable, str(ROOT / "main.py"), *args]
    )
    return subprocess.run(
        ["bash", "-c", f"exec {quoted} {redirect}".encode("utf-8", "surrogateescape")],
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_list_pairs_with_stdout_closed_says_so_in_one_line():
    done = _main(["loss", "--list-pairs"], ">&-")
    err = done.stderr.decode()
    assert done.returncode == 1 and "Traceback" not in err
    assert err.strip() == "error: could not write the output: standard output is closed"


@pytest.mark.parametrize("redirect", ["2>&-", "2>&- >&-", "2>/dev/full"])
def test_a_closed_or_full_stderr_never_stops_a_command(redirect):
    done = _main(["loss", "--list-pairs"], redirect)
    assert done.returncode in (0, 1) and b"Traceback" not in done.stderr
    if ">&-" not in redirect:
        assert b"ce-nll" in done.stdout and done.returncode == 0


@pytest.mark.parametrize("encoding", ["utf-8:strict", "ascii:strict", "latin-1:strict"])
def test_a_file_name_that_is_not_utf8_on_a_strict_stream(tmp_path, encoding):
    missing = os.fsencode(tmp_path) + b"/\xff.png"
    done = _main(["classify", missing], env={"PYTHONIOENCODING": encoding})
    assert done.returncode == 1 and b"Traceback" not in done.stderr
    assert b"\\xff.png" in done.stdout
