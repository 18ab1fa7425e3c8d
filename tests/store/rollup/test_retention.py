"""Raw events as a bounded log: whole days dropped, no answer changed, too-old events refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.ingest import ingest_lines
from gateway.store.ingest.events import TOO_OLD, retained_from, set_raw_event_retention
from gateway.store.rollup import refresh
from gateway.store.rollup.retention import apply_retention, horizon
from gateway.store.tables import EVENT_TABLES, mini_programs
from tests.metrics import bruteforce as bf
from tests.metrics.engine_support import BASE, Event, MiniProgram, insert_batch, insert_catalog
from tests.metrics.rollup_dump import dump_rollups, lifetimes
from tests.store.ingest_support import catalog, count, launch, lines

MPS = {
    "m0": MiniProgram("m0", "w0", "MINI_PROGRAM", "food"),
    "m1": MiniProgram("m1", "w0", "MINI_GAME", "games"),
}
NOW = datetime.combine(BASE + timedelta(days=10), datetime.min.time(), UTC) + timedelta(hours=9)
"""Day 10 of the events: a 5-day window keeps days 6 to 10."""


def _launch(n: int, day: int, uid: int, mp: str = "m0") -> Event:
    at = datetime.combine(BASE + timedelta(days=day), datetime.min.time()) + timedelta(hours=n % 24)
    return Event(f"e{n}", "launch", "a0" if n % 2 else "a1", mp, uid, "PRODUCTION", at)


EVENTS = [_launch(n, day=n % 10, uid=n % 4, mp=f"m{n % 2}") for n in range(1, 21)]


async def _raw_days(engine: AsyncEngine) -> set[date]:
    days: set[date] = set()
    async with engine.connect() as conn:
        for table in EVENT_TABLES.values():
            days |= {at.date() for at in (await conn.execute(select(table.c.at))).scalars()}
    return days


async def _check(engine: AsyncEngine, events: list[Event], mps: dict[str, MiniProgram]) -> None:
    assert await dump_rollups(engine) == bf.expected_rollups(events, mps)
    assert all(stored == union for stored, union in (await lifetimes(engine)).values())


def test_the_window_is_whole_utc_days_ending_today() -> None:
    assert retained_from(NOW, 0) is None
    assert retained_from(NOW, 1) == datetime.combine(NOW.date(), datetime.min.time(), UTC)
    assert retained_from(NOW, 5) == datetime(2026, 10, 26, tzinfo=UTC)


async def test_a_cut_drops_whole_old_days_and_changes_no_answer(engine: AsyncEngine) -> None:
    await insert_catalog(engine, MPS)
    await insert_batch(engine, EVENTS)
    await refresh(engine)
    cut = await apply_retention(engine, days=5, now=NOW)
    assert cut is not None
    assert cut.kept_from == BASE + timedelta(days=6)
    assert cut.dropped == sum(1 for e in EVENTS if e.day < cut.kept_from)
    assert min(await _raw_days(engine)) == cut.kept_from
    async with engine.connect() as conn:
        assert await horizon(conn) == cut.kept_from
    await _check(engine, EVENTS, MPS)
    # A full rebuild cannot read the dropped days again: it derives from the fine cells.
    info = await refresh(engine, full=True)
    assert info.full_rebuild
    await _check(engine, EVENTS, MPS)
    # And a catalog change after the cut is still exact.
    async with engine.begin() as conn:
        stmt = update(mini_programs).where(mini_programs.c.id == "m0")
        await conn.execute(stmt.values(category="travel"))
    await refresh(engine)
    await _check(engine, EVENTS, {**MPS, "m0": MiniProgram("m0", "w0", "MINI_PROGRAM", "travel")})


async def test_a_cut_keeps_what_no_snapshot_folded_yet(engine: AsyncEngine) -> None:
    await insert_catalog(engine, MPS)
    await insert_batch(engine, EVENTS[:10])
    await refresh(engine)
    late = [_launch(40, day=1, uid=9)]  # an old day, ingested after the snapshot
    await insert_batch(engine, late)
    await apply_retention(engine, days=5, now=NOW)
    assert BASE + timedelta(days=1) in await _raw_days(engine)  # not folded: kept
    await refresh(engine, retention_days=5, now=NOW)  # folds it; today's cut is done
    await apply_retention(engine, days=5, now=NOW + timedelta(days=1))  # the next day's drops it
    assert BASE + timedelta(days=1) not in await _raw_days(engine)
    await _check(engine, EVENTS[:10] + late, MPS)


async def test_a_late_event_into_a_retained_old_day_is_counted(engine: AsyncEngine) -> None:
    await insert_catalog(engine, MPS)
    await insert_batch(engine, EVENTS)
    await refresh(engine)
    cut = await apply_retention(engine, days=5, now=NOW)
    assert cut is not None
    late = [_launch(50, day=(cut.kept_from - BASE).days, uid=11, mp="m1")]  # the first day kept
    await insert_batch(engine, late)
    info = await refresh(engine, retention_days=5, now=NOW)
    assert (info.events, info.full_rebuild) == (1, False)
    await _check(engine, EVENTS + late, MPS)
    assert cut.kept_from in await _raw_days(engine)  # still inside the window


async def test_the_cut_runs_once_a_day(engine: AsyncEngine) -> None:
    await insert_catalog(engine, MPS)
    await insert_batch(engine, EVENTS)
    await refresh(engine)
    first = await apply_retention(engine, days=5, now=NOW)
    assert first is not None
    assert first.dropped > 0
    old = [_launch(60, day=0, uid=12)]  # folded after the cut (ingest would refuse it)
    await insert_batch(engine, old)
    await refresh(engine, retention_days=5, now=NOW)  # the same day: no second scan
    assert BASE in await _raw_days(engine)
    tomorrow = await apply_retention(engine, days=5, now=NOW + timedelta(days=1))
    assert tomorrow is not None
    assert tomorrow.kept_from == first.kept_from + timedelta(days=1)
    assert BASE not in await _raw_days(engine)
    await _check(engine, EVENTS + old, MPS)


async def test_no_retention_keeps_every_raw_event(engine: AsyncEngine) -> None:
    await insert_catalog(engine, MPS)
    await insert_batch(engine, EVENTS)
    await refresh(engine, retention_days=0)
    assert await apply_retention(engine, days=0) is None
    assert len(await _raw_days(engine)) == len({e.day for e in EVENTS})
    async with engine.connect() as conn:
        assert await horizon(conn) is None


@pytest.fixture
def retention_of_30_days() -> Iterator[None]:
    set_raw_event_retention(30)
    yield
    set_raw_event_retention(0)


async def test_an_event_before_the_window_is_quarantined_as_too_old(
    engine: AsyncEngine, retention_of_30_days: None
) -> None:
    today = datetime.now(UTC)
    old, recent = today - timedelta(days=31), today - timedelta(days=29)
    records = [*catalog(), launch("old", at=old.isoformat()), launch("ok", at=recent.isoformat())]
    report = await ingest_lines(engine, lines(records), source="test")
    assert report.quarantined_by_reason == {TOO_OLD: 1}
    (problem,) = report.problems
    assert "GATEWAY_RAW_EVENT_RETENTION_DAYS=30" in problem.reason
    assert await count(engine, EVENT_TABLES["launch"]) == 1
