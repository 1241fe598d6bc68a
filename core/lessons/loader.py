"""Lesson files: one TOML file (read by ``tomllib``, no code run) becomes one checked ``Lesson``.

``load_lesson(path)`` reads and validates a file; any problem is a ``LessonError`` whose text is
one sentence ``FILE:LINE: problem`` (``tomllib`` gives the line of a syntax error; for the rest
``core.lessons.locate`` finds the key's line). ``load_catalog()`` reads the bundled lessons
(``resources/lessons``) and the learner's or teacher's (``<data folder>/lessons``): a damaged
file becomes a ``Problem`` entry and never stops the others. A file of yours with a bundled
lesson's id (the same file name) replaces the bundled lesson, and the catalog says so in a
note — so a teacher can adapt a bundled lesson by copying it.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import UserError, os_problem
from core.lessons import setup_check
from core.lessons.conditions import Condition, ConditionError
from core.lessons.locate import Where, line_of, toml_error_line
from core.lessons.model import Check, Lesson, Step

MAX_FILE_BYTES = 256 * 1024  # a lesson is a page of text; a bigger file is not one
TOP_KEYS = ("title", "text", "explanation", "setup", "steps")
STEP_KEYS = ("text", "hint", "checks")
CHECK_KEYS = ("condition", "description")


class LessonError(UserError):
    """A lesson file that cannot be used: ``str()`` is ``FILE:LINE: problem``."""

    def __init__(self, path: str, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path, self.line, self.problem = path, line, problem


class _Problem(Exception):
    """Raised inside the loader with a place in the document; becomes a ``LessonError``."""

    def __init__(self, where: Where, problem: str, needle: str | None = None) -> None:
        super().__init__(problem)
        self.where, self.problem, self.needle = where, problem, needle


def lesson_id(path: str | os.PathLike[str]) -> str:
    """A lesson's id: its file name without ``.toml`` (progress is kept under it)."""
    return Path(path).stem


def read_text(path: str | os.PathLike[str]) -> str:
    """The file's text; ``LessonError`` (line 1, or the line of a bad byte) if it cannot be read."""
    shown = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise LessonError(shown, 1, f"cannot read the file: {os_problem(exc)}") from None
    except ValueError:
        raise LessonError(shown, 1, "is not a valid path") from None
    if len(raw) > MAX_FILE_BYTES:
        raise LessonError(shown, 1, f"is larger than {MAX_FILE_BYTES // 1024} KiB: not a lesson")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LessonError(shown, line, "is not UTF-8 text (save the lesson as UTF-8)") from None


def load_lesson(path: str | os.PathLike[str], source: str = "", *, deep: bool = True) -> Lesson:
    """Read and check one lesson file. ``source``: "bundled", "yours" or "" (the path).

    ``deep`` also checks the setup against the app's registries (pairs, presets, settings),
    which imports torch; without it only the file's own shape is checked.
    """
    text = read_text(path)
    return parse_lesson(text, str(path), lesson_id(path), source or str(path), deep=deep)


def parse_lesson(
    text: str, shown: str, lesson_id: str, source: str, *, deep: bool = True
) -> Lesson:
    """A ``Lesson`` from TOML ``text``; ``shown`` names the file in messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, message = toml_error_line(str(exc), text)
        raise LessonError(shown, line, f"not valid TOML: {message}") from None
    try:
        return _build(data, lesson_id, source, Path(shown), deep)
    except _Problem as problem:
        line = line_of(text, problem.where, problem.needle)
        raise LessonError(shown, line, problem.problem) from None


def _build(data: Mapping[str, Any], lesson_id: str, source: str, path: Path, deep: bool) -> Lesson:
    _known_keys(data, TOP_KEYS, (), "the lesson")
    title = _text(data, "title", ())
    text = _text(data, "text", ())
    explanation = _text(data, "explanation", ())
    setup = data.get("setup", {})
    if not isinstance(setup, dict):
        raise _Problem(("setup",), "setup must be a table ([setup] followed by its keys)")
    problem = setup_check.check_shape(setup) or (
        setup_check.check_against_app(setup) if deep else None
    )
    if problem:
        raise _Problem(("setup", *problem[0]), problem[1])
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise _Problem(
            ("steps",), "the lesson has no steps; add at least one [[steps]] with a check"
        )
    built = tuple(_step(step, index) for index, step in enumerate(steps))
    return Lesson(lesson_id, title, text, built, explanation, dict(setup), source, path)


def _step(step: Any, index: int) -> Step:
    where = ("steps", index)
    if not isinstance(step, dict):
        raise _Problem(where, f"step {index + 1} must be a table ([[steps]] and its keys)")
    _known_keys(step, STEP_KEYS, where, f"step {index + 1}")
    text = _text(step, "text", where, f"step {index + 1}")
    hint = _text(step, "hint", where, f"step {index + 1}", required=False)
    checks = step.get("checks")
    if not isinstance(checks, list) or not checks:
        raise _Problem(
            where, f"step {index + 1} has no check; add [[steps.checks]] with a condition"
        )
    built = tuple(_check(check, index, number) for number, check in enumerate(checks))
    return Step(text, built, hint)


def _check(check: Any, step: int, number: int) -> Check:
    where = ("steps", step, "checks", number)
    label = f"step {step + 1}, check {number + 1}"
    if not isinstance(check, dict):
        raise _Problem(where, f"{label} must be a table with a condition and a description")
    _known_keys(check, CHECK_KEYS, where, label)
    source = _text(check, "condition", where, label)
    description = _text(check, "description", where, label)
    try:
        condition = Condition.parse(source)
    except ConditionError as exc:
        raise _Problem((*where, "condition"), f"{label}: {exc}", exc.name) from None
    return Check(condition, description)


def _known_keys(table: Mapping[str, Any], known: tuple[str, ...], where: Where, what: str) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"the keys are {', '.join(known)}"
            raise _Problem((*where, key), f"{what} has no key {key!r}; {hint}")


def _text(
    table: Mapping[str, Any],
    key: str,
    where: Where,
    what: str = "the lesson",
    *,
    required: bool = True,
) -> str:
    value = table.get(key)
    if value is None:
        if required:
            raise _Problem(where, f'{what} has no {key}; add {key} = "..."')
        return ""
    if not isinstance(value, str):
        raise _Problem(
            (*where, key),
            f"{what}: {key} must be text in quotes, not {setup_check._type_words(value)}",
        )
    if required and not value.strip():
        raise _Problem((*where, key), f"{what}: {key} is empty")
    return value.strip()


# --- the catalog ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """A lesson file that could not be used, in one sentence (``str(problem)``)."""

    path: Path
    line: int
    message: str  # the whole sentence, FILE:LINE: problem

    def __str__(self) -> str:
        return self.message


@dataclass
class Catalog:
    """Every usable lesson (ordered by id), the files that failed, and notes (which file won)."""

    lessons: list[Lesson] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def get(self, lesson_id: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)


def bundled_dir() -> Path:
    from core.resources import resource_path

    return resource_path("lessons")


def user_dir() -> Path:
    """``<data folder>/lessons``: the learner's or teacher's own lesson files."""
    from core.resources import user_data_dir

    return user_data_dir() / "lessons"


def default_folders() -> list[tuple[Path, str]]:
    return [(bundled_dir(), "bundled"), (user_dir(), "yours")]


def _lesson_files(folder: Path) -> list[Path]:
    """The ``*.toml`` files of ``folder`` (not hidden), sorted; [] when it does not exist."""
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        problem = os_problem(exc) if isinstance(exc, OSError) else "not a valid path"
        raise LessonError(str(folder), 1, f"cannot list the lessons folder: {problem}") from None
    return [folder / name for name in names if name.endswith(".toml") and not name.startswith(".")]


def load_catalog(
    folders: Iterable[tuple[Path, str]] | None = None, *, deep: bool = True
) -> Catalog:
    """Every lesson of ``folders`` (``(folder, source)`` pairs; default: bundled, then yours).

    A later folder's lesson replaces an earlier one with the same id (yours over bundled), and a
    note says so; a damaged file is a ``Problem`` and the earlier lesson of that id stays.
    """
    catalog = Catalog()
    by_id: dict[str, Lesson] = {}
    for folder, source in default_folders() if folders is None else folders:
        try:
            files = _lesson_files(Path(folder))
        except LessonError as exc:
            catalog.problems.append(Problem(Path(folder), exc.line, str(exc)))
            continue
        for path in files:
            try:
                lesson = load_lesson(path, source, deep=deep)
            except LessonError as exc:
                catalog.problems.append(Problem(path, exc.line, str(exc)))
                continue
            earlier = by_id.get(lesson.id)
            if earlier is not None:
                catalog.notes.append(
                    f"{path} ({source}) replaces the {earlier.source} lesson {lesson.id!r}"
                )
            by_id[lesson.id] = lesson
    catalog.lessons = [by_id[key] for key in sorted(by_id)]
    return catalog
