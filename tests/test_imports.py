"""No import circles in core/, gui/ or cli/: not at module level, not inside functions.

A circle hidden in a function (``from a import x`` inside ``b.f`` while ``a`` imports ``b``)
still ties two modules into one unit that cannot be understood, tested or moved alone, so the
graph is built from every ``import`` statement in the source, wherever it stands, except under
``if TYPE_CHECKING:``: those never run, so they cannot close a circle when the app imports, and
an annotation naming a class of another module is how typed Python code crosses packages.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import ROOT

PACKAGES = ("core", "gui", "cli")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(path: Path, importer: str, known: set[str]) -> set[str]:
    """The project modules ``path`` names in any import statement, at any depth.

    ``from a import b`` is an edge to ``a.b`` when that is a module, else to ``a``. The parent
    packages Python loads on the way are not edges: they are loaded, not depended on.
    """
    found: set[str] = set()
    for node in _run_time_nodes(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, importer, path.name == "__init__.py")
            for alias in node.names:
                target = f"{module}.{alias.name}"
                if target in known:
                    found.add(target)
                elif module in known:
                    found.add(module)
    found.discard(importer)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _run_time_nodes(tree: ast.AST):
    """Every node of ``tree`` but the bodies of ``if TYPE_CHECKING:`` (their ``else`` runs)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def import_graph(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    files = {
        module_name(path, root): path
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
    }
    known = set(files)
    return {name: imports_of(path, name, known) for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return sorted(found)


def _describe(group: list[str], graph: dict[str, set[str]]) -> str:
    arrows = [f"{a} -> {b}" for a in group for b in sorted(graph[a]) if b in group]
    return "; ".join(arrows)


def test_no_import_circles():
    graph = import_graph(ROOT)
    assert len(graph) > 100  # the walk really read the project
    found = [_describe(group, graph) for group in cycles(graph)]
    assert not found, found


def test_the_check_sees_a_circle_inside_a_function(tmp_path):
    """The check can fail: a circle closed by an import inside a function is found."""
    package = tmp_path / "core"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "data" / "__init__.py").write_text("")
    (package / "data" / "a.py").write_text("from core.data.b import thing\n")
    (package / "data" / "b.py").write_text(
        "def thing():\n    from . import a  # closes the circle\n    return a\n"
    )
    (package / "data" / "c.py").write_text("import core.data.a\n")
    graph = import_graph(tmp_path, ("core",))
    assert graph["core.data.a"] == {"core.data.b"}
    assert graph["core.data.b"] == {"core.data.a"}
    assert cycles(graph) == [["core.data.a", "core.data.b"]]


def test_type_checking_imports_close_no_circle(tmp_path):
    """An import for annotations only never runs; one inside a function does."""
    package = tmp_path / "gui"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tab.py").write_text("import gui.pages\n")
    (package / "pages.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from gui.tab import Tab\n"
        "def later():\n    import gui.other\n"
    )
    (package / "other.py").write_text("")
    graph = import_graph(tmp_path, ("gui",))
    assert graph["gui.pages"] == {"gui.other"}
    assert cycles(graph) == []


def test_a_longer_circle_is_named_whole():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
