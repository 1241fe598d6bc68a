"""Code that fits a reader: no function in core/, gui/ or cli/ longer than a screen (60 lines),
no class longer than 400 lines, no folder with more than 15 modules. The README is read by
learners, so it stays short too (its measurements live in docs/measured.md)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import ROOT

PACKAGES = ("core", "gui", "cli")
MAX_LINES = 60
MAX_CLASS_LINES = 400
MAX_MODULES = 15
MAX_README_CHARS = 14_000


def _sources() -> list[Path]:
    return [source for package in PACKAGES for source in sorted((ROOT / package).rglob("*.py"))]


def _definitions(
    kind: type | tuple[type, ...], sources: list[Path] | None = None, root: Path = ROOT
) -> list[tuple[str, str, int]]:
    """(where, name, lines) of every ``kind`` node in the sources."""
    found = []
    for source in _sources() if sources is None else sources:
        tree = ast.parse(source.read_text(), filename=str(source))
        for node in ast.walk(tree):
            if isinstance(node, kind):
                where = f"{source.relative_to(root)}:{node.lineno}"
                found.append((where, node.name, node.end_lineno - node.lineno + 1))
    return found


def long_classes(sources: list[Path] | None = None, root: Path = ROOT) -> list[str]:
    classes = _definitions(ast.ClassDef, sources, root)
    return [f"{w} {n} ({lines} lines)" for w, n, lines in classes if lines > MAX_CLASS_LINES]


def test_no_function_is_longer_than_a_screen():
    functions = _definitions((ast.FunctionDef, ast.AsyncFunctionDef))
    too_long = [f"{w} {n} ({lines} lines)" for w, n, lines in functions if lines > MAX_LINES]
    assert not too_long, too_long


def test_no_class_is_longer_than_400_lines():
    assert not long_classes(), long_classes()


def test_the_class_check_sees_a_long_class(tmp_path):
    """The class rule can fail: a 401-line class is named, a 400-line one is not."""
    body = "\n".join(f"    x{i} = {i}" for i in range(399))
    (tmp_path / "big.py").write_text(f"class Big:\n{body}\n    y = 0\n")
    (tmp_path / "fits.py").write_text(f"class Fits:\n{body}\n")
    found = long_classes(sorted(tmp_path.glob("*.py")), tmp_path)
    assert found == ["big.py:1 Big (401 lines)"]


def test_no_folder_has_more_than_15_modules():
    folders = {source.parent for source in _sources()}
    crowded = {
        str(folder.relative_to(ROOT)): count
        for folder in sorted(folders)
        if (count := len(list(folder.glob("*.py")))) > MAX_MODULES
    }
    assert not crowded, crowded
    assert len(folders) >= 10  # core, gui and cli really are split into rooms


def test_readme_is_short_enough_for_a_learner():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text) <= MAX_README_CHARS, f"README.md is {len(text):,} characters"
    for section in ("Your first five minutes", "Keyboard"):
        assert f"## {section}" in text


def test_tests_share_helpers_only_through_tests_helpers():
    """A test module imports no other test module (helpers live in tests/helpers.py, fixtures
    in conftest.py), and the ``sample`` fixture is defined once."""
    borrowed, samples = [], []
    for source in sorted((ROOT / "tests").rglob("*.py")):
        tree = ast.parse(source.read_text(), filename=str(source))
        where = source.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests."):
                if node.module != "tests.helpers":
                    borrowed.append(f"{where}: from {node.module}")
            elif isinstance(node, ast.Import):
                borrowed += [
                    f"{where}: import {a.name}" for a in node.names if a.name.startswith("tests.")
                ]
            elif isinstance(node, ast.FunctionDef) and node.name == "sample":
                samples.append(str(where))
    assert not borrowed, borrowed
    assert samples == ["tests/conftest.py"], samples
