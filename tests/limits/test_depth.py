"""Depth: an operation nested deeper than ``GATEWAY_MAX_QUERY_DEPTH`` never executes."""

from __future__ import annotations

import httpx
import pytest

from tests.limits.conftest import Serve
from tests.limits.support import codes, deep_query, errors


def test_deep_query_has_the_depth_it_claims() -> None:
    assert deep_query(3) == "{ workspaces(first: 1) { nodes { id } } }"
    assert deep_query(5) == (
        "{ workspaces(first: 1) { nodes { targetApps(first: 1) { nodes { id } } } } }"
    )
    assert deep_query(11).count("{") == 11  # the operation's brace and ten fields with selections


async def test_depth_at_the_default_bound_runs(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    response = await client.post("/graphql", json={"query": deep_query(10)}, headers=admin)
    assert response.status_code == 200
    assert errors(response) == []
    assert response.json()["data"]["workspaces"]["nodes"] == []
    assert len(executions) == 1


async def test_depth_past_the_default_bound_is_refused_unexecuted(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    response = await client.post("/graphql", json={"query": deep_query(11)}, headers=admin)
    assert response.status_code == 200
    assert codes(response) == ["QUERY_TOO_COMPLEX"]
    assert errors(response)[0]["message"] == (
        "the operation nests fields 11 levels deep; the limit is 10"
    )
    assert response.json().get("data") is None
    assert executions == []


@pytest.mark.parametrize("limit", [3, 6])
async def test_depth_limit_follows_the_setting(
    serve: Serve, admin: dict[str, str], executions: list[str], limit: int
) -> None:
    async with serve(max_query_depth=limit) as http:
        at = await http.post("/graphql", json={"query": deep_query(limit)}, headers=admin)
        past = await http.post("/graphql", json={"query": deep_query(limit + 1)}, headers=admin)
    assert errors(at) == []
    assert codes(past) == ["QUERY_TOO_COMPLEX"]
    assert len(executions) == 1


async def test_depth_hidden_in_fragments_counts(
    serve: Serve, admin: dict[str, str], executions: list[str]
) -> None:
    query = """
    query Hidden { workspaces { ...W } }
    fragment W on WorkspaceConnection { nodes { ... on Workspace { targetApps { ...T } } } }
    fragment T on TargetAppConnection { nodes { id } }
    """  # depth 5: workspaces, nodes, targetApps, nodes, id
    async with serve(max_query_depth=4) as http:
        refused = await http.post("/graphql", json={"query": query}, headers=admin)
    async with serve(max_query_depth=5) as http:
        accepted = await http.post("/graphql", json={"query": query}, headers=admin)
    assert codes(refused) == ["QUERY_TOO_COMPLEX"]
    assert "Hidden" in errors(refused)[0]["message"]
    assert errors(accepted) == []
    assert len(executions) == 1


async def test_circular_introspection_is_bounded(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    # types -> fields -> type -> fields -> ...: each level fans out over the whole schema.
    inner = "name"
    for _ in range(5):
        inner = f"fields {{ type {{ {inner} }} }}"
    query = f"{{ __schema {{ types {{ {inner} }} }} }}"
    response = await client.post("/graphql", json={"query": query}, headers=admin)
    # graphql-core's own MaxIntrospectionDepthRule also refuses it (without a code).
    assert "QUERY_TOO_COMPLEX" in codes(response)
    assert executions == []
