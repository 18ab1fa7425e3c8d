"""SnapshotCache semantics, the same suite in-process and on real Redis."""

from __future__ import annotations

import asyncio

import pytest

from gateway.cache.keys import cache_key
from gateway.cache.snapshot_cache import Cached, SnapshotCache
from tests.cache.support import Counting, computations, lookups


async def test_miss_computes_and_stores_then_hits(cache: SnapshotCache, layer: str) -> None:
    key = cache_key(layer, "snap-1", "q")
    compute = Counting(b'{"dau": 3}')
    first = await cache.get_or_compute(layer, key, compute, ttl_seconds=60)
    second = await cache.get_or_compute(layer, key, compute, ttl_seconds=60)
    assert first == Cached(b'{"dau": 3}', hit=False)
    assert second == Cached(b'{"dau": 3}', hit=True)
    assert compute.calls == 1
    assert computations(layer) == 1
    assert (lookups(layer, "miss"), lookups(layer, "hit"), lookups(layer, "error")) == (1, 1, 0)


async def test_entries_expire_after_their_ttl(cache: SnapshotCache, layer: str) -> None:
    key = cache_key(layer, "snap-1", "q")
    compute = Counting()
    await cache.get_or_compute(layer, key, compute, ttl_seconds=0.2)
    assert (await cache.get_or_compute(layer, key, compute, ttl_seconds=0.2)).hit
    await asyncio.sleep(0.3)
    again = await cache.get_or_compute(layer, key, compute, ttl_seconds=0.2)
    assert not again.hit
    assert compute.calls == 2


async def test_none_is_returned_but_not_stored(cache: SnapshotCache, layer: str) -> None:
    key = cache_key(layer, "snap-1", "q")
    compute = Counting(None)
    assert await cache.get_or_compute(layer, key, compute, 60) == Cached(None, hit=False)
    assert await cache.get_or_compute(layer, key, compute, 60) == Cached(None, hit=False)
    assert compute.calls == 2
    assert await cache.get_many(layer, [key]) == {}


async def test_zero_ttl_is_not_stored(cache: SnapshotCache, layer: str) -> None:
    key = cache_key(layer, "snap-1", "q")
    compute = Counting()
    await cache.get_or_compute(layer, key, compute, ttl_seconds=0)
    await cache.get_or_compute(layer, key, compute, ttl_seconds=-5)
    assert compute.calls == 2
    await cache.set_many(layer, {key: b"x"}, ttl_seconds=0)
    assert await cache.get_many(layer, [key]) == {}


async def test_exception_reaches_every_waiter_and_is_not_stored(
    cache: SnapshotCache, layer: str
) -> None:
    key = cache_key(layer, "snap-1", "q")
    failing = Counting(delay=0.05, error=RuntimeError("database down"))
    results = await asyncio.gather(
        *(cache.get_or_compute(layer, key, failing, 60) for _ in range(20)),
        return_exceptions=True,
    )
    assert failing.calls == 1
    assert all(isinstance(r, RuntimeError) and str(r) == "database down" for r in results)
    assert lookups(layer, "miss") == 20
    working = Counting(b"ok")
    assert await cache.get_or_compute(layer, key, working, 60) == Cached(b"ok", hit=False)
    assert working.calls == 1


async def test_concurrent_callers_share_one_computation(cache: SnapshotCache, layer: str) -> None:
    key = cache_key(layer, "snap-1", "q")
    compute = Counting(b"v", delay=0.05)
    results = await asyncio.gather(
        *(cache.get_or_compute(layer, key, compute, 60) for _ in range(10))
    )
    assert compute.calls == 1
    assert sorted((r.hit, r.shared) for r in results) == [(False, False)] + [(False, True)] * 9
    assert all(r.value == b"v" for r in results)
    hits = await asyncio.gather(*(cache.get_or_compute(layer, key, compute, 60) for _ in range(10)))
    assert all(r == Cached(b"v", hit=True) for r in hits)
    assert (lookups(layer, "miss"), lookups(layer, "hit")) == (10, 10)


async def test_uncacheable_result_still_reaches_concurrent_waiters(
    cache: SnapshotCache, layer: str
) -> None:
    key = cache_key(layer, "snap-1", "q")
    compute = Counting(None, delay=0.05)
    results = await asyncio.gather(
        *(cache.get_or_compute(layer, key, compute, 60) for _ in range(5))
    )
    assert compute.calls == 1
    assert [r.value for r in results] == [None] * 5


async def test_a_cancelled_caller_does_not_cancel_the_others(
    cache: SnapshotCache, layer: str
) -> None:
    key = cache_key(layer, "snap-1", "q")
    compute = Counting(b"v", delay=0.1)
    first = asyncio.create_task(cache.get_or_compute(layer, key, compute, 60))
    await asyncio.sleep(0.02)
    others = [asyncio.create_task(cache.get_or_compute(layer, key, compute, 60)) for _ in range(3)]
    await asyncio.sleep(0.02)
    first.cancel()
    results = await asyncio.gather(*others)
    assert [r.value for r in results] == [b"v"] * 3
    assert compute.calls == 1
    assert first.cancelled()


async def test_get_many_and_set_many(cache: SnapshotCache, layer: str) -> None:
    items = {cache_key(layer, "snap-1", str(i)): f'{{"i": {i}}}'.encode() for i in range(3)}
    absent = cache_key(layer, "snap-1", "absent")
    await cache.set_many(layer, items, ttl_seconds=0.3)
    assert await cache.get_many(layer, [*items, absent]) == items
    assert (lookups(layer, "hit"), lookups(layer, "miss")) == (3, 1)
    assert await cache.get_many(layer, []) == {}
    await asyncio.sleep(0.4)
    assert await cache.get_many(layer, list(items)) == {}


async def test_values_written_by_set_many_serve_get_or_compute(
    cache: SnapshotCache, layer: str
) -> None:
    key = cache_key(layer, "snap-1", "q")
    await cache.set_many(layer, {key: b"batch"}, ttl_seconds=60)
    compute = Counting()
    assert await cache.get_or_compute(layer, key, compute, 60) == Cached(b"batch", hit=True)
    assert compute.calls == 0


@pytest.mark.parametrize("callers", [500])
async def test_500_concurrent_cold_requests_compute_once(
    cache: SnapshotCache, layer: str, callers: int
) -> None:
    key = cache_key(layer, "snap-1", "cold")
    compute = Counting(b"v", delay=0.02)
    results = await asyncio.gather(
        *(cache.get_or_compute(layer, key, compute, 60) for _ in range(callers))
    )
    assert compute.calls == 1
    assert computations(layer) == 1
    assert sum(r.shared for r in results) == callers - 1
    assert {r.value for r in results} == {b"v"}
