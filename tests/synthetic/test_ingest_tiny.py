"""The generated data is valid input for the real ingester, on PostgreSQL and SQLite."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store import tables
from gateway.store.ingest import ingest_lines
from gateway.store.records import LaunchRecord
from tests.synthetic.conftest import Dataset


async def test_tiny_ingests_without_quarantine(engine: AsyncEngine, tiny: Dataset) -> None:
    report = await ingest_lines(engine, tiny.lines, source="synthetic:tiny")
    distinct_events = {r.id for r in tiny.events}
    replays = len(tiny.events) - len(distinct_events)
    assert report.quarantined == 0, report.quarantined_by_reason
    assert report.records == len(tiny.lines)
    assert report.duplicates == replays
    async with engine.connect() as conn:
        launches = await conn.scalar(select(func.count()).select_from(tables.launches))
    assert launches == len({r.id for r in tiny.of(LaunchRecord)})
