"""Dependencies point one way: schema -> resolvers -> loaders -> metrics/store (STYLE.md).

Every module of ``gateway/`` is parsed (not imported) and its imports, including those inside
functions and ``TYPE_CHECKING`` blocks, are checked against :data:`FORBIDDEN`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "gateway"

_REQUEST_PATH = (
    "gateway.schema",
    "gateway.resolvers",
    "gateway.loaders",
    "gateway.web",
    "gateway.context",
    "gateway.app",
)
"""The layers a request passes through, top down."""

FORBIDDEN: dict[str, tuple[str, ...]] = {
    # Persistence and pure aggregation know nothing of GraphQL, HTTP or the request path.
    # Persistence knows principals' grants only as data it stores (gateway.roles), never
    # access control.
    "gateway.store": ("strawberry", "graphql", "starlette", "gateway.authz", *_REQUEST_PATH),
    "gateway.metrics": ("strawberry", "graphql", "starlette", *_REQUEST_PATH),
    # The schema speaks GraphQL only: storage and cache are reached through resolvers/loaders.
    "gateway.schema": ("sqlalchemy", "redis", "asyncpg", "aiosqlite", "gateway.store"),
    # Resolvers turn arguments into loader keys: no GraphQL types, no SQL of their own.
    "gateway.resolvers": ("strawberry", "gateway.schema", "sqlalchemy", "redis", "gateway.store"),
    # Loaders batch data; they never build GraphQL types.
    "gateway.loaders": ("strawberry", "gateway.schema", "gateway.resolvers", "gateway.web"),
    # Access control sits under the schema: it knows principals, the matrix and strawberry's
    # field extensions, never the types it guards or the request path.
    "gateway.authz": (*_REQUEST_PATH, "gateway.cli"),
    # The cache stores opaque bytes: it knows settings, Redis and metrics, nothing of the data.
    "gateway.cache": (
        "strawberry",
        "graphql",
        "starlette",
        "sqlalchemy",
        "gateway.store",
        *_REQUEST_PATH,
    ),
    # Execution policy (query bounds, cost, masking) sits under the schema and the web layer.
    "gateway.limits": (
        *_REQUEST_PATH,
        "gateway.authz",
        "gateway.store",
        "gateway.cli",
        "sqlalchemy",
        "starlette",
    ),
    # The vocabulary shared by every layer depends on none of them.
    "gateway.domain": ("gateway.", "strawberry", "sqlalchemy"),
    "gateway.errors": ("gateway.", "strawberry", "sqlalchemy"),
    "gateway.utc": ("gateway.", "strawberry", "sqlalchemy"),
    "gateway.settings": ("gateway.", "strawberry", "sqlalchemy"),
    "gateway.secret_files": ("gateway.", "strawberry", "sqlalchemy"),
}
"""Module prefix -> import prefixes its modules may not use. A worked example: a module
``gateway/store/ingest.py`` that says ``from gateway.schema import build_schema`` fails, because
``gateway.store`` forbids ``gateway.schema``."""

ALLOWED: dict[str, tuple[str, ...]] = {
    # Settings take their defaults from the vocabulary (MAX_RANGE_DAYS...), and read secret
    # files with gateway.secret_files (which imports nothing of the gateway), nothing else.
    "gateway.settings": ("gateway.domain", "gateway.secret_files"),
}
"""Module prefix -> imports allowed although :data:`FORBIDDEN` bans a prefix of them."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "static" not in p.parts)


def _matches(name: str, prefix: str) -> bool:
    prefix = prefix.rstrip(".")
    return name == prefix or name.startswith(prefix + ".")


def _violations(module: str, imports: set[str]) -> list[str]:
    found = []
    for owner, banned in FORBIDDEN.items():
        if module != owner and not module.startswith(owner + "."):
            continue
        allowed = ALLOWED.get(owner, ())
        for name in sorted(imports):
            if any(_matches(name, prefix) for prefix in allowed):
                continue
            for prefix in banned:
                if name == prefix.rstrip(".") or name.startswith(prefix.rstrip(".") + "."):
                    found.append(f"{module} imports {name} ({owner} may not import {prefix})")
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: _module_name(p))
def test_module_respects_the_layering(path: Path) -> None:
    assert _violations(_module_name(path), _imports(path)) == []


def test_the_checker_catches_a_violation() -> None:
    # The rule table is only worth something if a bad import actually fails it.
    assert _violations("gateway.store.ingest", {"gateway.schema.types", "sqlalchemy"}) == [
        "gateway.store.ingest imports gateway.schema.types "
        "(gateway.store may not import gateway.schema)"
    ]
    assert _violations("gateway.schema.query", {"sqlalchemy.sql"}) == [
        "gateway.schema.query imports sqlalchemy.sql (gateway.schema may not import sqlalchemy)"
    ]
    assert _violations("gateway.storehouse", {"strawberry"}) == []  # a prefix, not a package


CYCLES_ALLOWED = "gateway.schema"
"""The GraphQL types refer to each other (``Workspace.targetApps`` -> ``TargetApp.workspace``):
the one package whose modules may import each other in a cycle (lazily, inside resolvers)."""


def _module_graph() -> dict[str, set[str]]:
    """Module -> the gateway modules it imports (``from package import module`` is an edge to
    the module, not to the package's ``__init__``)."""
    modules = {_module_name(path): path for path in _modules()}
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                submodules = {f"{node.module}.{alias.name}" for alias in node.names}
                found = submodules & modules.keys()
                targets.update(found or {node.module})
        graph[module] = set()
        for target in targets:
            while target and target not in modules:  # a name inside a module: the module
                target = target.rpartition(".")[0]
            if target and target != module:
                graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_but_the_graphql_types_own() -> None:
    cycles = [
        cycle
        for cycle in _cycles(_module_graph())
        if not all(m.startswith(CYCLES_ALLOWED + ".") for m in cycle)
    ]
    assert cycles == []


def test_no_package_depends_on_one_that_depends_on_it() -> None:
    def package(module: str) -> str:
        return ".".join(module.split(".")[:2])

    packages: dict[str, set[str]] = {}
    for module, targets in _module_graph().items():
        for target in targets:
            if package(target) != package(module):
                packages.setdefault(package(module), set()).add(package(target))
    assert _cycles(packages) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
