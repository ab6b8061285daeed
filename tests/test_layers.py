"""The import graph of src/youjun: no cycle between modules, and every arrow points down (docs/architecture.md).

Every import counts — at module level or inside a function — except those under ``if TYPE_CHECKING:``: an import
hidden in a function to break a circle is still the circle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

#: Layers of the package, lowest first: a module may import its own layer's and lower layers' modules only.
LAYERS: list[tuple[str, ...]] = [
    ("youjun.errors", "youjun.contract"),
    ("youjun.standards",),
    ("youjun.engine",),
    ("youjun.formatting",),
    ("youjun.io",),
    ("youjun.forms",),
    ("youjun.cli", "youjun.cli_monitor", "youjun.web"),
]
#: Inside the web application: apps (and shared modules) lowest first.
WEB_LAYERS: list[tuple[str, ...]] = [
    ("youjun.web.converters", "youjun.web.signals", "youjun.web.bulk", "youjun.web.uploads", "youjun.web.exports"),
    ("youjun.web.organisation",),
    ("youjun.web.accounts",),
    ("youjun.web.shortcuts", "youjun.web.workflow", "youjun.web.safety", "youjun.web.audit", "youjun.web.downloads"),
    ("youjun.web.rulesets",),
    ("youjun.web.collection", "youjun.web.assessment", "youjun.web.survey"),
    ("youjun.web.evaluation",),
    ("youjun.web.planning",),
    ("youjun.web.programme", "youjun.web.api", "youjun.web.monitoring"),
    ("youjun.web.recognition",),
    ("youjun.web.todo", "youjun.web.operations"),
    ("youjun.web.site", "youjun.web.views", "youjun.web.urls", "youjun.web.settings", "youjun.web.wsgi"),
    ("youjun.web.manage",),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            node.body = []  # skip what only type checkers read
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            for alias in node.names:
                yield f"{name}.{alias.name}"  # a submodule, if it is one; resolved below
            yield name


@cache
def graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in SRC.joinpath("youjun").rglob("*.py") if "migrations" not in p.parts}
    edges: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = set()
        for name in _imports(tree, module, path.name == "__init__.py"):
            if name.startswith("youjun") and name in files and name != module:
                targets.add(name)
        edges[module] = targets
    return edges


def _rank(module: str, layers: list[tuple[str, ...]]) -> int | None:
    for i, layer in enumerate(layers):
        if any(module == p or module.startswith(p + ".") for p in layer):
            return i
    return None


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_modules() -> None:
    assert _cycles(graph()) == []


def _upward(layers: list[tuple[str, ...]], scope: str) -> list[str]:
    wrong = []
    for module, targets in sorted(graph().items()):
        if not module.startswith(scope):
            continue
        mine = _rank(module, layers)
        for target in sorted(targets):
            theirs = _rank(target, layers)
            if mine is not None and theirs is not None and theirs > mine:
                wrong.append(f"{module} → {target}")
    return wrong


def test_package_layers_point_down() -> None:
    assert _upward(LAYERS, "youjun") == []


def test_web_apps_point_down() -> None:
    assert _upward(WEB_LAYERS, "youjun.web") == []


def test_the_engine_imports_neither_io_nor_web() -> None:
    bad = [
        f"{m} → {t}"
        for m, ts in graph().items()
        if m.startswith("youjun.engine")
        for t in ts
        if t.startswith(("youjun.io", "youjun.web", "youjun.cli", "youjun.forms"))
    ]
    assert bad == []


def test_every_web_module_has_a_layer() -> None:
    """A new app or shared module must be placed in WEB_LAYERS (and in docs/architecture.md)."""
    unplaced = sorted(m for m in graph() if m.startswith("youjun.web.") and _rank(m, WEB_LAYERS) is None)
    assert unplaced == []
