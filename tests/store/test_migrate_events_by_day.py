"""Migration 0009 moves a populated database to raw events keyed by (id, UTC day), partitioned
by day on PostgreSQL, keeping every row; the rollups rebuilt from them give the same numbers."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Column, MetaData, Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store import tables as t
from gateway.store.migrate import current_revision, head_revision, upgrade
from gateway.store.partitions import partition_days
from gateway.store.rollup import refresh
from tests.metrics import bruteforce as bf
from tests.metrics.engine_support import BASE, Event, MiniProgram, event_row, insert_catalog
from tests.metrics.rollup_dump import dump_rollups

MPS = {
    "m0": MiniProgram("m0", "w0", "MINI_PROGRAM", "food"),
    "m1": MiniProgram("m1", "w0", "MINI_GAME", "games"),
}


def _events() -> list[Event]:
    start = datetime.combine(BASE, datetime.min.time())
    events = []
    for n in range(60):
        at = start + timedelta(hours=7 * n, microseconds=n)  # across days, to the microsecond
        kind = ("launch", "pageView", "adImpression")[n % 3]
        events.append(
            Event(f"e{n}", kind, f"a{n % 2}", f"m{n % 2}", n % 7, "PRODUCTION", at,
                  duration_ms=n * 10, valid=n % 2 == 0, revenue_micros=n * 1000)
        )  # fmt: skip
    return events


def _old_row(event: Event) -> dict[str, object]:
    row = event_row(event, batch_id=1)
    del row["day"]  # revision 0008 had no day
    return row


async def _store_before_0009(engine: AsyncEngine, events: list[Event]) -> None:
    """The events as revision 0008 stored them: no ``day``, keyed by id alone."""
    async with engine.begin() as conn:
        batch = {
            "id": 1,
            "source": "old",
            "committed_at": datetime(2026, 11, 1),
            "records": len(events),
        }
        await conn.execute(
            insert(t.ingest_batches).values(**batch, stored=len(events), duplicates=0,
                                            quarantined=0)
        )  # fmt: skip
        for kind, table in t.EVENT_TABLES.items():
            old = Table(table.name, MetaData(), *(Column(c.name, c.type) for c in table.c
                                                  if c.name != "day"))  # fmt: skip
            await conn.execute(insert(old), [_old_row(e) for e in events if e.kind == kind])


async def test_a_populated_database_migrates_and_answers_the_same(fresh: AsyncEngine) -> None:
    events = _events()
    await upgrade(fresh, "0008")
    await insert_catalog(fresh, MPS)
    await _store_before_0009(fresh, events)
    await upgrade(fresh)
    assert await current_revision(fresh) == head_revision()
    async with fresh.connect() as conn:
        stored = {
            row.id: row
            for table in t.EVENT_TABLES.values()
            for row in (await conn.execute(table.select())).all()
        }
        days = await partition_days(conn)
    assert sorted(stored) == sorted(e.id for e in events)
    for event in events:
        row = stored[event.id]
        assert (row.at.replace(tzinfo=None), row.day, row.uid) == (event.at, event.day, event.uid)
    if fresh.dialect.name == "postgresql":
        assert days == sorted({e.day for e in events})
    await refresh(fresh)
    assert await dump_rollups(fresh) == bf.expected_rollups(events, MPS)
