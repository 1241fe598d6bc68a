"""AppFacts: every fact of the vocabulary has a reporter, and events are forgotten at a start."""

from __future__ import annotations

import inspect

import gui.lessons.facts as facts_module
from core.lessons.vocabulary import VOCABULARY
from gui.lessons.facts import AppFacts


def test_every_vocabulary_fact_is_reported_by_the_provider():
    source = inspect.getsource(facts_module)
    missing = [name for name in VOCABULARY if f'"{name}"' not in source]
    assert missing == [], "facts a check may name but the app never reports"


def test_forget_events_keeps_what_is_on_screen(qtbot):
    facts = AppFacts()
    facts.update({"app.tab": "draw", "run.finished": True, "draw.attack_flipped": True})
    with qtbot.waitSignal(facts.changed):
        facts.forget_events()
    assert facts.facts == {"app.tab": "draw"}
    with qtbot.assertNotEmitted(facts.changed):
        facts.update({"app.tab": "draw"})  # no change, no signal
    with qtbot.waitSignal(facts.changed):
        facts.update({"app.tab": None})  # None removes a fact: it is unknown again
    assert "app.tab" not in facts.facts
