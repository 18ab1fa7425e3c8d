"""A catalog change is applied by the next refresh from the fine cells, reading no raw event.

Each test empties the raw event tables (or cuts them at a random day, as the retention does)
before the refresh that applies the change, so any read of dropped raw events would lose data and
fail the comparison with the brute force over every event ever ingested (under the current
catalog); after a cut, a full rebuild derives from the fine cells and must stay exact too.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.rollup import recatalog, refresh
from gateway.store.rollup.retention import apply_retention
from gateway.store.tables import EVENT_TABLES, mini_programs, target_apps
from tests.metrics import bruteforce as bf
from tests.metrics.engine_support import (
    BASE,
    CATEGORIES,
    DAYS,
    SOURCES,
    TYPES,
    USERS,
    Dataset,
    Event,
    MiniProgram,
    clear,
    datasets,
    insert_batch,
    insert_catalog,
    set_sources,
)
from tests.metrics.rollup_dump import dump_rollups, lifetimes

MPS = {
    "m0": MiniProgram("m0", "w0", "MINI_PROGRAM", "food"),
    "m1": MiniProgram("m1", "w0", "MINI_GAME", "games"),
    "m2": MiniProgram("m2", "w1", "MINI_GAME", "games"),
}


def _event(n: int, kind: str, day: int, uid: int, app: str, mp: str) -> Event:
    at = datetime.combine(BASE, datetime.min.time()) + timedelta(days=day, hours=n % 24)
    return Event(f"e{n}", kind, app, mp, uid, "PRODUCTION", at, duration_ms=100 * n,
                 valid=n % 2 == 0, revenue_micros=1000 * n)  # fmt: skip


EVENTS = [
    _event(1, "launch", 0, 1, "a0", "m0"),
    _event(2, "launch", 1, 1, "a1", "m1"),
    _event(3, "launch", 1, 2, "a0", "m1"),
    _event(4, "pageView", 2, 2, "a0", "m0"),
    _event(5, "launch", 3, 3, "a1", "m0"),
    _event(6, "adImpression", 3, 3, "a1", "m0"),
    _event(7, "launch", 4, 2, "a1", "m0"),
    _event(8, "launch", 5, 4, "a2", "m2"),
]


async def _drop_raw_events(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for table in EVENT_TABLES.values():
            await conn.execute(delete(table))


async def _set_mini_program(engine: AsyncEngine, mp: MiniProgram) -> None:
    async with engine.begin() as conn:
        stmt = update(mini_programs).where(mini_programs.c.id == mp.id)
        await conn.execute(stmt.values(type=mp.type, category=mp.category))


async def _check(engine: AsyncEngine, events: list[Event], mps: dict[str, MiniProgram]) -> None:
    assert await dump_rollups(engine) == bf.expected_rollups(events, mps)
    assert all(stored == union for stored, union in (await lifetimes(engine)).values())


@pytest.mark.parametrize(
    "changed",
    [
        MiniProgram("m0", "w0", "MINI_PROGRAM", "travel"),  # category
        MiniProgram("m0", "w0", "MINI_GAME", "food"),  # type
        MiniProgram("m1", "w0", "MINI_PROGRAM", "food"),  # both, into m0's cells
    ],
    ids=["category", "type", "both"],
)
@pytest.mark.parametrize("one_read", [True, False], ids=["one read", "two reads"])
async def test_a_mini_program_change_is_applied_from_the_fine_cells(
    engine: AsyncEngine, changed: MiniProgram, one_read: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not one_read:  # as with more corrected cells than one statement takes
        monkeypatch.setattr(recatalog, "MAX_PARAMS", 2)
    await insert_catalog(engine, MPS)
    await insert_batch(engine, EVENTS[:6])
    await refresh(engine)
    await _drop_raw_events(engine)
    await _set_mini_program(engine, changed)
    later = EVENTS[6:]  # new events in the same refresh, folded under the new catalog
    await insert_batch(engine, later)
    info = await refresh(engine)
    assert not info.full_rebuild
    assert info.events == len(later)
    await _check(engine, EVENTS, {**MPS, changed.id: changed})
    again = await refresh(engine)  # the change is recorded: nothing more to do
    assert (again.events, again.full_rebuild) == (0, False)
    await _check(engine, EVENTS, {**MPS, changed.id: changed})


async def test_a_user_of_a_moved_and_a_staying_mini_program_stays_in_the_cell(
    engine: AsyncEngine,
) -> None:
    mps = {**MPS, "m3": MiniProgram("m3", "w0", "MINI_PROGRAM", "food")}
    events = [
        _event(11, "launch", 0, 1, "a0", "m0"),
        _event(12, "launch", 0, 1, "a0", "m3"),  # user 1 in both food mini programs on day 0
        _event(13, "launch", 1, 2, "a0", "m0"),  # user 2 only in the one that moves
        _event(14, "launch", 2, 2, "a0", "m3"),  # ... and later in the one that stays
    ]
    await insert_catalog(engine, mps)
    await insert_batch(engine, events)
    await refresh(engine)
    await _drop_raw_events(engine)
    moved = MiniProgram("m0", "w0", "MINI_PROGRAM", "travel")
    await _set_mini_program(engine, moved)
    assert not (await refresh(engine)).full_rebuild
    await _check(engine, events, {**mps, "m0": moved})


async def test_an_app_moving_workspace_is_applied_from_the_fine_cells(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await insert_catalog(engine, MPS)
    await insert_batch(engine, EVENTS)
    await refresh(engine)
    await _drop_raw_events(engine)
    async with engine.begin() as conn:
        stmt = update(target_apps).where(target_apps.c.id == "a1").values(workspace_id="w1")
        await conn.execute(stmt)
    info = await refresh(engine)
    assert not info.full_rebuild
    monkeypatch.setattr(bf, "APPS", {**bf.APPS, "a1": "w1"})
    await _check(engine, EVENTS, MPS)


@st.composite
def _changes(draw: st.DrawFn, mps: dict[str, MiniProgram]) -> dict[str, MiniProgram]:
    """A random set of mini programs with a new type and/or category."""
    out = {}
    for mp in draw(st.lists(st.sampled_from(sorted(mps)), max_size=3, unique=True)):
        mp_type = draw(st.sampled_from(TYPES))
        out[mp] = dataclasses.replace(
            mps[mp], type=mp_type, category=draw(st.sampled_from(CATEGORIES))
        )
    return out


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(data=st.data(), dataset=datasets(max_events=60))
async def test_random_catalog_changes_retention_cuts_and_rebuilds_keep_every_rollup_exact(
    engine: AsyncEngine, data: st.DataObject, dataset: Dataset
) -> None:
    await clear(engine)
    mps = dict(dataset.mini_programs)
    await insert_catalog(engine, mps)
    ingested: list[Event] = []
    for batch in dataset.batches:
        batch_id = await insert_batch(engine, batch)
        ingested += batch
        # user records changing known users' sources (counted per source on source cells)
        moves = st.dictionaries(st.integers(1, USERS), st.sampled_from(SOURCES), max_size=3)
        await set_sources(engine, data.draw(moves), batch_id)
        for changed in data.draw(_changes(mps)).values():
            await _set_mini_program(engine, changed)
            mps[changed.id] = changed
        await refresh(engine)
        await _check(engine, ingested, mps)
        if data.draw(st.booleans()):  # a retention cut at a random day (keeps 1 day from it)
            cut = BASE + timedelta(days=data.draw(st.integers(0, DAYS + 1)))
            now = datetime.combine(cut, datetime.min.time(), UTC)
            await apply_retention(engine, days=1, now=now)
            if data.draw(st.booleans()):  # and a full rebuild, from the fine cells now
                await refresh(engine, full=True)
                await _check(engine, ingested, mps)
