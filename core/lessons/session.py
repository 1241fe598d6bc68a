"""A lesson being played: facts come in, checks turn done, steps advance.

The panel (gui) owns one ``LessonSession`` for the lesson the learner follows and calls
``observe(facts)`` whenever the app's facts change. The rules:

- only the current step's checks are evaluated, so nothing later in the lesson passes by
  accident before the learner gets there;
- a check that held once stays done (facts such as ``run.finished`` describe events that pass);
- the step is done when all its checks are; the lesson when every step is;
- progress goes to the ``ProgressStore`` at once, so a restart resumes where the learner was.

Qt-free, so the rules are tested without a window (tests/core/lessons/test_session.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.lessons.model import Check, Lesson
from core.lessons.progress import LessonProgress, ProgressStore


@dataclass(frozen=True)
class CheckPassed:
    """Check ``key`` (``"STEP.CHECK"``) of the lesson passed just now."""

    key: str
    step: int
    check: Check
    step_done: bool  # this check completed its step
    lesson_done: bool  # and that step was the last one open


class LessonSession:
    """One lesson, its progress, and the rules above."""

    def __init__(self, lesson: Lesson, store: ProgressStore) -> None:
        self.lesson = lesson
        self.store = store

    @property
    def progress(self) -> LessonProgress:
        return self.store.get(self.lesson)

    @property
    def step(self) -> int:
        """The step the learner is on (``len(lesson.steps)`` when finished)."""
        return self.progress.step(self.lesson)

    @property
    def finished(self) -> bool:
        return self.step >= len(self.lesson.steps)

    def is_done(self, step: int, check: int) -> bool:
        return f"{step}.{check}" in self.progress.done

    def observe(self, facts: Mapping[str, object]) -> list[CheckPassed]:
        """Evaluate the current step's open checks over ``facts``; record and return those that
        passed (saving progress when any did). Moves on to the next step when one completes,
        but evaluates that next step only on the next call: one experiment, one step."""
        if self.finished:
            return []
        index = self.step
        step = self.lesson.steps[index]
        passed = []
        for number, check in enumerate(step.checks):
            key = f"{index}.{number}"
            if not self.is_done(index, number) and check.condition.holds(facts):
                self.store.mark_done(self.lesson, key)
                passed.append((key, number, check))
        if not passed:
            return []
        step_done = self.step > index
        events = [
            CheckPassed(key, index, check, step_done and i == len(passed) - 1, False)
            for i, (key, _number, check) in enumerate(passed)
        ]
        if self.finished:
            events[-1] = CheckPassed(events[-1].key, index, events[-1].check, True, True)
        self.store.save()
        return events

    def reset(self) -> None:
        """Back to the first step with every check open (saved)."""
        self.store.reset(self.lesson)
