"""What the learner has done in each lesson, kept in ``<data folder>/lesson_progress.json``.

One JSON object for all lessons: ``{"version": 1, "lessons": {ID: {"done": ["0.0", "1.0"],
"finished": false}}}`` where each key ``"STEP.CHECK"`` is a check that has passed (see
``Lesson.check_keys``). Written atomically (``core.storage.atomic``), so a crash mid-save keeps
the last good file. A damaged file (not JSON, wrong shape) is moved aside as
``lesson_progress.json.damaged`` and progress starts afresh: a broken file costs the learner
some ticks, never the app. Keys a changed lesson no longer has are dropped when read.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from core.lessons.model import Lesson

FILE_NAME = "lesson_progress.json"
VERSION = 1


@dataclass
class LessonProgress:
    """One lesson's progress: the checks that passed, and whether the lesson was finished."""

    done: set[str] = field(default_factory=set)
    finished: bool = False

    def step(self, lesson: Lesson) -> int:
        """The first step with a check still open (``len(lesson.steps)`` once all are done)."""
        for index, step in enumerate(lesson.steps):
            if any(f"{index}.{c}" not in self.done for c in range(len(step.checks))):
                return index
        return len(lesson.steps)

    def to_json(self) -> dict:
        return {"done": sorted(self.done), "finished": self.finished}


def default_file() -> Path:
    from core.resources import user_data_dir

    return user_data_dir() / FILE_NAME


class ProgressStore:
    """Every lesson's progress, read once from ``path`` and written back on each ``save``.

    ``problem`` holds one sentence when the file was damaged and moved aside (the panel shows
    it once); it is None otherwise.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_file()
        self.problem: str | None = None
        self._lessons: dict[str, LessonProgress] = self._read()

    def _read(self) -> dict[str, LessonProgress]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            from core.errors import os_problem

            self.problem = f"lesson progress in {self.path} could not be read ({os_problem(exc)})"
            return {}
        try:
            return _parse(raw)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            self._move_aside(exc)
            return {}

    def _move_aside(self, exc: Exception) -> None:
        aside = self.path.with_name(self.path.name + ".damaged")
        try:
            os.replace(self.path, aside)
            where = f"moved aside to {aside.name}"
        except OSError:
            where = "left where it is"
        self.problem = (
            f"lesson progress in {self.path} was damaged ({_reason(exc)}); it was {where} "
            "and progress starts afresh"
        )

    def get(self, lesson: Lesson | str) -> LessonProgress:
        """The progress of ``lesson`` (a fresh one if none); for a ``Lesson``, keys it no
        longer has are dropped."""
        key = lesson if isinstance(lesson, str) else lesson.id
        progress = self._lessons.setdefault(key, LessonProgress())
        if not isinstance(lesson, str):
            progress.done &= set(lesson.check_keys())
        return progress

    def mark_done(self, lesson: Lesson, key: str) -> bool:
        """Record check ``key`` of ``lesson`` as passed; True if that is news. Finishes the
        lesson when every check has passed. Does not save (call ``save``)."""
        progress = self.get(lesson)
        if key in progress.done or key not in lesson.check_keys():
            return False
        progress.done.add(key)
        progress.finished = progress.done >= set(lesson.check_keys())
        return True

    def reset(self, lesson: Lesson | str) -> None:
        """Forget ``lesson``'s progress (and save)."""
        self._lessons.pop(lesson if isinstance(lesson, str) else lesson.id, None)
        self.save()

    def save(self) -> None:
        """Write every lesson's progress atomically; ``UserError`` if the folder is not writable."""
        from core.storage.atomic import write_text_atomic

        payload = {
            "version": VERSION,
            "lessons": {key: value.to_json() for key, value in sorted(self._lessons.items())},
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.path, json.dumps(payload, indent=1) + "\n")


def _parse(raw: bytes) -> dict[str, LessonProgress]:
    data = json.loads(raw.decode("utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("lessons"), dict):
        raise ValueError("not a progress file")
    lessons = {}
    for key, entry in data["lessons"].items():
        done = entry["done"]
        if not isinstance(done, list) or not all(isinstance(item, str) for item in done):
            raise ValueError(f"lesson {key}: done is not a list of check keys")
        lessons[str(key)] = LessonProgress(set(done), bool(entry.get("finished", False)))
    return lessons


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON at line {exc.lineno}"
    return str(exc) or type(exc).__name__
