"""Functions fit on a screen: none in core/, gui/ or cli/ is longer than 60 lines."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 60


def test_no_function_is_longer_than_a_screen():
    too_long = []
    for package in ("core", "gui", "cli"):
        for source in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(source.read_text(), filename=str(source))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    lines = node.end_lineno - node.lineno + 1
                    if lines > MAX_LINES:
                        where = f"{source.relative_to(ROOT)}:{node.lineno}"
                        too_long.append(f"{where} {node.name} ({lines} lines)")
    assert not too_long, too_long
