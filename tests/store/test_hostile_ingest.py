"""Events from the future are quarantined (SPEC §2, issue 14.6): dated more than
``GATEWAY_MAX_CLOCK_SKEW_SECONDS`` after they are received; within the tolerance they count."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store import tables as t
from gateway.store.ingest import ingest_lines
from gateway.store.ingest.events import set_max_clock_skew
from tests.store.ingest_support import catalog, launch, lines


@pytest.fixture
def skew() -> Iterator[None]:
    set_max_clock_skew(600)
    yield
    set_max_clock_skew(3600)


async def test_an_event_past_the_clock_skew_is_quarantined(engine: AsyncEngine, skew: None) -> None:
    now = dt.datetime.now(dt.UTC)
    events = [
        launch("soon", at=(now + dt.timedelta(seconds=300)).isoformat()),
        launch("later", at=(now + dt.timedelta(seconds=1200)).isoformat()),
        launch("past", at=(now - dt.timedelta(days=3)).isoformat()),
        launch("far", at="2100-01-01T00:00:00+00:00"),
    ]
    report = await ingest_lines(engine, lines([*catalog(), *events]), source="skew")
    assert report.quarantined_by_reason == {"from the future": 2}
    assert [p.line for p in report.problems] == [7, 9]
    assert "600 s after it was received" in report.problems[0].reason
    async with engine.connect() as conn:
        ids = set((await conn.scalars(select(t.launches.c.id))).all())
        assert await conn.scalar(select(func.count()).select_from(t.quarantine)) == 2
    assert ids == {"soon", "past"}
