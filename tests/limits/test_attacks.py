"""The usual GraphQL attacks against the limits, work counted by executions and computations
(never by time): alias overloading of costly fields, field duplication, directive overloading.

Also covered elsewhere: circular introspection (tests/limits/test_depth.py), batching, CSRF,
GET mutations, anonymous introspection and suggestions (tests/http/test_attacks.py).
"""

from __future__ import annotations

import httpx
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.loaders.metric_cache import LAYER
from tests.cache_http.world import build_world
from tests.limits.conftest import Serve
from tests.limits.support import codes, count_tokens, errors

COSTLY = "workspaces(first: 100) { nodes { activeUsers(timeRange: {preset: LAST_30_DAYS}) " + (
    "{ value series { value } } } }"
)
"""1 (the page) + 100 workspaces × (1 + 1 total + 30 points) = 3,201."""


async def test_alias_overloading_of_costly_fields_is_refused_by_cost_unexecuted(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    one = await client.post("/graphql", json={"query": f"{{ {COSTLY} }}"}, headers=admin)
    fifteen = " ".join(f"a{i}: {COSTLY}" for i in range(15))  # within the alias limit
    many = await client.post("/graphql", json={"query": f"{{ {fifteen} }}"}, headers=admin)
    assert one.json()["extensions"]["cost"] == 3201
    assert codes(many) == ["QUERY_TOO_COMPLEX"]
    assert errors(many)[0]["extensions"]["cost"] == 15 * 3201
    assert len(executions) == 1


def _computations() -> float:
    return REGISTRY.get_sample_value("gateway_cache_computations_total", {"layer": LAYER}) or 0.0


async def test_field_duplication_computes_a_metric_once(
    serve: Serve, admin: dict[str, str], engine: AsyncEngine
) -> None:
    await build_world(engine)
    field = "activeUsers(timeRange: {preset: LAST_7_DAYS}) { value previousValue }"
    counts: list[float] = []
    for copies in (1, 100):
        query = f'{{ workspace(id: "ws-1") {{ {" ".join([field] * copies)} }} }}'
        async with serve() as http:  # a fresh app: nothing cached
            before = _computations()
            response = await http.post("/graphql", json={"query": query}, headers=admin)
            counts.append(_computations() - before)
        assert codes(response) == []
        assert response.json()["extensions"]["cost"] == 2  # the workspace, the metric once
    assert counts[0] >= 1
    assert counts[1] == counts[0]


async def test_directive_overloading_is_refused_by_tokens_then_by_directives(
    serve: Serve, admin: dict[str, str], executions: list[str]
) -> None:
    query = "{ snapshot { " + "id @include(if: true) " * 1000 + "} }"
    assert count_tokens(query) > 6000
    async with serve() as http:
        by_tokens = await http.post("/graphql", json={"query": query}, headers=admin)
    async with serve(max_query_tokens=10_000) as http:
        by_directives = await http.post("/graphql", json={"query": query}, headers=admin)
    assert codes(by_tokens) == ["QUERY_TOO_COMPLEX"]
    assert "tokens" in errors(by_tokens)[0]["message"]
    assert codes(by_directives)[0] == "QUERY_TOO_COMPLEX"
    assert "uses 1000 directives" in errors(by_directives)[0]["message"]
    assert executions == []
