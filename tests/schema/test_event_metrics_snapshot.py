"""One response reads one snapshot (SPEC §7), and the read transaction is closed after it.

A request reads part of its answer, a refresh commits from another connection, and the rest of
the same request still reads the old snapshot (both backends: REPEATABLE READ on PostgreSQL,
one WAL read transaction on SQLite); a new request sees the new one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.context import Context
from gateway.loaders.snapshot import SnapshotReader
from gateway.settings import Settings
from gateway.store.rollup import refresh
from tests.metrics.engine_support import Event, MiniProgram
from tests.principals import ADMIN
from tests.schema import event_metrics_support as sup

MPS = {"m0": MiniProgram("m0", "w0", "MINI_PROGRAM", "food")}

FIRST = """{ snapshot { id } workspace(id: "w0") {
  activeUsers(timeRange: {preset: LAST_30_DAYS}) { value } } }"""

# Other ranges than FIRST's, so the loaders' caches cannot answer them.
SECOND = """{ snapshot { id } workspace(id: "w0") {
  launches(timeRange: {days: 20, endDate: "2026-11-10"}) { value series { value } }
  lifetimeUsers(timeRange: {preset: YESTERDAY}) { value } }
  targetApp(id: "a0") { activeUsers(timeRange: {preset: LAST_15_DAYS}) { value } } }"""


def _launches(first: int, count: int, day: int) -> list[bytes]:
    at = dt.datetime(2026, 11, day, 12)
    return [
        sup.event_line(Event(f"e{i}", "launch", "a0", "m0", i, "PRODUCTION", at))
        for i in range(first, first + count)
    ]


async def _execute(schema: strawberry.Schema, context: Context, query: str) -> Any:
    result = await schema.execute(query, context_value=context)
    assert result.errors is None, result.errors
    return result.data


async def test_a_refresh_during_a_request_is_invisible_to_it(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings
) -> None:
    await sup.ingest(engine, sup.catalog_lines(MPS))
    await sup.ingest(engine, _launches(1, 3, 2))
    await refresh(engine)
    async with Context.create(engine, settings, now=sup.NOW, principal=ADMIN) as before:
        expected_second = await _execute(schema, before, SECOND)

    async with Context.create(engine, settings, now=sup.NOW, principal=ADMIN) as context:
        first = await _execute(schema, context, FIRST)
        assert first["workspace"]["activeUsers"]["value"] == 3
        await sup.ingest(engine, _launches(10, 5, 8))
        newer = await refresh(engine)  # commits while the request's transaction is open
        assert await _execute(schema, context, SECOND) == expected_second
        assert (await _execute(schema, context, FIRST)) == first

    async with Context.create(engine, settings, now=sup.NOW, principal=ADMIN) as after:
        fresh = await _execute(schema, after, SECOND)
    assert fresh["snapshot"]["id"] == str(newer.id) != first["snapshot"]["id"]
    assert fresh["workspace"]["launches"]["value"] == 8
    assert expected_second["workspace"]["launches"]["value"] == 3


async def test_the_view_closes_the_read_transaction(
    client: httpx.AsyncClient, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[bool] = []
    close = SnapshotReader.close

    async def recording_close(self: SnapshotReader) -> None:
        closed.append(self.opened)
        await close(self)
        assert not self.opened

    monkeypatch.setattr(SnapshotReader, "close", recording_close)
    await sup.ingest(engine, sup.catalog_lines(MPS))
    response = await client.post("/graphql", json={"query": FIRST})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["snapshot"] == {"id": "0"}
    assert closed == [True]  # opened by the metric, closed once the response was sent


async def test_a_closed_reader_refuses_to_reopen(engine: AsyncEngine) -> None:
    reader = SnapshotReader(engine)
    assert (await reader.snapshot()).id == 0
    await reader.close()
    await reader.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        await reader.snapshot()
