"""Across processes: two caches on one Redis (two workers) compute a cold key once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from gateway.cache.keys import cache_key
from gateway.cache.redis import RedisBackend
from gateway.cache.snapshot_cache import Cached, SnapshotCache
from tests.cache.conftest import cache_settings
from tests.cache.support import Counting, computations
from tests.conftest import REDIS_URL


@pytest.fixture
async def workers(redis_client: aioredis.Redis) -> AsyncIterator[tuple[SnapshotCache, ...]]:
    """Two SnapshotCache instances on the shared Redis test DB, like two server processes."""
    caches = tuple(SnapshotCache.create(cache_settings(REDIS_URL)) for _ in range(2))
    yield caches
    for cache in caches:
        await cache.close()


async def test_two_workers_times_250_callers_compute_once(
    workers: tuple[SnapshotCache, ...], layer: str, redis_client: aioredis.Redis
) -> None:
    key = cache_key(layer, "snap-1", "cold")
    computes = [Counting(b"v", delay=0.05), Counting(b"v", delay=0.05)]
    calls = [
        cache.get_or_compute(layer, key, compute, 60)
        for _ in range(250)
        for cache, compute in zip(workers, computes, strict=True)
    ]
    results = await asyncio.gather(*calls)
    assert sum(c.calls for c in computes) == 1
    assert computations(layer) == 1
    assert {r.value for r in results} == {b"v"}
    assert sum(not r.shared for r in results) == 1
    assert await redis_client.get(key) == b"v"
    assert await redis_client.exists(f"{key}:lock") == 0  # released


async def test_worker_waiting_on_a_dead_holder_computes_after_the_lock_expires(
    redis_client: aioredis.Redis, layer: str
) -> None:
    key = cache_key(layer, "snap-1", "q")
    await redis_client.set(f"{key}:lock", "a-worker-that-died", px=300)
    cache = SnapshotCache.create(cache_settings(REDIS_URL))
    compute = Counting(b"mine")
    started = time.monotonic()
    result = await cache.get_or_compute(layer, key, compute, 60)
    waited = time.monotonic() - started
    await cache.close()
    assert result == Cached(b"mine", hit=False)
    assert compute.calls == 1
    # Not before the holder's lock expired (300 ms); an order of events, the upper end only
    # tells "waited for the expiry" from "waited forever" on a busy machine.
    assert 0.25 < waited < 10
    assert await redis_client.get(key) == b"mine"


async def test_wait_for_another_worker_is_bounded(redis_client: aioredis.Redis, layer: str) -> None:
    key = cache_key(layer, "snap-1", "q")
    await redis_client.set(f"{key}:lock", "a-stuck-worker", px=60_000)
    cache = SnapshotCache(SnapshotCache.create(cache_settings(REDIS_URL)).backend, 0.3)
    started = time.monotonic()
    result = await cache.get_or_compute(layer, key, Counting(b"mine"), 60)
    waited = time.monotonic() - started
    await cache.close()
    assert result.value == b"mine"
    assert 0.25 < waited < 10  # the 0.3 s bound, not the stuck lock's 60 s
    assert await redis_client.get(f"{key}:lock") == b"a-stuck-worker"  # not ours to delete


async def test_waiter_returns_the_holders_value_as_shared(
    redis_client: aioredis.Redis, layer: str
) -> None:
    key = cache_key(layer, "snap-1", "q")
    await redis_client.set(f"{key}:lock", "another-worker", px=10_000)
    cache = SnapshotCache.create(cache_settings(REDIS_URL))
    compute = Counting(b"mine")
    waiting = asyncio.create_task(cache.get_or_compute(layer, key, compute, 60))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    await redis_client.set(key, b"theirs", px=60_000)
    result = await asyncio.wait_for(waiting, 1.0)
    await cache.close()
    assert result == Cached(b"theirs", hit=False, shared=True)
    assert compute.calls == 0


class _OtherWorkerFinishesFirst:
    """A backend whose lookup misses, then another worker stores the value just before our lock."""

    def __init__(self, inner: RedisBackend, client: aioredis.Redis, key: str) -> None:
        self._inner = inner
        self._client = client
        self._key = key
        self.kind = inner.kind

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    async def acquire(self, lock: str, token: str, ttl_seconds: float) -> bool:
        await self._client.set(self._key, b"theirs", px=60_000)  # computed, stored, unlocked
        return await self._inner.acquire(lock, token, ttl_seconds)


async def test_value_stored_between_lookup_and_lock_is_not_computed_again(
    redis_client: aioredis.Redis, layer: str
) -> None:
    key = cache_key(layer, "snap-1", "q")
    inner = SnapshotCache.create(cache_settings(REDIS_URL)).backend
    assert isinstance(inner, RedisBackend)
    cache = SnapshotCache(_OtherWorkerFinishesFirst(inner, redis_client, key))
    compute = Counting(b"mine")
    result = await cache.get_or_compute(layer, key, compute, 60)
    await cache.close()
    assert result == Cached(b"theirs", hit=False, shared=True)
    assert compute.calls == 0
    assert await redis_client.exists(f"{key}:lock") == 0
