"""Progress in the data folder and the session rules (current step only, latching, resume)."""

from __future__ import annotations

import json

import pytest

from core.lessons.loader import parse_lesson
from core.lessons.progress import FILE_NAME, ProgressStore
from core.lessons.session import LessonSession

LESSON_TEXT = """
title = "T"
text = "t"
explanation = "e"
[[steps]]
text = "one"
[[steps.checks]]
condition = "run.finished"
description = "finished"
[[steps.checks]]
condition = "run.test_accuracy >= 0.9"
description = "accurate"
[[steps]]
text = "two"
[[steps.checks]]
condition = "evaluation.cell_opened"
description = "cell"
"""


@pytest.fixture
def lesson():
    return parse_lesson(LESSON_TEXT, "t.toml", "t", "bundled")


def test_progress_round_trip_and_reset(tmp_path, lesson):
    path = tmp_path / FILE_NAME
    store = ProgressStore(path)
    assert store.get(lesson).done == set() and store.problem is None
    assert store.mark_done(lesson, "0.1")
    assert not store.mark_done(lesson, "0.1")  # not news
    assert not store.mark_done(lesson, "7.0")  # no such check
    store.save()
    again = ProgressStore(path)
    assert again.get(lesson).done == {"0.1"} and not again.get(lesson).finished
    for key in ("0.0", "1.0"):
        again.mark_done(lesson, key)
    assert again.get(lesson).finished
    again.save()
    assert json.loads(path.read_text())["lessons"]["t"] == {
        "done": ["0.0", "0.1", "1.0"],
        "finished": True,
    }
    again.reset(lesson)
    assert ProgressStore(path).get(lesson).done == set()


def test_default_file_is_in_the_data_folder(isolated_user_dirs, lesson):
    store = ProgressStore()
    store.mark_done(lesson, "0.0")
    store.save()
    assert (isolated_user_dirs / FILE_NAME).is_file()


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b'{"lessons": {"t": {"done": "0.0"}}}',
        b'{"lessons": {"t": 3}}',
        b'{"lessons": []}',
    ],
)
def test_a_damaged_file_is_moved_aside(tmp_path, lesson, payload):
    path = tmp_path / FILE_NAME
    path.write_bytes(payload)
    store = ProgressStore(path)
    assert store.problem is not None and "moved aside" in store.problem
    assert (tmp_path / (FILE_NAME + ".damaged")).read_bytes() == payload
    assert not path.exists()
    assert store.get(lesson).done == set()
    store.mark_done(lesson, "0.0")
    store.save()
    assert ProgressStore(path).get(lesson).done == {"0.0"}


def test_keys_a_changed_lesson_lost_are_dropped(tmp_path, lesson):
    path = tmp_path / FILE_NAME
    path.write_text(json.dumps({"version": 1, "lessons": {"t": {"done": ["0.0", "5.2"]}}}))
    assert ProgressStore(path).get(lesson).done == {"0.0"}


def test_session_plays_steps_in_order(tmp_path, lesson):
    store = ProgressStore(tmp_path / FILE_NAME)
    session = LessonSession(lesson, store)
    everything = {"run.finished": True, "run.test_accuracy": 0.95, "evaluation.cell_opened": True}
    assert session.observe({}) == [] and session.step == 0

    events = session.observe({"run.finished": True, "evaluation.cell_opened": True})
    assert [event.key for event in events] == ["0.0"]  # step 2's check is not looked at yet
    assert not events[0].step_done and session.step == 0

    events = session.observe({"run.finished": False, "run.test_accuracy": 0.95})
    assert [(e.key, e.step_done, e.lesson_done) for e in events] == [("0.1", True, False)]
    assert session.is_done(0, 0)  # latched though run.finished is now false
    assert session.step == 1 and not session.finished

    events = session.observe(everything)
    assert [(e.key, e.step_done, e.lesson_done) for e in events] == [("1.0", True, True)]
    assert session.finished and session.observe(everything) == []

    resumed = LessonSession(lesson, ProgressStore(tmp_path / FILE_NAME))
    assert resumed.finished and resumed.progress.finished
    resumed.reset()
    assert LessonSession(lesson, ProgressStore(tmp_path / FILE_NAME)).step == 0


def test_one_observation_passes_both_checks_of_a_step(tmp_path, lesson):
    session = LessonSession(lesson, ProgressStore(tmp_path / FILE_NAME))
    events = session.observe({"run.finished": True, "run.test_accuracy": 0.91})
    assert [(e.key, e.step_done) for e in events] == [("0.0", False), ("0.1", True)]
