"""Request body: over ``GATEWAY_MAX_QUERY_BYTES`` is HTTP 413; a JSON array (a batch) is
refused unless ``GATEWAY_ALLOW_BATCHING`` is on."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson

from tests.limits.conftest import Serve
from tests.limits.support import codes, errors

LIMIT = 64 * 1024


def padded_body(size: int) -> bytes:
    """A JSON request of exactly ``size`` bytes: a small query and a long variable."""
    empty = orjson.dumps({"query": "{ snapshot { id } }", "variables": {"pad": ""}})
    body = orjson.dumps(
        {"query": "{ snapshot { id } }", "variables": {"pad": "x" * (size - len(empty))}}
    )
    assert len(body) == size
    return body


async def _post(client: httpx.AsyncClient, body: bytes, admin: dict[str, str]) -> httpx.Response:
    headers = {**admin, "Content-Type": "application/json"}
    return await client.post("/graphql", content=body, headers=headers)


async def test_body_at_the_limit_runs(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    response = await _post(client, padded_body(LIMIT), admin)
    assert response.status_code == 200
    assert "QUERY_TOO_COMPLEX" not in codes(response)
    assert len(executions) == 1


async def test_body_past_the_limit_is_413_unexecuted(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    response = await _post(client, padded_body(LIMIT + 1), admin)
    assert response.status_code == 413
    assert codes(response) == ["QUERY_TOO_COMPLEX"]
    assert errors(response)[0]["message"] == (
        f"request body larger than {LIMIT} bytes (GATEWAY_MAX_QUERY_BYTES)"
    )
    assert executions == []


async def test_streamed_body_without_length_is_cut_at_the_limit(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(1000):  # up to 16 MB if nobody stops reading
            sent.append(1)
            yield b" " * 16384

    headers = {**admin, "Content-Type": "application/json"}
    response = await client.post("/graphql", content=chunks(), headers=headers)
    assert response.status_code == 413
    assert executions == []
    assert len(sent) < 1000


async def test_body_limit_follows_the_setting(
    serve: Serve, admin: dict[str, str], executions: list[str]
) -> None:
    async with serve(max_query_bytes=2048) as http:
        at = await _post(http, padded_body(2048), admin)
        past = await _post(http, padded_body(2049), admin)
    assert at.status_code == 200
    assert past.status_code == 413
    assert len(executions) == 1


async def test_unauthenticated_big_body_gets_401_first(client: httpx.AsyncClient) -> None:
    response = await _post(client, padded_body(LIMIT + 1), {})
    assert response.status_code == 401


BATCH = [{"query": "{ a: snapshot { id } }"}, {"query": "{ b: snapshot { id } }"}]


async def test_batch_is_refused_by_default(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    response = await _post(client, b"  " + orjson.dumps(BATCH), admin)
    assert response.status_code == 400
    assert codes(response) == ["BAD_USER_INPUT"]
    assert "batching is off" in errors(response)[0]["message"]
    assert executions == []


async def test_batch_runs_when_enabled(
    serve: Serve, admin: dict[str, str], executions: list[str]
) -> None:
    async with serve(allow_batching=True) as http:
        response = await _post(http, orjson.dumps(BATCH), admin)
    assert response.status_code == 200
    answers = response.json()
    assert isinstance(answers, list)
    assert [set(answer["data"]) for answer in answers] == [{"a"}, {"b"}]
    assert len(executions) == 2


async def test_each_batched_operation_is_limited(
    serve: Serve, admin: dict[str, str], executions: list[str]
) -> None:
    aliased = " ".join(f"s{i}: snapshot {{ id }}" for i in range(16))
    batch = [{"query": "{ snapshot { id } }"}, {"query": f"{{ {aliased} }}"}]
    async with serve(allow_batching=True) as http:
        response = await _post(http, orjson.dumps(batch), admin)
    first, second = response.json()
    assert "QUERY_TOO_COMPLEX" not in [
        (e.get("extensions") or {}).get("code") for e in first.get("errors") or []
    ]
    assert [e["extensions"]["code"] for e in second["errors"]] == ["QUERY_TOO_COMPLEX"]
    assert len(executions) == 1
