"""A full rebuild folded a range of days at a time writes exactly what a one-shot rebuild writes.

Random events over many days (some at midnight or just before, in batches whose days overlap) are
rebuilt with a chunk bound of a few dozen events (many ranges, lifetimes written a few cells per
statement) and with a huge one (one range); every rollup row, bitmap bytes included, and every
cell's lifetime must be the same (cells are compared by key: their ids are surrogate), and both
must match the brute force.
"""

from __future__ import annotations

import importlib
import itertools
import random
from datetime import datetime, time, timedelta
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.rollup import refresh
from gateway.store.rollup.events import day_ranges
from gateway.store.rollup_tables import rollup_cells, rollup_days
from tests.metrics import bruteforce as bf
from tests.metrics.engine_support import (
    APPS,
    BASE,
    CATEGORIES,
    DATA_TYPES,
    TYPES,
    USERS,
    Event,
    MiniProgram,
    insert_batch,
    insert_catalog,
)
from tests.metrics.rollup_dump import dump_rollups, lifetimes

REFRESH: ModuleType = importlib.import_module("gateway.store.rollup.refresh")
"""The module (``gateway.store.rollup.refresh`` the attribute is the function)."""
PERSIST: ModuleType = importlib.import_module("gateway.store.rollup.persist")
DAYS = 40
KINDS = ("launch", "launch", "pageView", "adImpression")


def _mini_programs(rng: random.Random) -> dict[str, MiniProgram]:
    return {
        f"m{i}": MiniProgram(f"m{i}", f"w{i % 2}", rng.choice(TYPES), rng.choice(CATEGORIES))
        for i in range(4)
    }


def _at(rng: random.Random) -> datetime:
    day = datetime.combine(BASE, time.min) + timedelta(days=rng.randrange(DAYS))
    edge = rng.choice([timedelta(0), timedelta(days=1, microseconds=-1), None])
    return day + (edge if edge is not None else timedelta(seconds=rng.randrange(86_400)))


def _events(rng: random.Random, count: int, mps: dict[str, MiniProgram]) -> list[Event]:
    return [
        Event(f"e{n}", rng.choice(KINDS), rng.choice(sorted(APPS)), rng.choice(sorted(mps)),
              rng.randint(1, USERS), rng.choice(DATA_TYPES), _at(rng),
              duration_ms=rng.randrange(10_000), valid=rng.random() < 0.7,
              revenue_micros=rng.randrange(1_000_000))
        for n in range(count)
    ]  # fmt: skip


def _raw(value: bytes | None) -> bytes | None:
    return None if value is None else bytes(value)


async def _tables(engine: AsyncEngine) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """Every ``rollup_days`` row and every cell's lifetime bytes, by cell key (not id)."""
    c, d = rollup_cells.c, rollup_days.c
    key = (c.scope, c.data_type, c.mp_type, c.category)
    async with engine.connect() as conn:
        cells = {
            tuple(row[:4]): _raw(row[4])
            for row in await conn.execute(select(*key, c.lifetime_bitmap))
        }
        rows = {}
        stmt = select(*key, rollup_days).join(rollup_days, d.cell_id == c.id)
        for row in await conn.execute(stmt):
            values = row._mapping
            rows[(*row[:4], values[d.day])] = tuple(
                _raw(values[col]) if col.name.endswith("bitmap") else values[col]
                for col in rollup_days.columns
                if col.name not in ("cell_id", "day")
            )
    return rows, cells


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record the day range of every ``read_events`` call of the refresh."""
    ranges: list[object] = []
    read = REFRESH.read_events

    async def counted(*args: Any, **kwargs: Any) -> Any:
        ranges.append(kwargs.get("days"))
        return await read(*args, **kwargs)

    monkeypatch.setattr(REFRESH, "read_events", counted)
    return ranges


@pytest.mark.parametrize("seed", [1, 2])
async def test_a_rebuild_in_day_ranges_writes_what_a_one_shot_rebuild_writes(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    mps = _mini_programs(rng)
    await insert_catalog(engine, mps)
    events = _events(rng, 600, mps)
    for start in range(0, len(events), 200):  # batches dated all over the range
        await insert_batch(engine, events[start : start + 200])
    reads = _counting_reads(monkeypatch)

    monkeypatch.setattr(REFRESH, "REBUILD_CHUNK_EVENTS", 10**9)
    one_shot = await refresh(engine, full=True)
    assert len(reads) == 1  # one range
    whole = await _tables(engine)
    assert await dump_rollups(engine) == bf.expected_rollups(events, mps)

    reads.clear()
    monkeypatch.setattr(REFRESH, "REBUILD_CHUNK_EVENTS", 50)
    monkeypatch.setattr(PERSIST, "UPDATE_BYTES", 64)  # lifetimes written a few at a time
    chunked = await refresh(engine, full=True)
    assert len(reads) > 10
    assert reads == sorted(reads, key=lambda days: days[0])  # type: ignore[index]
    assert chunked.events == one_shot.events == len(events)
    assert await _tables(engine) == whole
    assert all(stored == union for stored, union in (await lifetimes(engine)).values())


def test_day_ranges_are_bounded_ascending_and_leave_no_gap() -> None:
    rng = random.Random(3)
    days = rng.sample(range(100), 60)
    counts = {BASE + timedelta(days=day): rng.randint(1, 30) for day in days}
    counts[BASE + timedelta(days=days[0])] = 500  # a day over the bound: a range of its own
    ranges = day_ranges(counts, 40)
    assert ranges[0][0] == min(counts)
    assert ranges[-1][1] == max(counts) + timedelta(days=1)
    for (_, end), (first, _) in itertools.pairwise(ranges):
        assert end == first
    for first, end in ranges:
        held = [n for day, n in counts.items() if first <= day < end]
        assert sum(held) <= 40 or len(held) == 1
    assert day_ranges({}, 40) == []
