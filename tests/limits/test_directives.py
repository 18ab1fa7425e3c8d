"""Directives: more than ``GATEWAY_MAX_QUERY_DIRECTIVES``, fragments counted where spread,
never run."""

from __future__ import annotations

import httpx

from tests.limits.conftest import Serve
from tests.limits.support import codes, errors


def spread(count: int) -> str:
    """A selection on ``Snapshot`` with ``count`` directives on its leaves, repeated leaves
    merging (no aliases needed)."""
    return " ".join("id @include(if: true)" for _ in range(count))


async def test_directives_at_the_default_bound_run(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    query = f"{{ snapshot {{ {spread(50)} }} }}"
    response = await client.post("/graphql", json={"query": query}, headers=admin)
    assert codes(response) == []
    assert "id" in response.json()["data"]["snapshot"]
    assert len(executions) == 1


async def test_directives_past_the_default_bound_are_refused_unexecuted(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    query = f"{{ snapshot {{ {spread(51)} }} }}"
    response = await client.post("/graphql", json={"query": query}, headers=admin)
    assert codes(response) == ["QUERY_TOO_COMPLEX"]
    assert errors(response)[0]["message"] == (
        "the operation uses 51 directives (fragments counted each time they are spread); "
        "the limit is 50"
    )
    assert executions == []


FRAGMENTS = """
query Spread($yes: Boolean! = true) {
  snapshot { ...S @skip(if: false) ...S @include(if: $yes) %s }
}
fragment S on Snapshot { %s }
"""
"""Two spreads of S, each with a directive, and ids of its own: 2 + 2 × S + own."""


async def test_directives_hidden_in_fragments_count_per_spread(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    at = FRAGMENTS % (spread(8), "id @include(if: $yes) " * 20)  # 2 + 40 + 8 = 50
    past = FRAGMENTS % (spread(9), "id @include(if: $yes) " * 20)  # 2 + 40 + 9 = 51
    ok = await client.post("/graphql", json={"query": at}, headers=admin)
    refused = await client.post("/graphql", json={"query": past}, headers=admin)
    assert codes(ok) == []
    assert codes(refused) == ["QUERY_TOO_COMPLEX"]
    assert "Spread uses 51 directives" in errors(refused)[0]["message"]
    assert len(executions) == 1


async def test_directive_limit_follows_the_setting(
    serve: Serve, admin: dict[str, str], executions: list[str]
) -> None:
    async with serve(max_query_directives=0) as http:
        plain = await http.post("/graphql", json={"query": "{ snapshot { id } }"}, headers=admin)
        one = await http.post(
            "/graphql", json={"query": f"{{ snapshot {{ {spread(1)} }} }}"}, headers=admin
        )
    assert codes(plain) == []
    assert codes(one) == ["QUERY_TOO_COMPLEX"]
    assert len(executions) == 1
