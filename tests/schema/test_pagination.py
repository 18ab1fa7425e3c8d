"""Relay pagination: first/after, pageInfo, totalCount, and argument errors."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.resolvers.pagination import encode_cursor
from gateway.settings import Settings
from gateway.store import tables
from tests.schema.catalog_data import data, run

N_WORKSPACES = 7
CREATED = dt.datetime(2024, 1, 1)


@pytest.fixture
async def many_workspaces(engine: AsyncEngine) -> AsyncEngine:
    """Seven workspaces ws-0..ws-6, each with three target apps."""
    async with engine.begin() as conn:
        await conn.execute(
            tables.workspaces.insert(),
            [{"id": f"ws-{i}", "name": f"W{i}"} for i in range(N_WORKSPACES)],
        )
        await conn.execute(
            tables.target_apps.insert(),
            [
                {
                    "id": f"app-{i}-{j}",
                    "workspace_id": f"ws-{i}",
                    "name": "A",
                    "created_at": CREATED,
                }
                for i in range(N_WORKSPACES)
                for j in range(3)
            ],
        )
    return engine


PAGE = """query($first: Int, $after: String) { workspaces(first: $first, after: $after) {
    totalCount edges { cursor node { id } } nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""


async def test_walking_every_page(
    schema: strawberry.Schema, many_workspaces: AsyncEngine, settings: Settings
) -> None:
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        result = await data(schema, many_workspaces, settings, PAGE, {"first": 3, "after": after})
        conn = result["workspaces"]
        pages += 1
        assert conn["totalCount"] == N_WORKSPACES
        assert [e["node"] for e in conn["edges"]] == conn["nodes"]
        info = conn["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        assert info["startCursor"] == conn["edges"][0]["cursor"]
        assert info["endCursor"] == conn["edges"][-1]["cursor"]
        seen += [n["id"] for n in conn["nodes"]]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert pages == 3
    assert seen == [f"ws-{i}" for i in range(N_WORKSPACES)]


async def test_exact_page_has_no_next(
    schema: strawberry.Schema, many_workspaces: AsyncEngine, settings: Settings
) -> None:
    result = await data(schema, many_workspaces, settings, PAGE, {"first": N_WORKSPACES})
    assert result["workspaces"]["pageInfo"]["hasNextPage"] is False
    assert len(result["workspaces"]["nodes"]) == N_WORKSPACES
    default = await data(schema, many_workspaces, settings, PAGE, {"first": None})
    assert len(default["workspaces"]["nodes"]) == N_WORKSPACES  # null = the default, 50


async def test_nested_pages_are_per_parent(
    schema: strawberry.Schema, many_workspaces: AsyncEngine, settings: Settings
) -> None:
    query = """query($after: String) { workspaces { nodes { id targetApps(first: 2, after: $after) {
        totalCount nodes { id } pageInfo { hasNextPage } } } } }"""
    first = await data(schema, many_workspaces, settings, query)
    for ws in first["workspaces"]["nodes"]:
        i = ws["id"].removeprefix("ws-")
        assert ws["targetApps"] == {
            "totalCount": 3,
            "nodes": [{"id": f"app-{i}-0"}, {"id": f"app-{i}-1"}],
            "pageInfo": {"hasNextPage": True},
        }
    # A cursor is a keyset position: after app-3-1 every workspace keeps its ids above it.
    cursor = encode_cursor("app-3-1")
    after = await data(schema, many_workspaces, settings, query, {"after": cursor})
    by_ws = {ws["id"]: ws["targetApps"] for ws in after["workspaces"]["nodes"]}
    assert by_ws["ws-3"]["nodes"] == [{"id": "app-3-2"}]
    assert by_ws["ws-3"]["pageInfo"] == {"hasNextPage": False}
    assert by_ws["ws-4"]["nodes"] == [{"id": "app-4-0"}, {"id": "app-4-1"}]
    assert by_ws["ws-2"]["nodes"] == []
    assert by_ws["ws-2"]["totalCount"] == 3


@pytest.mark.parametrize("first", [101, 500, -1])
async def test_first_out_of_bounds_is_bad_user_input(
    schema: strawberry.Schema, many_workspaces: AsyncEngine, settings: Settings, first: int
) -> None:
    result = await run(schema, many_workspaces, settings, PAGE, {"first": first})
    assert result.errors is not None
    assert [e.extensions for e in result.errors] == [{"code": "BAD_USER_INPUT"}]
    assert "100" in result.errors[0].message


async def test_first_100_is_accepted(
    schema: strawberry.Schema, many_workspaces: AsyncEngine, settings: Settings
) -> None:
    result = await data(schema, many_workspaces, settings, PAGE, {"first": 100})
    assert len(result["workspaces"]["nodes"]) == N_WORKSPACES


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        base64.urlsafe_b64encode(b"v2:ws-1").decode(),
        base64.urlsafe_b64encode(b"ws-1").decode(),
        base64.urlsafe_b64encode(b"v1:").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        base64.urlsafe_b64encode(b"v1:ws-1").decode(),  # a position not sealed by the gateway
        encode_cursor("ws-1")[:-2] + ("AA" if not encode_cursor("ws-1").endswith("AA") else "BB"),
    ],
)
async def test_bad_cursor_is_bad_user_input(
    schema: strawberry.Schema, many_workspaces: AsyncEngine, settings: Settings, cursor: str
) -> None:
    nested = """query($after: String) { workspace(id: "ws-1") {
        targetApps(after: $after) { totalCount } } }"""
    for query in (PAGE, nested):
        result = await run(schema, many_workspaces, settings, query, {"after": cursor})
        assert result.errors is not None
        assert result.errors[0].extensions == {"code": "BAD_USER_INPUT"}
        assert result.errors[0].message.startswith("malformed cursor")


async def test_cursors_reveal_no_id(
    schema: strawberry.Schema, many_workspaces: AsyncEngine, settings: Settings
) -> None:
    """A cursor seals its position: neither it nor its base64 decoding names the item (lists
    may hold items whose parents the caller gets NOT_FOUND for, e.g. a team's deployments)."""
    query = """{ workspaces(first: 3) { edges { cursor node { id
        targetApps(first: 2) { edges { cursor node { id } } } } } } }"""
    result = await data(schema, many_workspaces, settings, query)
    pairs = [(e["cursor"], e["node"]["id"]) for e in result["workspaces"]["edges"]]
    for ws in result["workspaces"]["edges"]:
        pairs += [(e["cursor"], e["node"]["id"]) for e in ws["node"]["targetApps"]["edges"]]
    assert len(pairs) == 9
    for cursor, item_id in pairs:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        assert item_id not in cursor
        assert item_id.encode() not in decoded


_PARENTS = {  # the GraphQL type -> its root field and an entity of the shared test catalog
    "Workspace": ("workspace", "ws-1"),
    "TargetApp": ("targetApp", "app-1"),
    "Merchant": ("merchant", "m-1"),
    "MiniProgram": ("miniProgram", "mp-1"),
}
_EVERY_CONNECTION = {
    f"{parent}.{field}": f'{_PARENTS[parent][0]}(id: "{_PARENTS[parent][1]}") '
    f"{{ {field}(after: $after) {{ totalCount }} }}"
    for parent, field in [
        ("Workspace", "targetApps"),
        ("Workspace", "miniPrograms"),
        ("Workspace", "merchants"),
        ("TargetApp", "miniPrograms"),
        ("Merchant", "miniPrograms"),
        ("MiniProgram", "deployments"),
    ]
}
"""A query of every nested connection field, on entities of the shared test catalog."""


@pytest.mark.parametrize("field", sorted(_EVERY_CONNECTION))
async def test_every_connection_refuses_a_forged_cursor(
    schema: strawberry.Schema, catalog: AsyncEngine, settings: Settings, field: str
) -> None:
    query = f"query($after: String) {{ {_EVERY_CONNECTION[field]} }}"
    sealed = encode_cursor("mp-1")
    forged = [
        base64.urlsafe_b64encode(b"v1:mp-1").decode(),  # a position the gateway did not seal
        sealed[:-2] + ("AA" if not sealed.endswith("AA") else "BB"),  # a sealed one altered
    ]
    for cursor in forged:
        result = await run(schema, catalog, settings, query, {"after": cursor})
        assert result.errors is not None, field
        assert result.errors[0].extensions == {"code": "BAD_USER_INPUT"}
        assert result.errors[0].message.startswith("malformed cursor")
    accepted = await run(schema, catalog, settings, query, {"after": sealed})
    assert accepted.errors is None, accepted.errors
