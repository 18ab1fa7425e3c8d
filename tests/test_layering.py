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
    "gateway.store": ("strawberry", "graphql", "starlette", *_REQUEST_PATH),
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
    # Persistence knows principals only as data it stores, never access control.
    "gateway.store.apikeys": ("gateway.authz",),
    # The vocabulary shared by every layer depends on none of them.
    "gateway.domain": ("gateway.", "strawberry", "sqlalchemy"),
    "gateway.errors": ("gateway.", "strawberry", "sqlalchemy"),
    "gateway.settings": ("gateway.", "strawberry", "sqlalchemy"),
}
"""Module prefix -> import prefixes its modules may not use. A worked example: a module
``gateway/store/ingest.py`` that says ``from gateway.schema import build_schema`` fails, because
``gateway.store`` forbids ``gateway.schema``."""


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


def _violations(module: str, imports: set[str]) -> list[str]:
    found = []
    for owner, banned in FORBIDDEN.items():
        if module != owner and not module.startswith(owner + "."):
            continue
        for name in sorted(imports):
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
