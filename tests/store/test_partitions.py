"""Raw events as a log partitioned by UTC day (SPEC §2, issue 16): each event lands in its UTC
day's partition, made on demand or ahead of need; late events, replays across day boundaries and
input spread over too many new days; whole days dropped by retention."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store import partitions
from gateway.store import tables as t
from gateway.store.ingest import chunk as chunk_module
from gateway.store.ingest import ingest_lines, replay_quarantine
from gateway.store.ingest.decode import DecodedChunk
from gateway.store.ingest.events import TOO_MANY_DAYS, set_raw_event_retention
from gateway.store.partitions import AHEAD_DAYS, day_range, partition_days, partition_name
from gateway.store.rollup import events as events_module
from gateway.store.rollup import refresh
from gateway.store.rollup.catalog import load_catalog
from gateway.store.rollup.events import batch_partitions, few_rows_plan, new_rows
from gateway.store.status import store_status
from tests.store.ingest_support import catalog, launch, lines


def _today() -> date:
    """Today's UTC date, read when a test runs (a module constant goes stale at midnight)."""
    return datetime.now(UTC).date()


def _at(day: date, clock: str = "00:00:00", offset: str = "+00:00") -> str:
    """The instant ``clock`` on ``day`` (midnight by default: never in the future, even today)."""
    return f"{day.isoformat()}T{clock}{offset}"


async def _stored(engine: AsyncEngine) -> list[tuple[str, date, str]]:
    """(id, day, the table physically holding the row) of every launch."""
    where = "tableoid::regclass::text" if engine.dialect.name == "postgresql" else "'launches'"
    async with engine.connect() as conn:
        rows = await conn.execute(text(f"SELECT id, day, {where} FROM launches ORDER BY id, day"))
        return [(r[0], r[1] if isinstance(r[1], date) else date.fromisoformat(r[1]), r[2])
                for r in rows]  # fmt: skip


@pytest.fixture
def retention() -> Iterator[None]:
    set_raw_event_retention(30)
    yield
    set_raw_event_retention(0)


async def test_events_land_in_their_utc_days_partition(engine: AsyncEngine) -> None:
    day = _today() - timedelta(days=3)
    events = [
        launch("last", at=_at(day, "23:59:59.999999")),
        launch("first", at=_at(day + timedelta(days=1), "00:00:00")),
        launch("offset", at=_at(day + timedelta(days=1), "01:30:00", "+02:00")),  # 23:30 UTC
    ]
    report = await ingest_lines(engine, lines([*catalog(), *events]), source="edges")
    assert report.quarantined == 0
    stored = {row[0]: row[1:] for row in await _stored(engine)}
    postgres = engine.dialect.name == "postgresql"
    for event_id, expected in (("last", day), ("first", day + timedelta(1)), ("offset", day)):
        table = partition_name("launches", expected) if postgres else "launches"
        assert stored[event_id] == (expected, table)
    async with engine.connect() as conn:
        assert await day_range(conn) == (day, day + timedelta(days=1))


async def test_a_late_event_reaches_an_old_retained_day(
    engine: AsyncEngine, retention: None
) -> None:
    await ingest_lines(engine, lines([*catalog(), launch("now", at=_at(_today()))]), source="a")
    old = _today() - timedelta(days=29)  # the window's first day, no event yet
    report = await ingest_lines(
        engine, lines([launch("late", at=_at(old, "00:00:01"))]), source="b"
    )
    assert (report.quarantined, report.stored) == (0, 1)
    assert [row[1] for row in await _stored(engine)] == [old, _today()]
    async with engine.connect() as conn:
        assert old in await partition_days(conn) or engine.dialect.name != "postgresql"


@pytest.mark.parametrize("chunk_size", [1, 1000])
async def test_replays_across_day_boundaries_count_once(
    engine: AsyncEngine, chunk_size: int
) -> None:
    """The same instant written with two offsets is one event, even where the offsets put it on
    two local days; replays in later inputs find it in its partition."""
    day = _today() - timedelta(days=2)
    events = [launch(f"e{n}", at=_at(day, f"2{n}:00:00")) for n in range(4)]
    await ingest_lines(engine, lines([*catalog(), *events]), source="a", chunk_size=chunk_size)
    shifted = [
        launch(f"e{n}", at=_at(day + timedelta(days=1), f"0{n}:00:00", "+04:00")) for n in range(4)
    ]  # 20:00 to 23:00 UTC of ``day`` written as the next local day
    report = await ingest_lines(
        engine, lines([*events, *shifted]), source="b", chunk_size=chunk_size
    )
    assert (report.stored, report.duplicates, report.quarantined) == (0, 8, 0)
    assert {row[1] for row in await _stored(engine)} == {day}


async def test_input_spread_over_too_many_new_days_is_quarantined_then_replayed(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps one table per kind: no partition to make")
    monkeypatch.setattr(partitions, "NEW_DAYS_PER_CHUNK", 3)
    base = _today() - timedelta(days=400)
    events = [launch(f"e{n}", at=_at(base + timedelta(days=n))) for n in range(5)]
    report = await ingest_lines(engine, lines([*catalog(), *events]), source="spread")
    assert report.quarantined_by_reason == {TOO_MANY_DAYS: 2}
    assert "more than 3 UTC days" in report.problems[0].reason
    assert [row[0] for row in await _stored(engine)] == ["e0", "e1", "e2"]
    replayed = await replay_quarantine(engine)
    assert (replayed.stored, replayed.quarantined) == (2, 0)
    assert len(await _stored(engine)) == 5


async def test_refresh_makes_the_coming_days_ahead_of_need(engine: AsyncEngine) -> None:
    await refresh(engine)
    async with engine.connect() as conn:
        days = await partition_days(conn)
    if engine.dialect.name == "postgresql":
        assert {_today() + timedelta(days=n) for n in range(AHEAD_DAYS + 1)} <= set(days)
    else:
        assert days == []


async def test_retention_drops_whole_days(engine: AsyncEngine, retention: None) -> None:
    days = [_today() - timedelta(days=n) for n in (45, 31, 30, 29, 0)]
    events = [launch(f"e{n}", at=_at(day)) for n, day in enumerate(days)]
    set_raw_event_retention(0)  # stored while no window applied, then the window moves
    await ingest_lines(engine, lines([*catalog(), *events]), source="history")
    set_raw_event_retention(30)
    await refresh(engine, retention_days=30)
    assert [row[1] for row in await _stored(engine)] == [days[3], days[4]]
    status = await store_status(engine)
    assert (status.raw_events.oldest_day, status.raw_events.newest_day) == (days[3], days[4])
    assert status.raw_events.count == 2
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            kept = await partition_days(conn)
        assert min(kept) == days[3]  # the old days' partitions are gone, not emptied
        async with engine.connect() as conn:
            found = await conn.execute(select(t.launches.c.id).where(t.launches.c.day < days[3]))
            assert found.all() == []


async def test_a_batch_records_the_days_a_refresh_reads(engine: AsyncEngine) -> None:
    """A refresh reads only the days (the partitions) its new batches hold: each batch records
    the days of its oldest and newest event, none when it stored no event."""
    days = [_today() - timedelta(days=9), _today() - timedelta(days=2)]
    await ingest_lines(engine, lines(catalog()), source="catalog")
    events = [launch("a", at=_at(days[1])), launch("b", at=_at(days[0], "23:59:59", "-01:00"))]
    await ingest_lines(engine, lines(events), source="events")
    b = t.ingest_batches.c
    async with engine.connect() as conn:
        spans = (await conn.execute(select(b.source, b.first_day, b.last_day).order_by(b.id))).all()
    assert [tuple(span) for span in spans] == [
        ("catalog", None, None),
        ("events", days[0] + timedelta(days=1), days[1]),  # 23:59:59-01:00 is the next UTC day
    ]


async def _drop_partitions_of(engine: AsyncEngine, day: date) -> None:
    async with engine.begin() as conn:
        for table in t.EVENT_TABLES.values():
            await conn.execute(text(f'DROP TABLE IF EXISTS "{partition_name(table.name, day)}"'))


async def test_a_day_gone_before_its_chunk_commits_is_made_again(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A chunk whose day's partition vanished between making room and its transaction (the
    retention's midnight drop; once seen in a parallel build) is retried, not lost."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps one table per kind: no partition to lose")
    day = _today() - timedelta(days=6)
    await _drop_partitions_of(engine, day)
    run_module = importlib.import_module("gateway.store.ingest.run")
    real, calls = chunk_module.make_room, []

    async def vanishing(engine_: AsyncEngine, decoded: DecodedChunk) -> None:
        await real(engine_, decoded)
        calls.append(decoded)
        if len(calls) == 1:  # the first chunk's room goes before its transaction
            await _drop_partitions_of(engine_, day)

    monkeypatch.setattr(run_module, "make_room", vanishing)
    events = [launch(f"e{n}", at=_at(day, f"1{n}:00:00")) for n in range(3)]
    with caplog.at_level(logging.WARNING, logger=chunk_module.__name__):
        report = await ingest_lines(engine, lines([*catalog(), *events]), source="gone", workers=0)
    assert (report.quarantined, report.duplicates) == (0, 0)
    assert [row[1] for row in await _stored(engine)] == [day] * 3
    assert "retrying" in caplog.text


async def test_a_day_that_stays_gone_fails_the_chunk(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps one table per kind: no partition to lose")
    day = _today() - timedelta(days=7)
    real = chunk_module.make_room

    async def vanishing(engine_: AsyncEngine, decoded: DecodedChunk) -> None:
        await real(engine_, decoded)
        await _drop_partitions_of(engine_, day)

    monkeypatch.setattr(chunk_module, "make_room", vanishing)
    monkeypatch.setattr(importlib.import_module("gateway.store.ingest.run"), "make_room", vanishing)
    with pytest.raises(Exception, match="no partition of relation") as raised:
        await ingest_lines(engine, lines([*catalog(), launch("e", at=_at(day))]), source="x")
    assert chunk_module.missing_partition(raised.value)
    assert await _stored(engine) == []


def _plan_nodes(plan: dict[str, object]) -> Iterator[dict[str, object]]:
    yield plan
    for child in plan.get("Plans", []):  # type: ignore[attr-defined]
        yield from _plan_nodes(child)


async def test_a_refresh_reads_its_new_batches_through_the_summarized_brin_index(
    engine: AsyncEngine,
) -> None:
    """After a refresh (its tidy summarizes the block ranges of the days it read), the next
    refresh's read of a few new events in a day of thousands reads only the blocks written since
    (through the BRIN index on ``batch_id``, whatever the day's statistics), not the day."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps one table per kind: no partition to read")
    day = _today() - timedelta(days=1)
    many = [launch(f"old{n:05}", at=_at(day, f"{n % 24:02}:00:00")) for n in range(25_000)]
    await ingest_lines(engine, lines([*catalog(), *many]), source="day")
    await refresh(engine)
    name = partition_name("launches", day)
    async with engine.connect() as conn:
        index = (await conn.execute(text(
            "SELECT x.indexrelid::regclass::text FROM pg_index x JOIN pg_class i "
            "ON i.oid = x.indexrelid JOIN pg_am a ON a.oid = i.relam "
            "WHERE a.amname = 'brin' AND x.indrelid = CAST(:t AS regclass)"), {"t": name}
        )).scalar_one()  # fmt: skip
        pages = (await conn.execute(text(f"SELECT pg_relation_size('{name}') / 8192"))).scalar()
        left = (await conn.execute(text(f"SELECT brin_summarize_new_values('{index}')"))).scalar()
        await conn.rollback()
    assert left == 0  # the refresh left no block range of the day unsummarized
    assert pages is not None
    assert pages > 2 * 128  # several block ranges of 128 pages
    new = [launch(f"new{n}", at=_at(day)) for n in range(3)]
    await ingest_lines(engine, lines(new), source="new")
    async with engine.begin() as conn:
        catalog_now = await load_catalog(conn)
        upto = (await conn.execute(select(func.max(t.ingest_batches.c.id)))).scalar_one()
        days = (day, day + timedelta(days=1))
        found = new_rows(t.launches, upto - 1, upto, days, await batch_partitions(conn, 1, days))
        assert found is not None
        stmt = events_module._pg_statement("launch", catalog_now, *found)
        compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        async with few_rows_plan(conn, True):
            explained = await conn.execute(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {compiled}"))
            plan = explained.scalar_one()[0]["Plan"]
    nodes = list(_plan_nodes(plan))
    assert any(node.get("Index Name") == index.split(".")[-1] for node in nodes)
    assert not any(node["Node Type"] == "Seq Scan" for node in nodes)
    heap = [n for n in nodes if n["Node Type"] == "Bitmap Heap Scan"]
    read = sum(
        int(n.get("Exact Heap Blocks", 0)) + int(n.get("Lossy Heap Blocks", 0)) for n in heap
    )
    assert 0 < read <= 128 < pages  # at most the last block range, not the day
    assert sum(int(n.get("Actual Rows", 0)) for n in heap) == 3
