"""``lessons`` subcommand: list the lessons, print a template, check a teacher's lesson file.

    digit-lab lessons --list [--json]    # bundled and your own (<data folder>/lessons)
    digit-lab lessons --template > my-lesson.toml
    digit-lab lessons --validate my-lesson.toml

The same loader as the app's Lessons panel (``core.lessons.loader``). A damaged lesson file is
one ``warning:`` line on stderr and the others are still listed (exit 0); ``--validate`` prints
``ok: ...`` (exit 0) or one ``error: FILE:LINE: problem`` line (exit 2).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from cli import add_command


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "lessons",
        description="Lessons that check what you do in the lab. Bundled lessons come with the "
        "app; put your own lesson files (TOML, see --template and docs/lessons.md) in the "
        "data folder's lessons/ folder.",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--list", action="store_true", help="list every lesson (the default action)"
    )
    action.add_argument(
        "--template", action="store_true", help="print a valid, commented lesson file"
    )
    action.add_argument(
        "--validate",
        metavar="FILE",
        help="check a lesson file: 'ok: ...' or one 'error: FILE:LINE: ...' line (exit 2)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="with --list: one JSON object per line (id, title, checks, source, path)",
    )
    parser.set_defaults(func=run_lessons)


def run_lessons(args: argparse.Namespace) -> int:
    if args.template:
        from core.lessons.template import TEMPLATE

        print(TEMPLATE, end="")
        return 0
    if args.validate is not None:
        return _validate(args.validate)
    return _list(as_json=args.json)


def _validate(name: str) -> int:
    from core.lessons.loader import bundled_dir, lesson_id, load_lesson
    from core.storage.paths import user_path

    path = user_path(name, "lesson file")
    lesson = load_lesson(path)
    steps = len(lesson.steps)
    note = ""
    bundled = bundled_dir() / f"{lesson_id(path)}.toml"
    if bundled.exists() and not _same_file(bundled, path):
        note = f"; in your lessons folder it replaces the bundled lesson {lesson.id!r}"
    print(
        f"ok: {path}: {lesson.title!r}, {steps} step{'s' * (steps != 1)}, "
        f"{lesson.check_count} automatic check{'s' * (lesson.check_count != 1)}{note}"
    )
    return 0


def _same_file(one, other) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False


def _list(as_json: bool) -> int:
    from core.json_output import dumps
    from core.lessons.loader import load_catalog

    catalog = load_catalog()
    for problem in catalog.problems:
        print(f"warning: {problem}", file=sys.stderr)
    for note in catalog.notes:
        print(f"note: {note}", file=sys.stderr)
    width = max((len(lesson.id) for lesson in catalog.lessons), default=0)
    for lesson in catalog.lessons:
        if as_json:
            record = {
                "id": lesson.id,
                "title": lesson.title,
                "checks": lesson.check_count,
                "source": lesson.source,
                "path": str(lesson.path) if lesson.path else None,
            }
            print(dumps(record))
        else:
            print(
                f"{lesson.id:{width}}  {lesson.title}  ({lesson.check_count} checks, {lesson.source})"
            )
    if not catalog.lessons and not as_json:
        print("no lessons found", file=sys.stderr)
    return 0
