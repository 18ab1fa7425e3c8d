"""Tokens: a document past ``GATEWAY_MAX_QUERY_TOKENS`` stops parsing there and never runs;
field duplication and directive overloading stay cheap within the limit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.schema.snapshot import Snapshot
from tests.limits.conftest import Serve
from tests.limits.support import codes, count_tokens, errors


def operations(tokens: int) -> str:
    """Operations ``query Q<i> { snapshot { id } }`` (8 tokens each), the first padded with
    ``__typename`` to ``tokens`` tokens in all: many small selections, which graphql-core
    validates cheaply."""
    count, padding = divmod(tokens, 8)
    first = "query Q0 { snapshot { id }" + " __typename" * padding + " }"
    document = " ".join([first, *(f"query Q{i} {{ snapshot {{ id }} }}" for i in range(1, count))])
    assert count_tokens(document) == tokens
    return document


def duplicated(copies: int) -> str:
    """``copies`` of ``snapshot { id }`` in one selection (4 tokens each)."""
    return "{ " + "snapshot { id } " * copies + "}"


@pytest.fixture
def snapshot_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per call of the ``Query.snapshot`` resolver's work."""
    calls: list[int] = []
    real = Snapshot.of_request.__func__  # type: ignore[attr-defined]

    async def spy(cls: type[Snapshot], info: Any) -> Snapshot:
        calls.append(1)
        result: Snapshot = await real(cls, info)
        return result

    monkeypatch.setattr(Snapshot, "of_request", classmethod(spy))
    return calls


async def test_tokens_at_the_default_bound_run(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    body = {"query": operations(2000), "operationName": "Q249"}
    response = await client.post("/graphql", json=body, headers=admin)
    assert response.status_code == 200
    assert errors(response) == []
    assert set(response.json()["data"]) == {"snapshot"}
    assert len(executions) == 1


async def test_field_duplication_within_the_limit_resolves_once(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    executions: list[str],
    snapshot_reads: list[int],
) -> None:
    response = await client.post("/graphql", json={"query": duplicated(300)}, headers=admin)
    assert errors(response) == []
    assert len(executions) == 1
    # 300 copies of one field merge into one response key: resolved once (the work is counted,
    # not timed: timings belong in bench/).
    assert len(snapshot_reads) == 1


async def test_tokens_past_the_default_bound_are_refused_unexecuted(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    executions: list[str],
    snapshot_reads: list[int],
) -> None:
    body = {"query": operations(2001), "operationName": "Q0"}
    response = await client.post("/graphql", json=body, headers=admin)
    assert codes(response) == ["QUERY_TOO_COMPLEX"]
    assert errors(response)[0]["message"] == (
        "the document has more than 2000 tokens; the limit is 2000"
    )
    assert executions == []
    assert snapshot_reads == []


async def test_token_limit_follows_the_setting(
    serve: Serve, admin: dict[str, str], executions: list[str]
) -> None:
    async with serve(max_query_tokens=10) as http:
        at = await http.post("/graphql", json={"query": operations(10)}, headers=admin)
        past = await http.post("/graphql", json={"query": operations(11)}, headers=admin)
    assert "QUERY_TOO_COMPLEX" not in codes(at)
    assert codes(past) == ["QUERY_TOO_COMPLEX"]
    assert len(executions) == 1


async def test_directive_overloading_is_refused_unexecuted(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    directives = " @include(if: true)" * 300  # 7 tokens each: 2,100 past the limit
    within = "{ snapshot" + " @include(if: true)" * 280 + " { id } }"
    assert count_tokens(within) <= 2000 < count_tokens("{ snapshot" + directives + " { id } }")
    repeated = await client.post("/graphql", json={"query": within}, headers=admin)
    too_many = await client.post(
        "/graphql", json={"query": "{ snapshot" + directives + " { id } }"}, headers=admin
    )
    # Past GATEWAY_MAX_QUERY_DIRECTIVES (50); graphql-core also refuses a non-repeatable
    # directive used twice in one place, and stops after 100 errors.
    assert repeated.status_code == 200
    assert codes(repeated)[0] == "QUERY_TOO_COMPLEX"
    assert "uses 280 directives" in errors(repeated)[0]["message"]
    assert any("can only be used once" in e["message"] for e in errors(repeated))
    assert codes(repeated)[-1] == "QUERY_TOO_COMPLEX"
    assert codes(too_many) == ["QUERY_TOO_COMPLEX"]
    assert executions == []


async def test_field_duplication_past_graphql_cores_budget_is_refused_unexecuted(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    executions: list[str],
    snapshot_reads: list[int],
) -> None:
    # 499 copies fit in 2,000 tokens, but comparing them pairwise exceeds graphql-core's
    # validation budget: it aborts, and the abort carries our code.
    document = duplicated(499)
    assert count_tokens(document) == 1998
    response = await client.post("/graphql", json={"query": document}, headers=admin)
    assert codes(response) == ["QUERY_TOO_COMPLEX"]
    assert errors(response)[0]["message"] == "Validation aborted."
    assert executions == []
    assert snapshot_reads == []
