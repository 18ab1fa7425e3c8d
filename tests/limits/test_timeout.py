"""The request timeout: an operation still running after GATEWAY_REQUEST_TIMEOUT_SECONDS is
cancelled and answered with TIMEOUT (504 or 200 by media type), never cached.

The slow part is a snapshot read that never finishes (it waits on an event nobody sets), so
the tests depend on no timing but the (tiny) timeout itself."""

from __future__ import annotations

import asyncio

import pytest

from gateway.loaders.snapshot import Snapshot, SnapshotReader
from tests.limits.conftest import Serve
from tests.limits.support import codes

QUERY = {"query": "{ snapshot { id } }"}


@pytest.fixture
def stuck(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every snapshot read hang; returns the reads started and cancelled."""
    seen: list[str] = []

    async def never(self: SnapshotReader) -> Snapshot:
        seen.append("started")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise
        raise AssertionError("unreachable")

    monkeypatch.setattr(SnapshotReader, "snapshot", never)
    return seen


async def test_a_slow_operation_is_stopped_with_timeout_under_json(
    serve: Serve, admin: dict[str, str], stuck: list[str]
) -> None:
    async with serve(request_timeout_seconds=0.05) as http:
        first = await http.post("/graphql", json=QUERY, headers=admin)
        again = await http.post("/graphql", json=QUERY, headers=admin)
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.json()["data"] is None
    assert codes(first) == ["TIMEOUT"]
    assert codes(again) == ["TIMEOUT"]  # not cached: the second ran (and hung) too
    assert stuck == ["started", "cancelled"] * 2


async def test_a_slow_operation_is_a_504_under_graphql_response_json(
    serve: Serve, admin: dict[str, str], stuck: list[str]
) -> None:
    headers = {**admin, "Accept": "application/graphql-response+json"}
    async with serve(request_timeout_seconds=0.05) as http:
        response = await http.post("/graphql", json=QUERY, headers=headers)
    assert response.status_code == 504
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert "data" not in response.json()
    assert codes(response) == ["TIMEOUT"]
    assert stuck == ["started", "cancelled"]


async def test_an_operation_within_the_timeout_answers(serve: Serve, admin: dict[str, str]) -> None:
    async with serve(request_timeout_seconds=30) as http:
        response = await http.post("/graphql", json=QUERY, headers=admin)
    assert codes(response) == []
    assert response.json()["data"]["snapshot"]["id"] is not None
