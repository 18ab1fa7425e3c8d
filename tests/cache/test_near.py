"""The near copy: with Redis, each process keeps what it recently read or wrote.

Values under a key never change (a key names the snapshot), so a near copy may answer without
asking Redis, for as long as the Redis entry lives, within its byte bound. Each test runs its
own redis-server on a free port, so it can look at, flush or stop what the cache talks to.
"""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from gateway.cache.breaker import CircuitBreaker
from gateway.cache.keys import cache_key
from gateway.cache.memory import MemoryBackend
from gateway.cache.redis import RedisBackend
from gateway.cache.snapshot_cache import SnapshotCache
from tests.cache.support import Counting, computations, lookups
from tests.cache.test_redis_trouble import make_cache
from tests.redis_server import RedisServer

NEAR_BYTES = 1 << 20


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def cache_with_clock(server: RedisServer, clock: FakeClock, near_bytes: int) -> SnapshotCache:
    """A Redis cache on ``server`` whose near copy runs on ``clock``."""
    backend = RedisBackend.from_url(server.url, 2.0, CircuitBreaker(3, 0.5))
    return SnapshotCache(backend, near=MemoryBackend(near_bytes, clock=clock))


async def test_a_value_read_once_is_answered_without_redis(
    private_redis: RedisServer, layer: str
) -> None:
    writer, reader = make_cache(private_redis), make_cache(private_redis, near_bytes=NEAR_BYTES)
    key = cache_key(layer, "snap-1", "dau")
    await writer.get_or_compute(layer, key, Counting(b"7"), 60)
    first = await reader.get_or_compute(layer, key, Counting(b"other"), 60)  # from Redis
    private_redis.stop()
    second = await reader.get_or_compute(layer, key, Counting(b"other"), 60)  # near
    assert (first.value, first.hit, second.value, second.hit) == (b"7", True, b"7", True)
    assert reader.peek(layer, key) == b"7"
    assert lookups(layer, "error") == 0  # Redis was never asked after the stop
    await writer.close()
    await reader.close()


async def test_a_computed_value_is_kept_near_and_in_redis(
    private_redis: RedisServer, layer: str
) -> None:
    cache = make_cache(private_redis, near_bytes=NEAR_BYTES)
    key = cache_key(layer, "snap-1", "launches")
    compute = Counting(b"42")
    await cache.get_or_compute(layer, key, compute, 60)
    async with aioredis.Redis.from_url(private_redis.url) as admin:
        assert await admin.get(key) == b"42"  # other processes find it
        await admin.flushall()
    again = await cache.get_or_compute(layer, key, compute, 60)
    assert (again.value, again.hit, compute.calls) == (b"42", True, 1)
    await cache.close()


async def test_near_copies_expire_with_the_redis_entry(
    private_redis: RedisServer, layer: str
) -> None:
    clock = FakeClock()
    cache = cache_with_clock(private_redis, clock, NEAR_BYTES)
    key = cache_key(layer, "snap-1", "mau")
    await cache.set_many(layer, {key: b"9"}, ttl_seconds=30)
    assert cache.peek(layer, key) == b"9"
    clock.now += 29
    assert cache.peek(layer, key) == b"9"
    clock.now += 2
    assert cache.peek(layer, key) is None
    await cache.close()


@pytest.mark.parametrize(("ttl", "copied"), [(60.0, True), (0.0, False)])
async def test_get_many_copies_redis_values_near_for_the_given_lifetime(
    private_redis: RedisServer, layer: str, ttl: float, copied: bool
) -> None:
    writer, reader = make_cache(private_redis), make_cache(private_redis, near_bytes=NEAR_BYTES)
    keys = [cache_key(layer, "snap-2", str(i)) for i in range(3)]
    await writer.set_many(layer, dict.fromkeys(keys[:2], b"v"), ttl_seconds=60)
    assert await reader.get_many(layer, keys, ttl) == {keys[0]: b"v", keys[1]: b"v"}
    assert [reader.peek(layer, k) for k in keys] == [b"v" if copied else None] * 2 + [None]
    assert (lookups(layer, "hit"), lookups(layer, "miss")) == (2 + 2 * copied, 1)
    await writer.close()
    await reader.close()


async def test_near_copy_stays_within_its_bound(private_redis: RedisServer, layer: str) -> None:
    cache = make_cache(private_redis, near_bytes=10_000)
    keys = [cache_key(layer, "snap-3", str(i)) for i in range(30)]
    for key in keys:
        await cache.set_many(layer, {key: b"x" * 1_000}, ttl_seconds=60)
    held = [key for key in keys if cache.peek(layer, key) is not None]
    assert 0 < len(held) <= 9  # ~1,050 bytes an entry in 10,000
    assert held == keys[-len(held) :]  # the most recent ones
    assert len(await cache.get_many(layer, keys)) == 30  # Redis still has them all
    await cache.close()


async def test_without_a_near_copy_every_lookup_asks_redis(
    private_redis: RedisServer, layer: str
) -> None:
    cache = make_cache(private_redis)  # cache_max_bytes=0: no near copy
    key = cache_key(layer, "snap-4", "dau")
    await cache.get_or_compute(layer, key, Counting(b"1"), 60)
    assert cache.peek(layer, key) is None
    async with aioredis.Redis.from_url(private_redis.url) as admin:
        await admin.flushall()
    compute = Counting(b"1")
    assert not (await cache.get_or_compute(layer, key, compute, 60)).hit
    assert compute.calls == 1
    await cache.close()


async def test_redis_down_computed_values_are_still_kept_near(
    private_redis: RedisServer, layer: str
) -> None:
    cache = make_cache(private_redis, near_bytes=NEAR_BYTES)
    private_redis.stop()
    key = cache_key(layer, "snap-5", "dau")
    compute = Counting(b"3")
    first = await cache.get_or_compute(layer, key, compute, 60)
    second = await cache.get_or_compute(layer, key, compute, 60)
    assert (first.hit, second.hit, compute.calls) == (False, True, 1)
    assert computations(layer) == 1
    await cache.close()
