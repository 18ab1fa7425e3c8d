"""Aliases: more than ``GATEWAY_MAX_QUERY_ALIASES``, fragments counted where spread, never run."""

from __future__ import annotations

import httpx

from tests.limits.conftest import Serve
from tests.limits.support import codes, errors


def aliased(count: int, start: int = 0) -> str:
    """``count`` aliased copies of ``snapshot { id }``."""
    return " ".join(f"s{i}: snapshot {{ id }}" for i in range(start, start + count))


async def test_aliases_at_the_default_bound_run(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    response = await client.post("/graphql", json={"query": f"{{ {aliased(15)} }}"}, headers=admin)
    assert response.status_code == 200
    assert "QUERY_TOO_COMPLEX" not in codes(response)
    assert set(response.json()["data"]) == {f"s{i}" for i in range(15)}
    assert len(executions) == 1


async def test_aliases_past_the_default_bound_are_refused_unexecuted(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    response = await client.post("/graphql", json={"query": f"{{ {aliased(16)} }}"}, headers=admin)
    assert codes(response) == ["QUERY_TOO_COMPLEX"]
    assert errors(response)[0]["message"] == (
        "the operation uses 16 aliases (fragments counted each time they are spread); "
        "the limit is 15"
    )
    assert executions == []


NESTED_FRAGMENTS = """
query Sneaky { ...Outer %s ...Outer }
fragment Outer on Query { ... on Query { ...Inner } o: snapshot { id } }
fragment Inner on Query { %s }
"""
"""Two spreads of Outer, each with one alias of its own and Inner's (inside an inline fragment),
plus the operation's own: 2 * (1 + inner) + own aliases."""


async def test_aliases_hidden_in_nested_fragments_count_per_spread(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    at = NESTED_FRAGMENTS % (aliased(1, start=100), aliased(6))  # 2 * (1 + 6) + 1 = 15
    past = NESTED_FRAGMENTS % (aliased(2, start=100), aliased(6))  # 2 * (1 + 6) + 2 = 16
    ok = await client.post("/graphql", json={"query": at}, headers=admin)
    refused = await client.post("/graphql", json={"query": past}, headers=admin)
    assert "QUERY_TOO_COMPLEX" not in codes(ok)
    assert ok.json()["data"]["s5"] == ok.json()["data"]["o"]
    assert codes(refused) == ["QUERY_TOO_COMPLEX"]
    assert "Sneaky uses 16 aliases" in errors(refused)[0]["message"]
    assert len(executions) == 1


async def test_alias_limit_follows_the_setting(
    serve: Serve, admin: dict[str, str], executions: list[str]
) -> None:
    async with serve(max_query_aliases=0) as http:
        plain = await http.post("/graphql", json={"query": "{ snapshot { id } }"}, headers=admin)
        one = await http.post("/graphql", json={"query": f"{{ {aliased(1)} }}"}, headers=admin)
    assert "QUERY_TOO_COMPLEX" not in codes(plain)
    assert codes(one) == ["QUERY_TOO_COMPLEX"]
    assert len(executions) == 1


async def test_exponential_fragment_spreads_are_counted_fast(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    # F0 spreads F1 twice, F1 spreads F2 twice, ...: 2**40 aliases in ~500 tokens.
    levels = 40
    fragments = "".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(levels)
    )
    query = f"{{ ...F0 }}\n{fragments}fragment F{levels} on Query {{ a: snapshot {{ id }} }}"
    response = await client.post("/graphql", json={"query": query}, headers=admin, timeout=5)
    assert codes(response) == ["QUERY_TOO_COMPLEX"]
    assert f"uses {2**levels} aliases" in errors(response)[0]["message"]
    assert executions == []
