"""Aliases, fragments, directives, variables, __typename and introspection do not get around a
check (SPEC §6: checks key on the coordinate, never on an alias), and deny by default."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.authz.matrix import DEFAULT_MATRIX, RoleMatrix
from gateway.roles import Role
from gateway.schema import GatewaySchema, build_schema
from gateway.settings import Settings
from tests.access.support import (
    Path,
    assert_forbidden,
    errors_by_path,
    principal_of,
    value_at,
)
from tests.principals import run_as

MONEY = "Workspace.estimatedAdRevenue"
M = "estimatedAdRevenue(timeRange: {preset: LAST_7_DAYS}) { value }"
W = 'workspace(id: "ws-1")'
MV = "estimatedAdRevenue(timeRange: $range) { value }"
RANGE = {"range": {"preset": "LAST_7_DAYS"}}
ER = "estimatedAdRevenue"

CASES: dict[str, tuple[str, list[Path], dict[str, Any]]] = {
    "alias": (f"{{ {W} {{ name money: {M} }} }}", [("workspace", "money")], {}),
    "named fragment": (
        f"{{ {W} {{ ...F }} }} fragment F on Workspace {{ name {M} }}",
        [("workspace", ER)],
        {},
    ),
    "nested fragments and alias": (
        f"{{ {W} {{ name ...A }} }} fragment A on Workspace {{ ...B }} "
        f"fragment B on Workspace {{ cash: {M} }}",
        [("workspace", "cash")],
        {},
    ),
    "inline fragment": (
        f"{{ {W} {{ ... on Workspace {{ name {M} }} }} }}",
        [("workspace", ER)],
        {},
    ),
    "typename and introspection": (
        f'{{ __typename __schema {{ types {{ name }} }} __type(name: "Workspace") '
        f"{{ fields {{ name }} }} {W} {{ __typename name {M} }} }}",
        [("workspace", ER)],
        {},
    ),
    "duplicated, aliased and not": (
        f"{{ {W} {{ name {M} {M} again: {M} }} }}",
        [("workspace", ER), ("workspace", "again")],
        {},
    ),
    "include and skip": (
        f"{{ {W} {{ name a: {MV.replace('{ value', '@include(if: true) { value')} "
        f"b: {MV.replace('{ value', '@skip(if: false) { value')} }} }}",
        [("workspace", "a"), ("workspace", "b")],
        RANGE,
    ),
    "variables": (
        f"query Q($range: TimeRangeInput!) {{ {W} {{ name {MV} }} }}",
        [("workspace", ER)],
        RANGE,
    ),
    "through a list": (
        f"{{ workspaces {{ nodes {{ name {M} }} }} }}",
        [("workspaces", "nodes", 0, ER)],
        {},
    ),
}
DENIED, ALLOWED = Role.SUPERAPP_DEVELOPER, Role.SUPERAPP_ADMIN


def _query(text: str, variables: dict[str, Any]) -> str:
    return (
        text
        if not variables or text.startswith("query")
        else f"query Q($range: TimeRangeInput!) {text}"
    )


@pytest.mark.parametrize(("query", "paths", "variables"), CASES.values(), ids=list(CASES))
async def test_no_way_around_a_denied_field(
    schema: GatewaySchema,
    catalog: AsyncEngine,
    settings: Settings,
    query: str,
    paths: list[Path],
    variables: dict[str, Any],
) -> None:
    assert DENIED not in DEFAULT_MATRIX.roles(MONEY)
    assert ALLOWED in DEFAULT_MATRIX.roles(MONEY)
    text = _query(query, variables)
    denied = await run_as(schema, catalog, settings, principal_of(DENIED), text, variables)
    errors = errors_by_path(denied)
    assert sorted(errors, key=str) == sorted(paths, key=str)
    for path in paths:
        assert_forbidden(errors[path], MONEY, DEFAULT_MATRIX.roles(MONEY))
        assert value_at(denied.data, path) is None
        assert value_at(denied.data, (*path[:-1], "name")) == "Alpha"
    allowed = await run_as(schema, catalog, settings, principal_of(ALLOWED), text, variables)
    assert allowed.errors is None
    for path in paths:
        assert value_at(allowed.data, path) == {"value": 0.0}
    if "__schema" in query:  # introspection answers the same for both
        assert denied.data is not None
        assert allowed.data is not None
        for key in ("__typename", "__schema", "__type"):
            assert denied.data[key] == allowed.data[key]
        assert {"name": ER} in denied.data["__type"]["fields"]


ORDER = (
    'query Q($o: TargetAppOrder) { workspace(id: "ws-1") { name '
    "targetApps(orderBy: $o) { totalCount } } }"
)


async def test_a_guarded_argument_is_checked_when_passed_only(
    schema: GatewaySchema, catalog: AsyncEngine, settings: Settings
) -> None:
    who = principal_of(DENIED)
    unset = await run_as(schema, catalog, settings, who, ORDER, {})
    null = await run_as(schema, catalog, settings, who, ORDER, {"o": None})
    for result in (unset, null):
        assert result.errors is None
        assert result.data == {"workspace": {"name": "Alpha", "targetApps": {"totalCount": 2}}}
    passed = await run_as(schema, catalog, settings, who, ORDER, {"o": {"field": "NAME"}})
    errors = errors_by_path(passed)
    assert list(errors) == [("workspace", "targetApps")]
    coordinate = "Workspace.targetApps(orderBy:)"
    assert_forbidden(
        errors[("workspace", "targetApps")], coordinate, DEFAULT_MATRIX.roles(coordinate)
    )
    ranked = await run_as(
        schema, catalog, settings, principal_of(ALLOWED), ORDER, {"o": {"field": "NAME"}}
    )
    assert ranked.errors is None


async def test_a_forbidden_argument_nulls_only_its_field(
    schema: GatewaySchema, catalog: AsyncEngine, settings: Settings
) -> None:
    """SPEC §6: "a guarded field in scope answers null with FORBIDDEN (the rest of the response
    still arrives)" — also when the guard is on an argument."""
    who = principal_of(DENIED)
    passed = await run_as(schema, catalog, settings, who, ORDER, {"o": {"field": "NAME"}})
    assert passed.data == {"workspace": {"name": "Alpha", "targetApps": None}}


async def test_a_field_without_entry_is_denied_to_everyone(
    schema: GatewaySchema, catalog: AsyncEngine, settings: Settings
) -> None:
    fields = {c: r for c, r in DEFAULT_MATRIX.fields.items() if c != "Workspace.name"}
    matrix = RoleMatrix(MappingProxyType(fields), DEFAULT_MATRIX.inherited, DEFAULT_MATRIX.wildcard)
    narrowed = build_schema(matrix)
    query = f"{{ {W} {{ id name }} }}"
    for role in (Role.SUPER_ADMIN, Role.SUPERAPP_ADMIN):
        result = await run_as(narrowed, catalog, settings, principal_of(role), query)
        errors = errors_by_path(result)
        assert list(errors) == [("workspace", "name")]
        assert_forbidden(errors[("workspace", "name")], "Workspace.name", frozenset())
        assert "@requiresRole(roles: [])" in narrowed.as_str()
    # The default schema, built before, keeps its own checks.
    result = await run_as(schema, catalog, settings, principal_of(Role.SUPER_ADMIN), query)
    assert result.errors is None
    assert result.data == {"workspace": {"id": "ws-1", "name": "Alpha"}}
