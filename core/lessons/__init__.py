"""Lessons that check: guided experiments whose steps are verified by the app's own facts.

A lesson is a TOML file (``core.lessons.loader``) with a setup, steps and checks written in a
small safe condition language (``core.lessons.conditions``) over a documented vocabulary of facts
(``core.lessons.vocabulary``). ``core.lessons.session`` plays one lesson against the facts the
GUI reports and keeps progress (``core.lessons.progress``). No Qt here; ``docs/lessons.md``
documents the format for teachers.
"""
