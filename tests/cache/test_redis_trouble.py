"""Redis stopped, restarted, slow or flushed mid-load: every call answers, nothing raises.

Each test runs its own redis-server on a free port (never the shared one). These tests are
about lookups that reach Redis, so the near copy is off (``cache_max_bytes=0``); what it adds
when Redis is in trouble is in ``test_near.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from gateway.cache.keys import cache_key
from gateway.cache.redis import RedisBackend
from gateway.cache.snapshot_cache import SnapshotCache
from tests.cache.conftest import RedisServer, cache_settings
from tests.cache.support import Counting, breakers_open, computations, lookups
from tests.redis_server import STALLS, stalled

TIMEOUT_MS = 100
RESET_SECONDS = 0.5


def make_cache(
    server: RedisServer, timeout_ms: int = TIMEOUT_MS, near_bytes: int = 0
) -> SnapshotCache:
    """A cache on the private server: breaker opens after 3 failures, resets in 0.5 s; no
    near copy unless ``near_bytes``."""
    settings = cache_settings(
        server.url,
        redis_timeout_ms=timeout_ms,
        cache_breaker_failures=3,
        cache_breaker_reset_seconds=RESET_SECONDS,
        cache_max_bytes=near_bytes,
    )
    return SnapshotCache.create(settings)


@pytest.fixture
async def cache(private_redis: RedisServer) -> AsyncIterator[SnapshotCache]:
    """A cache on the private server with the default 100 ms timeouts."""
    snapshot_cache = make_cache(private_redis)
    yield snapshot_cache
    await snapshot_cache.close()


def breaker_state(cache: SnapshotCache) -> str:
    backend = cache.backend
    assert isinstance(backend, RedisBackend)
    return backend.breaker.state


async def load(cache: SnapshotCache, layer: str, round_: int, width: int = 20) -> None:
    """``width`` concurrent calls on distinct keys, each checked to be answered."""

    async def one(i: int) -> None:
        result = await cache.get_or_compute(
            layer, cache_key(layer, str(round_), str(i)), compute, 60
        )
        assert result.value == b"v"  # answered, whatever Redis did

    compute = Counting(b"v")
    await asyncio.gather(*(one(i) for i in range(width)))


async def test_stop_mid_load_answers_everything_and_opens_the_breaker(
    cache: SnapshotCache, private_redis: RedisServer, layer: str
) -> None:
    opened_before = breakers_open()
    rounds = 40

    async def keep_loading() -> None:
        for round_ in range(rounds):
            await load(cache, layer, round_)
            await asyncio.sleep(0.01)

    loading = asyncio.create_task(keep_loading())
    await asyncio.sleep(0.1)
    assert not loading.done()
    await asyncio.to_thread(private_redis.stop)  # while calls are in flight
    await loading
    assert breaker_state(cache) == "open"
    assert breakers_open() == opened_before + 1
    assert lookups(layer, "hit") == 0
    assert 0 < lookups(layer, "error") < rounds * 20
    assert lookups(layer, "error") + lookups(layer, "miss") == rounds * 20
    assert computations(layer) == rounds * 20  # every call answered, from the "database"
    assert await cache.get_many(layer, ["k1", "k2"]) == {}
    await cache.set_many(layer, {"k1": b"x"}, ttl_seconds=60)  # skipped, no exception


async def test_restart_uses_redis_again_after_the_reset_period(
    cache: SnapshotCache, private_redis: RedisServer, layer: str
) -> None:
    private_redis.stop()
    await load(cache, layer, 0)
    assert breaker_state(cache) == "open"
    private_redis.start()
    await load(cache, layer, 1)
    assert breaker_state(cache) == "open"  # still within the reset period: Redis not tried
    await asyncio.sleep(RESET_SECONDS + 0.1)
    key = cache_key(layer, "after-restart")
    compute = Counting(b"fresh")
    first = await cache.get_or_compute(layer, key, compute, 60)
    second = await cache.get_or_compute(layer, key, compute, 60)
    assert breaker_state(cache) == "closed"
    assert (first.hit, second.hit, compute.calls) == (False, True, 1)
    async with aioredis.Redis.from_url(private_redis.url) as client:
        assert await client.get(key) == b"fresh"


@pytest.mark.parametrize("stall", STALLS, ids=["pause", "sleep"])
async def test_slow_redis_costs_about_one_timeout_not_the_stall(
    cache: SnapshotCache, private_redis: RedisServer, layer: str, stall: tuple[str, ...]
) -> None:
    await load(cache, layer, 0)  # connections open and warm
    errors_before = lookups(layer, "error")  # a busy machine may time out a warm-up call
    async with stalled(private_redis.url, stall) as redis_answers:
        for round_ in range(1, 6):
            await load(cache, layer, round_)
        answered_during_stall = not redis_answers.done()
    assert answered_during_stall  # five rounds of 20 calls, all answered before the stall ended
    assert breaker_state(cache) == "open"
    assert lookups(layer, "error") - errors_before == 5 * 20


async def test_flushall_mid_load_misses_then_refills(
    private_redis: RedisServer, layer: str
) -> None:
    # Generous timeouts: this test is about FLUSHALL, not about a busy machine's latency.
    cache = make_cache(private_redis, timeout_ms=2000)
    keys = [cache_key(layer, "snap-1", str(i)) for i in range(50)]
    compute = Counting(b"v")

    async def round_() -> list[bool]:
        results = await asyncio.gather(*(cache.get_or_compute(layer, k, compute, 60) for k in keys))
        return [r.hit for r in results]

    assert not any(await round_())
    assert all(await round_())
    async with aioredis.Redis.from_url(private_redis.url) as admin:
        await admin.flushall()
    assert not any(await round_())
    assert all(await round_())
    assert breaker_state(cache) == "closed"
    await cache.close()
    assert compute.calls == 100
    assert lookups(layer, "error") == 0
