"""Lesson files: a good one loads whole; every kind of bad one is one sentence with its line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from core.lessons.loader import LessonError, load_catalog, load_lesson, parse_lesson

GOOD = textwrap.dedent(
    """\
    title = "A lesson"
    text = "Do **this**."
    explanation = "Because."

    [setup]
    tab = "loss"
    pair = "ce-nll"

    [[steps]]
    text = "First."
    hint = "Look."

    [[steps.checks]]
    condition = 'playground.pair == "ce-nll"'
    description = "The pair"

    [[steps]]
    text = "Second."

    [[steps.checks]]
    condition = "run.finished"
    description = "A run"

    [[steps.checks]]
    condition = "run.test_accuracy >= 0.9"
    description = "Good enough"
    """
)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str, name: str = "bad.toml") -> LessonError:
    path = _write(tmp_path, name, text)
    with pytest.raises(LessonError) as info:
        load_lesson(path)
    error = info.value
    assert str(error) == f"{path}:{error.line}: {error.problem}"
    assert "\n" not in str(error)
    return error


def _line_of(text: str, needle: str, occurrence: int = 0) -> int:
    lines = [number for number, line in enumerate(text.splitlines(), 1) if needle in line]
    return lines[occurrence]


def test_a_good_lesson_loads_whole(tmp_path):
    lesson = load_lesson(_write(tmp_path, "03-my-lesson.toml", GOOD), "yours")
    assert lesson.id == "03-my-lesson"
    assert (lesson.title, lesson.text, lesson.explanation) == (
        "A lesson",
        "Do **this**.",
        "Because.",
    )
    assert lesson.setup == {"tab": "loss", "pair": "ce-nll"}
    assert [step.text for step in lesson.steps] == ["First.", "Second."]
    assert lesson.steps[0].hint == "Look." and lesson.steps[1].hint == ""
    assert lesson.check_count == 3
    assert lesson.check_keys() == ["0.0", "1.0", "1.1"]
    assert lesson.steps[1].checks[1].source == "run.test_accuracy >= 0.9"
    assert lesson.steps[1].checks[1].condition.holds({"run.test_accuracy": 0.95})
    assert lesson.source == "yours"


def test_bad_toml_names_its_line(tmp_path):
    text = GOOD.replace('hint = "Look."', 'hint = "Look.')
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, 'hint = "Look.')
    assert error.problem.startswith("not valid TOML")


def test_missing_title(tmp_path):
    error = _error(tmp_path, GOOD.replace('title = "A lesson"\n', ""))
    assert error.line == 1
    assert "has no title" in error.problem


def test_unknown_fact_names_the_fact_and_its_line(tmp_path):
    text = GOOD.replace('"run.finished"', '"run.finishd"')
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, "run.finishd")
    assert "step 2, check 1" in error.problem and "did you mean run.finished?" in error.problem


def test_unknown_fact_in_a_multi_line_condition(tmp_path):
    text = GOOD.replace(
        'condition = "run.test_accuracy >= 0.9"',
        'condition = """\nrun.finished\n  and run.tset_accuracy >= 0.9\n"""',
    )
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, "run.tset_accuracy")


def test_unknown_fact_in_an_inline_table(tmp_path):
    text = GOOD.replace(
        '[[steps.checks]]\ncondition = "run.finished"\ndescription = "A run"\n',
        'checks = [ { condition = "run.finished", description = "A run" },\n'
        '  { condition = "run.nope", description = "x" } ]\n',
    ).replace(
        '\n[[steps.checks]]\ncondition = "run.test_accuracy >= 0.9"\ndescription = "Good enough"\n',
        "",
    )
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, "run.nope")


def test_step_with_no_check(tmp_path):
    text = GOOD + '\n[[steps]]\ntext = "Third."\nhint = "none"\n'
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, 'text = "Third."') - 1  # its [[steps]] header
    assert "step 3 has no check" in error.problem


def test_bad_type(tmp_path):
    text = GOOD.replace('text = "Second."', "text = 2")
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, "text = 2")
    assert "step 2: text must be text in quotes, not a number" in error.problem


def test_unknown_key_is_named_with_a_suggestion(tmp_path):
    text = GOOD.replace('hint = "Look."', 'hnit = "Look."')
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, "hnit")
    assert "did you mean 'hint'?" in error.problem


def test_check_without_description(tmp_path):
    text = GOOD.replace('description = "A run"\n', "")
    error = _error(tmp_path, text)
    assert error.line == _line_of(text, "[[steps.checks]]", 1)
    assert "step 2, check 1 has no description" in error.problem


def test_no_steps(tmp_path):
    text = GOOD.split("[[steps]]")[0]
    error = _error(tmp_path, text)
    assert "no steps" in error.problem


@pytest.mark.parametrize(
    ("old", "new", "words", "needle"),
    [
        ('tab = "loss"', 'tab = "losses"', "setup tab 'losses'", 'tab = "losses"'),
        ('pair = "ce-nll"', 'pair = "ce-nl"', "setup pair 'ce-nl' is not one of", "ce-nl"),
        ('pair = "ce-nll"', 'colour = "red"', "[setup] has no key 'colour'", "colour"),
        ('pair = "ce-nll"', "pair = 3", "setup pair must be text", "pair = 3"),
        ('pair = "ce-nll"', 'prediction = [["a"]]', "list of numbers", "prediction"),
        ('pair = "ce-nll"', 'preset = "fastest"', "setup preset 'fastest'", "fastest"),
        ('pair = "ce-nll"', 'loss_preset = "Nope"', "loss_preset 'Nope'", "Nope"),
        ('pair = "ce-nll"', "settings = { epochs = 0 }", "setup settings: ", "settings"),
        ('pair = "ce-nll"', 'settings = { epochs = "two" }', "epochs must be int", "settings"),
        ('pair = "ce-nll"', "settings = { colour = 1 }", "settings has no 'colour'", "settings"),
    ],
)
def test_setup_is_checked_against_the_app(tmp_path, old, new, words, needle):
    text = GOOD.replace(old, new)
    error = _error(tmp_path, text)
    assert words in error.problem
    assert error.line == _line_of(text, needle)


@pytest.mark.parametrize(
    ("setup", "words", "needle"),
    [
        (
            'pair = "ce-nll"\nprediction = [[1.0, 2.0]]',
            "gives a prediction but no target",
            "prediction",
        ),
        ('pair = "ce-nll"\ntarget = [1]', "gives a target but no prediction", "target"),
        ("prediction = [[1.0, 2.0]]\ntarget = [1]", "no pair (or loss_preset)", "prediction"),
        (
            'pair = "ce-nll"\nprediction = [[1.0, 2.0]]\ntarget = [5]',
            "do not fit the pair ce-nll",
            "prediction",
        ),
        (
            'loss_preset = "Seed example: BCE"\nprediction = [[1.0, 2.0]]\ntarget = [1]',
            "do not fit the pair bce-logits",
            "prediction",
        ),
    ],
)
def test_setup_tensors_must_fit_their_pair(tmp_path, setup, words, needle):
    text = GOOD.replace('pair = "ce-nll"', setup)
    error = _error(tmp_path, text)
    assert words in error.problem
    assert error.line == _line_of(text, needle)


def test_setup_with_good_tensors(tmp_path):
    text = GOOD.replace(
        'pair = "ce-nll"', 'pair = "ce-nll"\nprediction = [[1.0, 2.0]]\ntarget = [1]'
    )
    assert load_lesson(_write(tmp_path, "ok.toml", text)).setup["target"] == [1]


def test_setup_with_good_training_settings(tmp_path):
    text = GOOD.replace(
        'pair = "ce-nll"', 'preset = "vanishing"\nsettings = { epochs = 2, lr = 1 }'
    )
    lesson = load_lesson(_write(tmp_path, "ok.toml", text))
    assert lesson.setup["settings"] == {"epochs": 2, "lr": 1}


def test_not_utf8_and_too_big_and_missing(tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes(GOOD.encode() + b"\n# caf\xe9\n")
    with pytest.raises(LessonError, match="not UTF-8") as info:
        load_lesson(path)
    assert info.value.line == len(GOOD.splitlines()) + 2
    big = _write(tmp_path, "big.toml", GOOD + "#" * 300_000)
    with pytest.raises(LessonError, match="larger than"):
        load_lesson(big)
    with pytest.raises(LessonError, match="cannot read the file"):
        load_lesson(tmp_path / "missing.toml")


def test_shape_only_without_deep(tmp_path):
    lesson = parse_lesson(GOOD.replace('"ce-nll"\n', '"made-up"\n'), "x.toml", "x", "", deep=False)
    assert lesson.setup["pair"] == "made-up"


def test_catalog_keeps_going_past_a_damaged_file(tmp_path):
    bundled, yours = tmp_path / "bundled", tmp_path / "yours"
    bundled.mkdir()
    yours.mkdir()
    _write(bundled, "01-a.toml", GOOD)
    _write(bundled, "02-b.toml", GOOD.replace("A lesson", "B lesson"))
    _write(yours, "00-broken.toml", "title = [")
    _write(yours, "02-b.toml", GOOD.replace("A lesson", "My B"))
    _write(yours, "01-a.toml", "title = 'broken'")
    _write(yours, "notes.txt", "not a lesson")
    _write(yours, ".hidden.toml", "title = [")
    catalog = load_catalog([(bundled, "bundled"), (yours, "yours"), (tmp_path / "none", "yours")])
    assert [(lesson.id, lesson.title, lesson.source) for lesson in catalog.lessons] == [
        ("01-a", "A lesson", "bundled"),  # yours is damaged: the bundled one stays
        ("02-b", "My B", "yours"),  # yours wins
    ]
    assert sorted(problem.path.name for problem in catalog.problems) == [
        "00-broken.toml",
        "01-a.toml",
    ]
    assert all(str(problem).count(":") >= 2 for problem in catalog.problems)
    assert len(catalog.notes) == 1 and "replaces the bundled lesson '02-b'" in catalog.notes[0]
    assert catalog.get("02-b").title == "My B" and catalog.get("zz") is None


def test_default_catalog_reads_the_data_folder(isolated_user_dirs):
    folder = isolated_user_dirs / "lessons"
    folder.mkdir()
    _write(folder, "zz-teacher.toml", GOOD.replace("A lesson", "Teacher's"))
    _write(folder, "zz-broken.toml", "title = ")
    catalog = load_catalog()
    teacher = catalog.get("zz-teacher")
    assert teacher is not None and teacher.source == "yours"
    assert any(lesson.source == "bundled" for lesson in catalog.lessons)
    assert [problem.path.name for problem in catalog.problems] == ["zz-broken.toml"]


def test_an_unreadable_folder_is_a_problem_not_a_crash(tmp_path):
    afile = _write(tmp_path, "plain", "x")
    catalog = load_catalog([(afile, "yours")])
    assert catalog.lessons == [] and len(catalog.problems) == 1
    assert "cannot list the lessons folder" in str(catalog.problems[0])
