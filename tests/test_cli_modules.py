"""The modules of ``hookwire.cli`` import one another without a cycle: read from their source,
every import that runs when a module is imported (not those inside functions, nor those for the
type checker only) makes an edge, and the graph those edges make has no cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import hookwire.cli

PACKAGE = "hookwire.cli"
FOLDER = Path(hookwire.cli.__file__).parent


def _module_name(path: Path) -> str:
    return PACKAGE if path.name == "__init__.py" else f"{PACKAGE}.{path.stem}"


def _import_time_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of ``body`` run at import, ``try``/``if`` blocks opened, the
    ``if TYPE_CHECKING:`` ones left out."""
    found: list[ast.stmt] = []
    for statement in body:
        if isinstance(statement, ast.If):
            test = statement.test
            if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
                found.extend(_import_time_statements(statement.orelse))
                continue
            found.extend(_import_time_statements(statement.body + statement.orelse))
        elif isinstance(statement, ast.Try):
            blocks = statement.body + statement.orelse + statement.finalbody
            for handler in statement.handlers:
                blocks += handler.body
            found.extend(_import_time_statements(blocks))
        else:
            found.append(statement)
    return found


def import_graph(folder: Path) -> dict[str, set[str]]:
    """Each module of the package in ``folder`` → the package's modules it imports at import."""
    modules = {_module_name(path): path for path in sorted(folder.glob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges: set[str] = set()
        for statement in _import_time_statements(tree.body):
            if isinstance(statement, ast.Import):
                edges.update(alias.name for alias in statement.names)
            elif isinstance(statement, ast.ImportFrom):
                if statement.level:
                    base = PACKAGE.rsplit(".", statement.level - 1)[0]
                    target = f"{base}.{statement.module}" if statement.module else base
                else:
                    target = statement.module or ""
                edges.add(target)
                for alias in statement.names:
                    # "from . import _worker" imports the module _worker.
                    edges.add(f"{target}.{alias.name}")
        graph[name] = {edge for edge in edges if edge in modules and edge != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first walk, each as the modules along it."""
    found: list[list[str]] = []
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_the_cli_modules_import_one_another_without_a_cycle() -> None:
    graph = import_graph(FOLDER)
    # The check sees the imports that matter: the application imports every command module.
    assert {f"{PACKAGE}._worker", f"{PACKAGE}._info", f"{PACKAGE}._policy"} <= graph[
        f"{PACKAGE}._app"
    ]
    assert cycles(graph) == []


def test_the_cycle_check_finds_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "_a.py").write_text("from . import _b\n", encoding="utf-8")
    (tmp_path / "_b.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from . import _c\n"
        "def later():\n    from ._c import x\n"
        "from ._a import y  # noqa: E402\n",
        encoding="utf-8",
    )
    (tmp_path / "_c.py").write_text("from ._b import z\n", encoding="utf-8")
    assert cycles(import_graph(tmp_path)) == [[f"{PACKAGE}._a", f"{PACKAGE}._b", f"{PACKAGE}._a"]]
