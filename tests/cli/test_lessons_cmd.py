"""``main.py lessons``: --list [--json], --template, --validate; damaged files never stop the list."""

from __future__ import annotations

import json

import pytest

from cli import main as cli_main
from core.lessons.loader import bundled_dir
from tests.helpers import run_main

BUNDLED_IDS = sorted(path.stem for path in bundled_dir().glob("*.toml"))


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli_main(["lessons", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_json_one_object_per_line(capsys):
    code, out, err = _run(capsys, "--list", "--json")
    assert code == 0 and err == ""
    records = [json.loads(line) for line in out.splitlines()]
    assert [record["id"] for record in records] == BUNDLED_IDS
    first = records[0]
    assert set(first) == {"id", "title", "checks", "source", "path"}
    assert first["title"] == "The seed's two losses" and first["checks"] >= 2
    assert all(record["source"] == "bundled" for record in records)


def test_a_teachers_file_is_listed_and_a_damaged_one_warns(capsys, isolated_user_dirs):
    folder = isolated_user_dirs / "lessons"
    folder.mkdir()
    code, template, _ = _run(capsys, "--template")
    (folder / "zz-mine.toml").write_text(
        template.replace("Cross-entropy is NLL", "Mine: CE is NLL")
    )
    (folder / "zz-broken.toml").write_text(
        'title = "x"\ntext = "y"\nexplanation = "z"\nsteps = 3\n'
    )
    code, out, err = _run(capsys, "--list", "--json")
    assert code == 0
    mine = [json.loads(line) for line in out.splitlines() if "zz-mine" in line]
    assert mine and mine[0]["source"] == "yours" and mine[0]["checks"] == 3
    assert mine[0]["title"].startswith("Mine: CE is NLL")
    assert err.splitlines() == [
        f"warning: {folder / 'zz-broken.toml'}:4: the lesson has no steps; add at least one "
        "[[steps]] with a check"
    ]
    code, out, _ = _run(capsys)  # --list is the default; plain lines
    assert code == 0 and "zz-mine" in out and "(3 checks, yours)" in out


def test_yours_replaces_a_bundled_lesson_with_a_note(capsys, isolated_user_dirs):
    folder = isolated_user_dirs / "lessons"
    folder.mkdir()
    _, template, _ = _run(capsys, "--template")
    (folder / f"{BUNDLED_IDS[0]}.toml").write_text(template)
    code, out, err = _run(capsys, "--list", "--json")
    first = json.loads(out.splitlines()[0])
    assert first["id"] == BUNDLED_IDS[0] and first["source"] == "yours"
    assert err.startswith("note: ") and "replaces the bundled lesson" in err


def test_template_validates(capsys, tmp_path):
    code, template, _ = _run(capsys, "--template")
    assert code == 0 and template.startswith("# A Digit Lab lesson")
    path = tmp_path / "my-lesson.toml"
    path.write_text(template)
    code, out, err = _run(capsys, "--validate", str(path))
    assert code == 0 and err == ""
    assert (
        out == f"ok: {path}: 'Cross-entropy is NLL after LogSoftmax', 2 steps, 3 automatic checks\n"
    )


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('title = "x"\ntext = \n', 2, "not valid TOML"),
        ('text = "y"\nexplanation = "z"\n', 1, "has no title"),
        (
            'title = "x"\ntext = "y"\nexplanation = "z"\n[[steps]]\ntext = "a"\nhint = "h"\n'
            '[[steps.checks]]\ncondition = "draw.looks_like_digt == false"\ndescription = "d"\n',
            8,
            "unknown fact 'draw.looks_like_digt' (did you mean draw.looks_like_digit?)",
        ),
        (
            'title = "x"\ntext = "y"\nexplanation = "z"\n[[steps]]\ntext = "a"\nhint = "h"\n',
            4,
            "step 1 has no check",
        ),
        ('title = "x"\ntext = "y"\nexplanation = 3\n', 3, "explanation must be text"),
        (
            'title = "x"\ntext = "y"\nexplanation = "z"\n[[steps]]\ntext = "a"\n'
            'checks = [{ condition = "__import__(\'os\')", description = "d" }]\n',
            6,
            "checks cannot call functions",
        ),
    ],
)
def test_validate_errors_are_one_line_with_the_line_number(capsys, tmp_path, text, line, words):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code, out, err = _run(capsys, "--validate", str(path))
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: {path}:{line}: ") and words in err


def test_validate_a_missing_file(capsys, tmp_path):
    code, _, err = _run(capsys, "--validate", str(tmp_path / "nope.toml"))
    assert code == 2 and err.startswith("error: ") and "cannot read the file" in err


def test_list_and_validate_are_exclusive(capsys):
    code, _, err = _run(capsys, "--list", "--template")
    assert code == 2 and err.startswith("error: ")


def test_in_a_fresh_process(tmp_path):
    """As a user runs it: the command is registered, the output is the same."""
    result = run_main("lessons", "--list", "--json")
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == BUNDLED_IDS


def test_validate_says_when_a_file_would_replace_a_bundled_lesson(capsys, tmp_path):
    bundled = bundled_dir() / f"{BUNDLED_IDS[0]}.toml"
    code, out, _ = _run(capsys, "--validate", str(bundled))
    assert code == 0 and "replaces" not in out
    copy = tmp_path / bundled.name
    copy.write_bytes(bundled.read_bytes())
    code, out, _ = _run(capsys, "--validate", str(copy))
    assert code == 0 and f"replaces the bundled lesson '{BUNDLED_IDS[0]}'" in out
