"""The lessons panel's state, without Qt: the catalog, the progress, the lesson being followed.

glue's habit: ``gui.lessons.panel`` is a thin view over this object. It reads the catalog
(``core.lessons.loader.load_catalog``: bundled lessons and the learner's own; a damaged file is
a problem sentence, never a crash), keeps the progress store (``<data folder>/lesson_progress.json``)
and the *active* lesson: the one the learner pressed Start on, whose checks the app's facts are
matched against (``core.lessons.session.LessonSession``: only the current step, a check that
held once stays done). Which lesson is shown and which is active are two things: a learner may
read another lesson while following one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from core.lessons.loader import Catalog, load_catalog
from core.lessons.model import Lesson
from core.lessons.progress import ProgressStore
from core.lessons.session import CheckPassed, LessonSession

# Marks beside a lesson, a step or a check: a shape and a word, never a colour alone.
DONE, CURRENT, OPEN = "✓", "▶", "○"


@dataclass(frozen=True)
class CheckView:
    """One check as the panel shows it."""

    description: str
    done: bool

    @property
    def mark(self) -> str:
        return DONE if self.done else OPEN

    @property
    def words(self) -> str:
        return "done" if self.done else "open"


@dataclass(frozen=True)
class StepView:
    """One step as the panel shows it: its place, its checks, whether it is the current one."""

    number: int  # 1-based
    text: str
    hint: str
    checks: tuple[CheckView, ...]
    current: bool

    @property
    def done(self) -> bool:
        return all(check.done for check in self.checks)

    @property
    def mark(self) -> str:
        return DONE if self.done else CURRENT if self.current else OPEN


class LessonsState:
    """Catalog, progress and the active lesson. ``observe(facts)`` ticks the active lesson's
    checks and returns those that passed (the view redraws and says so)."""

    def __init__(self, catalog: Catalog | None = None, store: ProgressStore | None = None) -> None:
        self.catalog = catalog if catalog is not None else load_catalog()
        self.store = store if store is not None else ProgressStore()
        self.active: LessonSession | None = None
        self.shown: Lesson | None = None  # the lesson on the panel's lesson page
        self.save_problem: str | None = None  # the progress file could not be written

    # ------------------------------------------------------------------ catalog
    @property
    def lessons(self) -> list[Lesson]:
        return self.catalog.lessons

    def lesson(self, lesson_id: str) -> Lesson | None:
        return self.catalog.get(lesson_id)

    def reload(self) -> None:
        """Read the lesson folders again (a teacher added a file); the active lesson stays
        active when it is still there."""
        self.catalog = load_catalog()
        for attribute in ("active", "shown"):
            current = getattr(self, attribute)
            lesson_id = (
                (current.lesson if attribute == "active" else current).id if current else None
            )
            found = self.catalog.get(lesson_id) if lesson_id else None
            if attribute == "active":
                self.active = LessonSession(found, self.store) if found else None
            else:
                self.shown = found

    def problem_sentences(self) -> list[str]:
        """One sentence per damaged lesson file, and one for a damaged progress file."""
        sentences = [
            f"{p.path.name} could not be used: {_after_place(p.message)}"
            for p in self.catalog.problems
        ]
        if self.store.problem:
            sentences.append(_sentence(self.store.problem))
        if self.save_problem:
            sentences.append(_sentence(self.save_problem))
        return sentences

    # ------------------------------------------------------------------ progress
    def done_count(self, lesson: Lesson) -> int:
        return len(self.store.get(lesson).done)

    def summary(self, lesson: Lesson) -> str:
        """E.g. "✓ done", "2 of 5 checks", "5 checks": what the list says beside a title."""
        done, total = self.done_count(lesson), lesson.check_count
        if done >= total:
            return f"{DONE} done"
        if done:
            return f"{done} of {total} checks done"
        return f"{total} checks"

    def mark(self, lesson: Lesson) -> str:
        done = self.done_count(lesson)
        if done >= lesson.check_count:
            return DONE
        return CURRENT if self.is_active(lesson) or done else OPEN

    def is_active(self, lesson: Lesson | None) -> bool:
        return lesson is not None and self.active is not None and self.active.lesson.id == lesson.id

    def steps(self, lesson: Lesson) -> list[StepView]:
        """The steps of ``lesson`` with each check's state (done or open)."""
        progress = self.store.get(lesson)
        current = progress.step(lesson)
        return [
            StepView(
                index + 1,
                step.text,
                step.hint,
                tuple(
                    CheckView(check.description, f"{index}.{number}" in progress.done)
                    for number, check in enumerate(step.checks)
                ),
                index == current,
            )
            for index, step in enumerate(lesson.steps)
        ]

    def finished(self, lesson: Lesson) -> bool:
        return self.done_count(lesson) >= lesson.check_count

    # ------------------------------------------------------------------ actions
    def show(self, lesson_id: str | None) -> Lesson | None:
        self.shown = self.catalog.get(lesson_id) if lesson_id else None
        return self.shown

    def start(self, lesson: Lesson) -> None:
        """Follow ``lesson`` from now on (its setup is the view's to apply)."""
        self.active = LessonSession(lesson, self.store)

    def reset(self, lesson: Lesson) -> None:
        """Every check of ``lesson`` open again (saved)."""
        self._guarded(lambda: self.store.reset(lesson))

    def observe(self, facts: Mapping[str, object]) -> list[CheckPassed]:
        """Match the active lesson's current step against ``facts``; the checks that passed."""
        if self.active is None:
            return []
        passed: list[CheckPassed] = []
        self._guarded(lambda: passed.extend(self.active.observe(facts)))
        return passed

    def _guarded(self, action) -> None:  # noqa: ANN001
        """Run ``action``; a progress file that cannot be written is said, never raised."""
        from core.errors import UserError

        try:
            action()
        except (UserError, OSError) as exc:
            self.save_problem = f"lesson progress could not be saved: {exc}"
        else:
            self.save_problem = None


def _after_place(message: str) -> str:
    """``FILE:LINE: problem`` -> ``line LINE: problem`` (the caller names the file)."""
    match = re.match(r"^(.*?):(\d+): (.*)$", message, re.DOTALL)
    return f"line {match.group(2)}: {match.group(3)}" if match else message


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."
