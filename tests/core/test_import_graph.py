"""The import graph of the package: no cycles, and the layers import downwards only.

Every import statement counts — at module level or inside a function — except those under
``if TYPE_CHECKING:`` (annotations only, never run). A cycle hidden in function-level imports is
still a cycle: the modules cannot be understood, tested or moved one without the other.

The layers of the core, lowest first (a module may import its own layer and those below):

    errors, resources, killpoints, private_files, progress   plain helpers
    domain                                                   value types and rules (roles too)
    store                                                    database: engine, models, backups
    security                                                 accounts, sign-in, the audit trail
    forms, backflow, exchange, export, browse, records, demo, reports, checks, sharing, services

The store knows nothing of security: whatever builds or signs the audit trail sits above it.
"""

from __future__ import annotations

import ast
import functools
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import govshare_desktop

PACKAGE = Path(govshare_desktop.__file__).parent
ROOT = "govshare_desktop"
CORE = f"{ROOT}.core"


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


# Alembic loads migration scripts by file path; nothing imports them. The one that brings the signed
# audit trail (0005) writes its bridging entry with the security layer's signer.
MODULES = {_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(path: Path) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement run at some point, with whether it sits inside a function."""

    def walk(node: ast.AST, inner: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                for other in child.orelse:
                    yield from walk_one(other, inner)
                continue
            yield from walk_one(child, inner)

    def walk_one(node: ast.AST, inner: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, inner
        else:
            function = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            yield from walk(node, inner or function)

    yield from walk(ast.parse(path.read_text(encoding="utf-8")), False)


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The package's modules an import statement loads (the most specific one named)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            here = module.split(".")
            if MODULES[module].name != "__init__.py":
                here.pop()
            here = here[: len(here) - (node.level - 1)]
            base = ".".join([*here, *([node.module] if node.module else [])])
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
    found = []
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.append(name)
    return found


@functools.cache
def graph() -> dict[str, dict[str, int]]:
    """``{module: {imported module: line of the first such import}}``."""
    edges: dict[str, dict[str, int]] = {}
    for module, path in MODULES.items():
        out = edges.setdefault(module, {})
        for node, _inner in imports(path):
            for target in _targets(module, node):
                out.setdefault(target, node.lineno)
    return edges


def components(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
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
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _cycle(edges: dict[str, dict[str, int]], component: list[str]) -> list[str]:
    """One shortest cycle through the component's first module, as ``a:line -> b`` steps."""
    members, first = set(component), component[0]
    previous: dict[str, str] = {}
    queue = [first]
    while queue:
        node = queue.pop(0)
        for child in sorted(edges[node]):
            if child not in members:
                continue
            if child == first:
                path = [node]
                while path[-1] != first:
                    path.append(previous[path[-1]])
                path.reverse()
                path.append(first)
                return [f"{a} (line {edges[a][b]}) -> {b}" for a, b in itertools.pairwise(path)]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    return component


def _short(name: str) -> str:
    return name.removeprefix(f"{CORE}.").removeprefix(f"{ROOT}.")


def test_the_import_graph_has_no_cycle() -> None:
    edges = graph()
    report = []
    for component in components(edges):
        report.append(f"{len(component)} modules import each other: {', '.join(component)}")
        report += [f"    {_short(step)}" for step in _cycle(edges, component)]
    assert not report, "import cycle(s), counting imports inside functions:\n" + "\n".join(report)


def _layer_violations(lower: str, upper: str) -> list[str]:
    return [
        f"{module} (line {line}) imports {target}"
        for module, targets in graph().items()
        if module == lower or module.startswith(f"{lower}.")
        for target, line in targets.items()
        if target == upper or target.startswith(f"{upper}.")
    ]


def test_the_core_never_imports_the_ui_or_the_command_line() -> None:
    assert _layer_violations(CORE, f"{ROOT}.ui") == []
    assert _layer_violations(CORE, f"{ROOT}.cli") == []


def test_the_store_knows_nothing_of_security() -> None:
    assert _layer_violations(f"{CORE}.store", f"{CORE}.security") == []


def test_the_layers_below_the_store_import_nothing_above_them() -> None:
    for lower in (f"{CORE}.domain", f"{CORE}.errors", f"{CORE}.progress"):
        for upper in ("store", "security", "forms", "backflow", "exchange", "export", "services"):
            assert _layer_violations(lower, f"{CORE}.{upper}") == []


def test_the_graph_sees_imports_inside_functions() -> None:
    """The walk itself: a function-level import is an edge, a TYPE_CHECKING one is not."""
    edges = graph()
    assert f"{CORE}.store.migrate" in edges[f"{CORE}.store.engine"]
    assert any(inner for _node, inner in imports(MODULES[f"{CORE}.export.pdf"]))


REASON = re.compile(r"#.*\b(heavy|lazy|optional|platform):\s*\S")


def test_every_import_inside_a_core_function_says_why() -> None:
    """An import inside a function is an exception; in ``core/`` its line says which one:
    ``# heavy: …`` (a slow library loaded only when needed), ``# lazy: …`` (kept off the start-up
    path), ``# optional: …`` (may not be installed) or ``# platform: …`` (exists on one system
    only). Anything else goes to the top of the module, where the reader looks for what a module
    depends on."""
    silent = []
    for module, path in sorted(MODULES.items()):
        if not module.startswith(f"{CORE}."):
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        silent += [
            f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {lines[node.lineno - 1].strip()}"
            for node, inner in imports(path)
            if inner and not REASON.search(lines[node.lineno - 1])
        ]
    assert silent == [], "imports inside functions without a reason:\n" + "\n".join(silent)


LAZY_MODULE = re.compile(r"^# Imports inside functions — lazy: \S")


def test_the_window_and_the_command_line_say_why_they_import_late() -> None:
    """In ``cli/`` and ``ui/`` importing inside functions is the rule, not the exception: the
    window shows before SQLAlchemy loads, and a command loads only what it uses. Such a module says
    so once, in a comment line near its top (``# Imports inside functions — lazy: <why>``); a line
    with its own reason counts too. A module with inner imports and neither fails."""
    silent = []
    for module, path in sorted(MODULES.items()):
        if not module.startswith((f"{ROOT}.cli", f"{ROOT}.ui")):
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        if any(LAZY_MODULE.match(line) for line in lines[:60]):
            continue
        silent += [
            f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {lines[node.lineno - 1].strip()}"
            for node, inner in imports(path)
            if inner and not REASON.search(lines[node.lineno - 1])
        ]
    assert silent == [], "imports inside functions without a reason:\n" + "\n".join(silent)
