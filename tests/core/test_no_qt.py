"""The layering rule, with no exceptions: core/ imports neither Qt nor gui nor cli; gui/ does not
import cli. Checked on the sources and on what importing really loads."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph")
FORBIDDEN = {"core": (*QT, "gui", "cli"), "gui": ("cli",)}


def imported_names(source: Path) -> list[str]:
    tree = ast.parse(source.read_text(), filename=str(source))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_sources_respect_the_layers(package):
    offenders = [
        f"{source.relative_to(ROOT)}: {name}"
        for source in (ROOT / package).rglob("*.py")
        for name in imported_names(source)
        if name.split(".")[0] in FORBIDDEN[package]
    ]
    assert not offenders, offenders


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_importing_a_layer_loads_nothing_above_it(package):
    code = (
        f"import sys, pkgutil, importlib, {package}\n"
        f"for m in pkgutil.walk_packages({package}.__path__, '{package}.'):\n"
        "    importlib.import_module(m.name)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN[package]!r}]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
