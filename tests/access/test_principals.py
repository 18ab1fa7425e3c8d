"""Principals with several grants, and what ``viewer`` tells each role it may read."""

from __future__ import annotations

import pytest
from graphql import GraphQLObjectType
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.authz.matrix import DEFAULT_MATRIX
from gateway.authz.principal import Principal
from gateway.roles import Grant, Role
from gateway.schema import GatewaySchema
from gateway.settings import Settings
from tests.access.support import (
    Path,
    assert_forbidden,
    errors_by_path,
    grant_of,
    principal_of,
    value_at,
)
from tests.principals import run_as

MIXED = Principal(
    "mixed",
    (
        Grant(Role.SUPERAPP_DEVELOPER, workspace_id="ws-1"),
        Grant(Role.MINI_PROGRAM_ADMIN, merchant_id="m-1"),
    ),
)
R = "(timeRange: {preset: LAST_7_DAYS}) { value }"
MIXED_QUERY = f"""{{
  mp1: miniProgram(id: "mp-1") {{ name estimatedAdRevenue{R} activeUsers{R} }}
  mp4: miniProgram(id: "mp-4") {{ name estimatedAdRevenue{R} activeUsers{R} }}
  workspace(id: "ws-1") {{ name activeUsers{R} estimatedAdRevenue{R} }}
  targetApp(id: "app-1") {{
    name activeUsers{R} miniPrograms {{ nodes {{ id estimatedAdRevenue{R} }} }}
  }}
}}"""
WITH_MERCHANT_GRANT = {"mp-1", "mp-2"}
"""Mini programs of m-1: the MINI_PROGRAM_ADMIN grant applies to them (only the other to the
rest)."""


def _expected_errors(data: dict[str, object]) -> dict[Path, str]:
    """Path -> coordinate of each FORBIDDEN the mixed principal must get (from the matrix)."""
    expected: dict[Path, str] = {}
    for alias, mini in (("mp1", "mp-1"), ("mp4", "mp-4")):
        for field in ("estimatedAdRevenue", "activeUsers"):
            if mini not in WITH_MERCHANT_GRANT:  # only SUPERAPP_DEVELOPER applies
                expected[(alias, field)] = f"MiniProgram.{field}"
    expected[("workspace", "activeUsers")] = "Workspace.activeUsers"
    expected[("workspace", "estimatedAdRevenue")] = "Workspace.estimatedAdRevenue"
    expected[("targetApp", "activeUsers")] = "TargetApp.activeUsers"
    nodes = value_at(data, ("targetApp", "miniPrograms", "nodes"))
    assert isinstance(nodes, list)
    for index, node in enumerate(nodes):
        if node["id"] not in WITH_MERCHANT_GRANT:
            path = ("targetApp", "miniPrograms", "nodes", index, "estimatedAdRevenue")
            expected[path] = "MiniProgram.estimatedAdRevenue"
    return expected


async def test_each_grant_applies_within_its_own_scope(
    schema: GatewaySchema, catalog: AsyncEngine, settings: Settings
) -> None:
    assert Role.SUPERAPP_DEVELOPER not in DEFAULT_MATRIX.roles("MiniProgram.estimatedAdRevenue")
    assert Role.MINI_PROGRAM_ADMIN in DEFAULT_MATRIX.roles("MiniProgram.estimatedAdRevenue")
    result = await run_as(schema, catalog, settings, MIXED, MIXED_QUERY)
    assert result.data is not None
    errors = errors_by_path(result)
    expected = _expected_errors(result.data)
    assert set(errors) == set(expected)
    for path, coordinate in expected.items():
        assert_forbidden(errors[path], coordinate, DEFAULT_MATRIX.roles(coordinate))
        assert value_at(result.data, path) is None
    assert value_at(result.data, ("mp1", "estimatedAdRevenue")) == {"value": 0.0}
    assert value_at(result.data, ("mp4", "name")) == "Mini mp-4"
    assert value_at(result.data, ("workspace", "name")) == "Alpha"
    ids = [n["id"] for n in result.data["targetApp"]["miniPrograms"]["nodes"]]
    assert ids == ["mp-1", "mp-2", "mp-3", "mp-4"]


VIEWER = (
    "{ viewer { subject authenticatedBy grants { role workspaceId merchantId readableFields } "
    "readableFields } }"
)


def _readable_from_schema(schema: GatewaySchema, roles: set[Role]) -> list[str]:
    """Coordinates of the checked types' fields some of ``roles`` may read, from the schema."""
    found = []
    for name, object_type in schema._schema.type_map.items():
        if not isinstance(object_type, GraphQLObjectType) or name.startswith("__"):
            continue
        if name in DEFAULT_MATRIX.inherited:
            continue
        found += [
            f"{name}.{field}"
            for field in object_type.fields
            if roles & DEFAULT_MATRIX.roles(f"{name}.{field}")
        ]
    return sorted(found)


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
async def test_viewer_tells_each_role_what_it_may_read(
    schema: GatewaySchema, engine: AsyncEngine, settings: Settings, role: Role
) -> None:
    who = principal_of(role)
    result = await run_as(schema, engine, settings, who, VIEWER)
    assert result.errors is None
    assert result.data is not None
    viewer = result.data["viewer"]
    readable = _readable_from_schema(schema, {role})
    assert readable == schema.authz.readable([role])
    grant = grant_of(role)
    assert viewer == {
        "subject": who.subject,
        "authenticatedBy": "JWT",
        "grants": [
            {
                "role": role.value,
                "workspaceId": grant.workspace_id,
                "merchantId": grant.merchant_id,
                "readableFields": readable,
            }
        ],
        "readableFields": readable,
    }
    if role is Role.INGESTER:
        assert readable == ["Query.viewer"]
    for coordinate in ("Workspace.estimatedAdRevenue", "MiniProgram.validAdImpressions"):
        assert (coordinate in readable) == (role in DEFAULT_MATRIX.roles(coordinate))


async def test_viewer_of_several_grants_lists_the_union(
    schema: GatewaySchema, engine: AsyncEngine, settings: Settings
) -> None:
    result = await run_as(schema, engine, settings, MIXED, VIEWER)
    assert result.errors is None
    assert result.data is not None
    viewer = result.data["viewer"]
    per_grant = {g["role"]: g["readableFields"] for g in viewer["grants"]}
    assert per_grant == {
        "SUPERAPP_DEVELOPER": _readable_from_schema(schema, {Role.SUPERAPP_DEVELOPER}),
        "MINI_PROGRAM_ADMIN": _readable_from_schema(schema, {Role.MINI_PROGRAM_ADMIN}),
    }
    union = _readable_from_schema(schema, {Role.SUPERAPP_DEVELOPER, Role.MINI_PROGRAM_ADMIN})
    assert viewer["readableFields"] == union
    assert union == sorted(set().union(*per_grant.values()))
