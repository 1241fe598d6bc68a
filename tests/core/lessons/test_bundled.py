"""Every bundled lesson loads, has at least two automatic checks, and names only known facts;
the template validates; docs/lessons.md lists every fact of the vocabulary."""

from __future__ import annotations

import re

import pytest

from core.lessons.loader import bundled_dir, load_catalog, load_lesson, parse_lesson
from core.lessons.template import TEMPLATE
from core.lessons.vocabulary import VOCABULARY, markdown_table
from tests.helpers import ROOT

BUNDLED = sorted(bundled_dir().glob("*.toml"))


def test_there_are_bundled_lessons():
    assert len(BUNDLED) >= 2
    catalog = load_catalog([(bundled_dir(), "bundled")])
    assert not catalog.problems, [str(problem) for problem in catalog.problems]
    assert len(catalog.lessons) == len(BUNDLED)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda path: path.stem)
def test_a_bundled_lesson_is_complete(path):
    lesson = load_lesson(path, "bundled")
    assert lesson.check_count >= 2
    assert lesson.title and lesson.text and lesson.explanation
    assert all(step.text and step.hint for step in lesson.steps), "every step offers a hint"
    for step in lesson.steps:
        for check in step.checks:
            assert check.condition.facts <= set(VOCABULARY)
            assert check.description
            assert not check.condition.holds({}), "a check must not pass with no facts"


def test_the_template_is_a_valid_lesson():
    lesson = parse_lesson(TEMPLATE, "template.toml", "template", "")
    assert lesson.check_count >= 2 and lesson.setup["tab"] == "loss"


DOCS = ROOT / "docs" / "lessons.md"


def test_docs_list_every_fact():
    text = DOCS.read_text(encoding="utf-8")
    table = text.split("<!-- vocabulary table: begin -->")[1].split(
        "<!-- vocabulary table: end -->"
    )[0]
    listed = set(re.findall(r"^\| `([a-z_.]+)` \|", table, re.MULTILINE))
    assert listed == set(VOCABULARY), (
        "docs/lessons.md's vocabulary table differs from core/lessons/vocabulary.py: "
        f"missing {sorted(set(VOCABULARY) - listed)}, extra {sorted(listed - set(VOCABULARY))}"
    )
    assert markdown_table() in text, "regenerate the table with vocabulary.markdown_table()"


def test_docs_list_every_setup_key():
    from core.lessons.model import SETUP_KEYS

    text = DOCS.read_text(encoding="utf-8")
    for key in SETUP_KEYS:
        assert f"`{key}`" in text, key
