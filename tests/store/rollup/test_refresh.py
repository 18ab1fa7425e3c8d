"""Refresh behaviour: snapshots, the lock, no-op refreshes, late events (catalog changes:
test_catalog_changes.py)."""

from __future__ import annotations

import asyncio
import importlib
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.rollup import latest_snapshot, refresh
from tests.metrics import bruteforce as bf
from tests.metrics.engine_support import (
    BASE,
    Dataset,
    Event,
    MiniProgram,
    insert_batch,
    insert_catalog,
)
from tests.metrics.rollup_dump import dump_rollups, lifetimes

refresh_module = importlib.import_module("gateway.store.rollup.refresh")

MPS = {
    "m0": MiniProgram("m0", "w0", "MINI_PROGRAM", "food"),
    "m1": MiniProgram("m1", "w1", "MINI_GAME", "games"),
}


def _launch(n: int, day: int, uid: int, app: str = "a0", mp: str = "m0") -> Event:
    at = datetime(BASE.year, BASE.month, BASE.day + day, 12)
    return Event(f"e{n}", "launch", app, mp, uid, "PRODUCTION", at)


def _page_view(n: int, day: int, uid: int, duration: int) -> Event:
    at = datetime(BASE.year, BASE.month, BASE.day + day, 13)
    return Event(f"e{n}", "pageView", "a0", "m0", uid, "PRODUCTION", at, duration_ms=duration)


async def test_first_refresh_builds_and_records_a_snapshot(engine: AsyncEngine) -> None:
    assert await latest_snapshot(engine) is None
    await insert_catalog(engine, MPS)
    batch = await insert_batch(engine, [_launch(1, 0, 1), _page_view(2, 0, 1, 1500)])
    info = await refresh(engine, now=datetime(2026, 11, 9, 8, 30))
    assert (info.events, info.max_batch_id, info.full_rebuild) == (2, batch, True)
    assert info.taken_at == datetime(2026, 11, 9, 8, 30, tzinfo=UTC)
    assert await latest_snapshot(engine) == info


async def test_refresh_without_new_events_records_a_snapshot_and_changes_nothing(
    engine: AsyncEngine,
) -> None:
    await insert_catalog(engine, MPS)
    await insert_batch(engine, [_launch(1, 0, 1), _launch(2, 3, 2)])
    first = await refresh(engine)
    before = await dump_rollups(engine)
    second = await refresh(engine)
    assert second.id > first.id
    assert (second.events, second.full_rebuild) == (0, False)
    assert second.max_batch_id == first.max_batch_id
    assert await dump_rollups(engine) == before


async def test_late_event_moves_a_users_first_day_earlier(engine: AsyncEngine) -> None:
    await insert_catalog(engine, MPS)
    await insert_batch(engine, [_launch(1, 5, 1), _launch(2, 6, 2)])
    await refresh(engine)
    late = [_launch(3, 2, 1), _launch(4, 9, 2)]
    await insert_batch(engine, late)
    info = await refresh(engine)
    assert (info.events, info.full_rebuild) == (2, False)
    events = [_launch(1, 5, 1), _launch(2, 6, 2), *late]
    rollups = await dump_rollups(engine)
    assert rollups == bf.expected_rollups(events, MPS)
    # User 1 is now new on day 2 and no longer on day 5, in every one of its ten cells.
    new_on = {key[1].day - BASE.day: new for key, (_, _, new) in rollups.items() if new}
    assert set(new_on) == {2, 6}
    assert all(stored == union for stored, union in (await lifetimes(engine)).values())


async def test_concurrent_refreshes_both_complete_without_double_counting(
    engine: AsyncEngine,
) -> None:
    await insert_catalog(engine, MPS)
    events = [_launch(n, n % 7, n % 4 + 1, *(("a2", "m1") if n % 3 else ("a0", "m0")))
              for n in range(40)]  # fmt: skip
    await insert_batch(engine, events[:10])
    await refresh(engine)
    await insert_batch(engine, events[10:])
    # Both are incremental: without the lock each would fold the same batch once.
    first, second = await asyncio.gather(refresh(engine), refresh(engine))
    assert first.id != second.id
    assert sorted([first.events, second.events]) == [0, 30]
    assert not first.full_rebuild
    assert not second.full_rebuild
    assert await dump_rollups(engine) == bf.expected_rollups(events, MPS)


async def test_dataset_batches_fold_like_one_full_rebuild(engine: AsyncEngine) -> None:
    ds = Dataset(MPS, [[_launch(1, 4, 3)], [_launch(2, 1, 3), _page_view(3, 1, 3, 10)]])
    await insert_catalog(engine, ds.mini_programs)
    for batch in ds.batches:
        await insert_batch(engine, batch)
        await refresh(engine)
    incremental = await dump_rollups(engine)
    await refresh(engine, full=True)
    assert await dump_rollups(engine) == incremental == bf.expected_rollups(ds.events, MPS)


async def test_a_read_failing_while_the_launches_fold_rolls_the_refresh_back(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The launches are folded in a thread while the other kinds are read: a failing read is
    reported once that work is over, nothing of the refresh is kept, and the next one folds
    the same events."""
    await insert_catalog(engine, MPS)
    await insert_batch(engine, [_launch(1, 0, 1)])
    first = await refresh(engine)
    await insert_batch(engine, [_launch(2, 1, 2), _page_view(3, 1, 2, 700)])
    before = await dump_rollups(engine)
    folded: list[bool] = []
    real_fold, real_read = refresh_module.fold_launches, refresh_module.read_kind

    def slow_fold(*args: Any) -> Any:
        time.sleep(0.2)  # still folding when the read fails
        found = real_fold(*args)
        folded.append(True)
        return found

    async def failing_read(conn: Any, catalog: Any, kind: str, **kwargs: Any) -> Any:
        if kind == "pageView":
            raise RuntimeError("the connection was lost")
        return await real_read(conn, catalog, kind, **kwargs)

    monkeypatch.setattr(refresh_module, "fold_launches", slow_fold)
    monkeypatch.setattr(refresh_module, "read_kind", failing_read)
    with pytest.raises(RuntimeError, match="connection was lost"):
        await refresh(engine)
    assert folded == [True]  # the thread's work was over when the failure was reported
    assert await latest_snapshot(engine) == first
    assert await dump_rollups(engine) == before
    monkeypatch.setattr(refresh_module, "read_kind", real_read)
    again = await refresh(engine)
    assert (again.events, again.full_rebuild) == (2, False)
