"""Line numbers for problems ``tomllib`` cannot see: a missing title, an unknown fact in step 3.

``tomllib`` gives a line only for syntax errors; once the file is parsed, its values no longer
know where they were written. The loader names each problem by its place in the document
(``("steps", 2, "checks", 0, "condition")``) and this module finds that place by scanning the
text: the n-th ``[[steps]]`` header, then the m-th ``condition =`` inside that step. It is a
heuristic that is exact for the layouts the template and the docs teach (arrays of tables,
inline tables) and falls back to the nearest enclosing line otherwise — never to no line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

Where = Sequence[str | int]


def _key_pattern(key: str) -> re.Pattern[str]:
    # a key at the start of a line, or inside an inline table after "{" or ","
    return re.compile(rf"(?:^\s*|[{{,]\s*)[\"']?{re.escape(key)}[\"']?\s*=")


def _header_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*\[\[\s*{re.escape(name)}\s*\]\]")


def _nth(lines: list[str], pattern: re.Pattern[str], n: int, start: int, end: int) -> int | None:
    """0-based index of the n-th line in [start, end) matching ``pattern``."""
    seen = 0
    for index in range(start, end):
        if pattern.search(lines[index]):
            if seen == n:
                return index
            seen += 1
    return None


def _step_region(lines: list[str], step: int) -> tuple[int, int] | None:
    header = _header_pattern("steps")
    begin = _nth(lines, header, step, 0, len(lines))
    if begin is None:
        return None
    after = _nth(lines, header, 0, begin + 1, len(lines))
    return begin, len(lines) if after is None else after


def _table_start(lines: list[str], name: str) -> int | None:
    pattern = re.compile(rf"^\s*\[\s*{re.escape(name)}\s*\]")
    return _nth(lines, pattern, 0, 0, len(lines))


def line_of(text: str, where: Where, needle: str | None = None) -> int:
    """The 1-based line of the place ``where`` in ``text``; ``needle`` (e.g. an unknown fact's
    name) narrows it to the line that holds it, from that place on."""
    lines = text.splitlines() or [""]
    start, end = 0, len(lines)
    found = 0
    parts = list(where)
    if parts[:1] == ["steps"] and len(parts) >= 2 and isinstance(parts[1], int):
        region = _step_region(lines, parts[1])
        if region is None:
            found = _nth(lines, _key_pattern("steps"), 0, 0, end) or 0
            return _refine(lines, found, end, needle) + 1
        start, end = region
        found = start
        parts = parts[2:]
        if parts[:1] == ["checks"] and len(parts) >= 2 and isinstance(parts[1], int):
            check = _nth(lines, _header_pattern("steps.checks"), parts[1], start, end)
            if check is None:
                check = _nth(lines, _key_pattern("condition"), parts[1], start, end)
            if check is not None:
                found = start = check
            parts = parts[2:]
    elif parts[:1] == ["setup"]:
        table = _table_start(lines, "setup")
        if table is not None:
            found = start = table
        parts = parts[1:]
    for key in (part for part in parts if isinstance(part, str)):
        hit = _nth(lines, _key_pattern(key), 0, start, end)
        if hit is not None:
            found = start = hit
    return _refine(lines, found, end, needle) + 1


def _refine(lines: list[str], found: int, end: int, needle: str | None) -> int:
    if needle:
        for index in range(found, end):
            if needle in lines[index]:
                return index
    return found


_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)|\(at end of document\)")


def toml_error_line(message: str, text: str) -> tuple[int, str]:
    """(line, message without its position) of a ``tomllib.TOMLDecodeError`` message."""
    match = _TOML_POSITION.search(message)
    if match is None:
        return 1, message
    line = int(match.group(1)) if match.group(1) else max(1, len(text.splitlines()))
    return line, message[: match.start()].strip()
