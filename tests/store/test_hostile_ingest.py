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
from gateway.store.ingest.quarantine import (
    MAX_RAW_CHARS,
    QuarantineFullError,
    set_quarantine_max_rows,
)
from tests.store.ingest_support import ad_impression, catalog, launch, lines, page_view

SAME_DAY_LATER = "2024-05-02T01:00:00+02:00"
"""23:00 UTC on T0's UTC day: the same day for an event's key, whatever its offset says."""


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


@pytest.fixture
def small_quarantine() -> Iterator[int]:
    set_quarantine_max_rows(3)
    yield 3
    set_quarantine_max_rows(1_000_000)


async def test_a_full_quarantine_refuses_the_chunk_whole(
    engine: AsyncEngine, small_quarantine: int
) -> None:
    await ingest_lines(engine, lines(catalog()), source="catalog")
    first = await ingest_lines(engine, [b"bad 1\n", b"bad 2\n", *lines([launch("e1")])], source="a")
    assert first.quarantined == 2
    with pytest.raises(QuarantineFullError, match="quarantine is full"):
        await ingest_lines(engine, [*lines([launch("e2")]), b"bad 3\n", b"bad 4\n"], source="b")
    async with engine.connect() as conn:
        ids = set((await conn.scalars(select(t.launches.c.id))).all())
        held = await conn.scalar(select(func.count()).select_from(t.quarantine))
    assert ids == {"e1"}  # nothing of the refused chunk, its valid record included
    assert held == 2
    # One more bad record still fits.
    third = await ingest_lines(engine, [b"bad 5\n", *lines([launch("e3")])], source="c")
    assert third.quarantined == 1


async def test_a_huge_bad_line_is_kept_cut_in_the_quarantine(engine: AsyncEngine) -> None:
    huge = b'{"kind": "launch", "page": "' + b"a" * (2 * 1024 * 1024) + b'"}\n'
    report = await ingest_lines(engine, [huge], source="huge")
    assert report.quarantined == 1
    async with engine.connect() as conn:
        raw = await conn.scalar(select(t.quarantine.c.raw))
    assert raw is not None
    assert len(raw) < MAX_RAW_CHARS + 100
    assert raw.endswith(f"[cut: {len(huge)} bytes]")


@pytest.mark.parametrize("chunk_size", [2, 10_000])  # pipelined chunks (probed ahead) or one
async def test_a_replayed_id_with_other_content_is_a_conflicting_replay(
    engine: AsyncEngine, chunk_size: int
) -> None:
    first = [launch("e1"), page_view("p1", duration=1000), ad_impression("a1", revenue="1.5")]
    await ingest_lines(engine, lines([*catalog(), *first]), source="first")
    again = [
        launch("e1"),  # the same event: a silent replay
        {**launch("e1"), "userGuid": "someone-else"},  # the same id, another event
        page_view("p1", duration=1000),
        page_view("p1", duration=999_999),
        ad_impression("a1", revenue="1.500"),  # the same amount, written otherwise
        ad_impression("a1", revenue="2"),
        launch("e2"),
        {**launch("e2"), "at": SAME_DAY_LATER},  # conflicts within the body
    ]
    report = await ingest_lines(engine, lines(again), source="again", chunk_size=chunk_size)
    assert report.quarantined_by_reason == {"conflicting replay": 4}
    assert [p.line for p in report.problems] == [2, 4, 6, 8]
    assert "already received with different content" in report.problems[0].reason
    assert report.duplicates == 3
    async with engine.connect() as conn:
        users = (await conn.scalars(select(t.launches.c.uid))).all()
        durations = (await conn.scalars(select(t.page_views.c.duration_ms))).all()
        revenue = (await conn.scalars(select(t.ad_impressions.c.revenue_micros))).all()
    assert len(users) == 2  # e1 and e2, each counted once
    assert durations == [1000]  # the first stays counted
    assert revenue == [1_500_000]


@pytest.mark.parametrize("chunk_size", [1, 10_000])
async def test_an_id_names_one_event_per_utc_day(engine: AsyncEngine, chunk_size: int) -> None:
    """SPEC §2: a replay is the same id on the same UTC day; on another day it is another
    event, stored in another partition and counted, in one input or across inputs."""
    next_day = "2024-05-01T23:30:00-02:00"  # 01:30 UTC on the day after T0
    first = [launch("e1"), launch("e1", at=next_day)]
    report = await ingest_lines(
        engine, lines([*catalog(), *first]), source="a", chunk_size=chunk_size
    )
    assert (report.duplicates, report.quarantined) == (0, 0)
    again = [launch("e1", at=next_day), launch("e1", at="2024-05-03T00:00:00+00:00")]
    report = await ingest_lines(engine, lines(again), source="b", chunk_size=chunk_size)
    assert (report.duplicates, report.quarantined) == (1, 0)
    async with engine.connect() as conn:
        days = (await conn.scalars(select(t.launches.c.day).order_by(t.launches.c.day))).all()
    assert days == [dt.date(2024, 5, 1), dt.date(2024, 5, 2), dt.date(2024, 5, 3)]
