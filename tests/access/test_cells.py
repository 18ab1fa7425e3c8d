"""Every role x field cell of the matrix, on the real schema and data (SQLite and PostgreSQL).

One query per (role, way of reaching a checked type) selects every field of the type by alias
(:mod:`tests.access.selection`); the expected answer of each field is derived from
``DEFAULT_MATRIX`` and SPEC §6's scopes, so a new field or a changed matrix row is tested
without editing this file.

Every entity reached here lives in ws-1 (mini programs and the merchant: m-1, or ws-1's own
for super-app and platform roles), so a field returning a ``Workspace`` or ``TargetApp`` is out of
scope exactly for mini-program roles, and nothing else a role reaches is.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.types import ExecutionResult

from gateway.authz.matrix import DEFAULT_MATRIX
from gateway.roles import Role
from gateway.schema import GatewaySchema
from gateway.settings import Settings
from tests.access.selection import Cell, cells
from tests.access.support import (
    Path,
    Where,
    assert_forbidden,
    assert_not_found,
    errors_by_path,
    principal_of,
    sees,
    value_at,
)
from tests.principals import run_as

WS1 = Where("ws-1")
MP1 = Where("ws-1", "m-1")


@dataclass(frozen=True)
class Reach:
    """A way to reach a checked type: the query around ``SEL``, the keys to the entity objects
    in the answer (``*``: each list item) and where the looked-up root entity lives."""

    name: str
    type_name: str
    template: str
    keys: tuple[str, ...]
    root: Where | None = None


REACHES = (
    Reach("Query", "Query", "SEL", ()),
    Reach("Workspace", "Workspace", 'workspace(id: "ws-1") { SEL }', ("workspace",), WS1),
    Reach("TargetApp", "TargetApp", 'targetApp(id: "app-1") { SEL }', ("targetApp",), WS1),
    Reach("MiniProgram", "MiniProgram", 'miniProgram(id: "mp-1") { SEL }', ("miniProgram",), MP1),
    Reach(
        "MiniProgram@targetApp",
        "MiniProgram",
        'targetApp(id: "app-1") { miniPrograms { nodes { SEL } } }',
        ("targetApp", "miniPrograms", "nodes", "*"),
        WS1,
    ),
    Reach(
        "MiniProgram@deployment",
        "MiniProgram",
        'miniProgram(id: "mp-1") { deployments { nodes { miniProgram { SEL } } } }',
        ("miniProgram", "deployments", "nodes", "*", "miniProgram"),
        MP1,
    ),
    Reach("Merchant", "Merchant", 'merchant(id: "m-1") { SEL }', ("merchant",), MP1),
    Reach(
        "Deployment",
        "Deployment",
        'miniProgram(id: "mp-1") { deployments { nodes { SEL } } }',
        ("miniProgram", "deployments", "nodes", "*"),
        MP1,
    ),
)
OUT_OF_SCOPE_RETURNS = {"Workspace": WS1, "TargetApp": WS1}
"""Where a returned entity of these types lives (see the module docstring)."""


def test_every_checked_type_is_reached(schema: GatewaySchema) -> None:
    checked = {coordinate.split(".")[0] for coordinate in schema.authz.coordinates}
    # Subscription's cells are asserted over WebSocket, where subscriptions run
    # (tests/live/test_matrix.py); its `live` selection is Query's, reached here.
    assert checked - {"Subscription"} == {reach.type_name for reach in REACHES}


def _entity_paths(data: object, keys: tuple[str, ...], prefix: Path = ()) -> list[Path]:
    if not keys:
        return [prefix]
    head, rest = keys[0], keys[1:]
    if head == "*":
        assert isinstance(data, list)
        return [p for i, item in enumerate(data) for p in _entity_paths(item, rest, (*prefix, i))]
    assert isinstance(data, dict), f"nothing at {(*prefix, head)}"
    return _entity_paths(data[head], rest, (*prefix, head))


def _expected(role: Role, cell: Cell) -> tuple[str, str] | None:
    """(code, coordinate) of the error ``role`` gets on ``cell``; None when it reads it."""
    if role not in DEFAULT_MATRIX.roles(cell.field):
        return ("FORBIDDEN", cell.field)
    if role not in DEFAULT_MATRIX.roles(cell.checked):
        return ("FORBIDDEN", cell.checked)
    where = OUT_OF_SCOPE_RETURNS.get(cell.returns)
    if where is not None and not sees(role, where):
        return ("NOT_FOUND", cell.field)
    return None


def _check_cell(
    role: Role, cell: Cell, path: Path, error: GraphQLError | None, data: object
) -> None:
    expected = _expected(role, cell)
    if expected is None:
        assert error is None, f"{role} reading {cell.checked} at {path}: {error}"
        parent = value_at(data, path[:-1])
        # A parent nulled by a sibling's error on a non-null field (INGESTER at the root) has
        # no keys; otherwise the value must be there.
        assert parent is None or cell.alias in parent  # type: ignore[operator]
        return
    assert value_at(data, path) is None, f"{role} got a value for {cell.checked} at {path}"
    if expected[0] == "FORBIDDEN":
        assert_forbidden(error, expected[1], DEFAULT_MATRIX.roles(expected[1]))
    else:
        assert_not_found(error, f"{cell.field} at {path}")


def _root_error(role: Role, reach: Reach) -> tuple[Path, str] | None:
    """The error ``role`` gets on the root lookup of ``reach`` (then nothing below it)."""
    if not reach.keys:
        return None
    lookup = f"Query.{reach.keys[0]}"
    if role not in DEFAULT_MATRIX.roles(lookup):
        return ((reach.keys[0],), lookup)
    assert reach.root is not None
    return None if sees(role, reach.root) else ((reach.keys[0],), "")


def _query(reach: Reach, selected: list[Cell]) -> str:
    selection = "\n".join(cell.text for cell in selected) or "__typename"
    return "query Cells {\n" + reach.template.replace("SEL", selection) + "\n}"


def _check_root_error(result: ExecutionResult, reach: Reach, root_error: tuple[Path, str]) -> None:
    errors = errors_by_path(result)
    path, lookup = root_error
    assert list(errors) == [path], result.errors
    assert value_at(result.data, path) is None
    if lookup:  # a role without catalog access: FORBIDDEN, before any lookup
        assert_forbidden(errors[path], lookup, DEFAULT_MATRIX.roles(lookup))
    else:  # out of scope: indistinguishable from an unknown id
        assert_not_found(errors[path], reach.name)


def _check_cells(role: Role, reach: Reach, selected: list[Cell], result: ExecutionResult) -> None:
    errors = errors_by_path(result)
    entity_paths = _entity_paths(result.data, reach.keys)
    assert entity_paths, "the reach found no entity: the test data changed"
    expected_paths: set[Path] = set()
    for entity in entity_paths:
        for cell in selected:
            path = (*entity, cell.alias)
            if _expected(role, cell) is not None:
                expected_paths.add(path)
            _check_cell(role, cell, path, errors.get(path), result.data)
    assert set(errors) == expected_paths, "unexpected errors elsewhere in the response"


@pytest.mark.parametrize("reach", REACHES, ids=[r.name for r in REACHES])
@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
async def test_role_reads_exactly_its_cells(
    schema: GatewaySchema,
    catalog: AsyncEngine,
    settings: Settings,
    role: Role,
    reach: Reach,
) -> None:
    type_cells = cells(schema._schema, reach.type_name, DEFAULT_MATRIX)
    who = principal_of(role)

    async def run(selected: list[Cell]) -> ExecutionResult:
        return await run_as(schema, catalog, settings, who, _query(reach, selected))

    root_error = _root_error(role, reach)
    if root_error is not None:
        _check_root_error(await run(type_cells), reach, root_error)
        return
    # An error on a non-null field nulls its parent, and graphql-core then drops the errors of
    # the parent's other fields: such cells (INGESTER's catalog fields at the root; see
    # test_restricted_fields_are_nullable for the others) get a query of their own.
    alone = [c for c in type_cells if not c.nullable and _expected(role, c) is not None]
    together = [c for c in type_cells if c not in alone]
    _check_cells(role, reach, together, await run(together))
    for cell in alone:
        _check_cells(role, reach, [cell], await run([cell]))
