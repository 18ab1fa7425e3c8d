"""Token buckets for the per-principal rate limit: atomic in Redis (a Lua script), or in-process.

A bucket holds up to ``burst`` tokens and gains ``rate`` tokens a second; a request takes one
(a batch of operations one per operation, at most ``burst`` at once). A bucket without enough
tokens answers how long until they are back, and gives none. With ``GATEWAY_REDIS_URL`` every worker
shares the buckets (a script call reads, refills, takes and writes at once, so two workers can
never spend the same token); without it each process keeps its own.

A Redis round trip per request would cost a cached answer most of its speed, so each process
**leases** tokens: a script call takes up to :func:`lease_size` tokens at once (a tenth of a
second's worth, at most a tenth of the burst; one token for small rates, which keeps those
exact), the next requests spend them locally, and what a lease has left when it lapses
(:data:`LEASE_SECONDS`) goes back to the bucket with the process's next call for that caller.
Tokens are never spent twice; a caller may only be refused a little early while another
process still holds part of a lease (at most a lease per process).

Redis trouble never refuses a request: the check fails open (the request is allowed) and is
counted in ``gateway_rate_limit_errors_total``; after a few failures the circuit breaker skips
Redis altogether for a while, as the cache does.

Example:
    >>> buckets = MemoryBuckets()
    >>> [buckets.take_now("k", rate=1.0, burst=2, now=100.0) for _ in range(3)]
    [0.0, 0.0, 1.0]
    >>> buckets.take_now("k", rate=1.0, burst=2, now=100.5)
    0.5
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

from cachetools import LRUCache
from prometheus_client import Counter
from redis.asyncio import Redis

from gateway.cache.breaker import CacheUnavailable, CircuitBreaker
from gateway.cache.keys import cache_key
from gateway.cache.redis import fail_fast_client

RATE_LIMIT_ERRORS = Counter(
    "gateway_rate_limit_errors_total",
    "Rate-limit checks that failed open because Redis did not answer.",
)

MAX_MEMORY_BUCKETS = 100_000
"""Buckets kept in-process (least recently used dropped first: a dropped bucket is full)."""

LEASE_SECONDS = 1.0
"""How long a process may spend the tokens of a lease before the rest go back."""

# KEYS[1]: the bucket (a hash of tokens and last update, Redis's seconds); ARGV: rate per
# second, burst, tokens wanted, tokens given back, tokens needed (at most wanted). Returns
# {tokens granted (0, or from needed to wanted), microseconds until the needed tokens are back
# (when none was granted)}. The time is Redis's own (TIME; scripts are replicated by their
# effects since Redis 5), so workers whose clocks disagree still share one bucket correctly.
_LEASE = """
local clock = redis.call("TIME")
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local want, back, need = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local state = redis.call("HMGET", KEYS[1], "tokens", "at")
local tokens, at = tonumber(state[1]), tonumber(state[2])
if tokens == nil or at == nil then
    tokens, at = burst, now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate + back)
local granted, wait = 0, 0
if tokens >= need then
    granted = math.min(want, math.floor(tokens))
    tokens = tokens - granted
else
    wait = math.ceil((need - tokens) / rate * 1000000)
end
redis.call("HSET", KEYS[1], "tokens", tostring(tokens), "at", tostring(math.max(now, at)))
redis.call("PEXPIRE", KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {granted, wait}
"""


def lease_size(rate: float, burst: int) -> int:
    """Tokens one script call takes: a tenth of a second's worth, at most a tenth of the burst,
    at least one.

    >>> lease_size(50.0, 100), lease_size(2.0, 3), lease_size(1e9, 10**9)
    (5, 1, 100000000)
    """
    return max(1, min(burst // 10, int(rate * LEASE_SECONDS / 10)))


class Buckets(Protocol):
    """Where the buckets live."""

    async def take(self, key: str, rate: float, burst: int, count: int = 1) -> float:
        """Take ``count`` tokens (at most ``burst``) from ``key``'s bucket: 0.0 when taken,
        else the seconds until they are back (nothing taken)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class MemoryBuckets:
    """Buckets of this process (see the module docstring), on ``clock`` (monotonic seconds;
    tests pass a fake)."""

    def __init__(
        self, maxsize: int = MAX_MEMORY_BUCKETS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._state: LRUCache[str, tuple[float, float]] = LRUCache(maxsize=maxsize)

    def take_now(self, key: str, rate: float, burst: int, now: float, count: int = 1) -> float:
        """:meth:`take`, synchronously."""
        count = min(count, burst)
        tokens, at = self._state.get(key, (float(burst), now))
        tokens = min(burst, tokens + max(0.0, now - at) * rate)
        wait = 0.0
        if tokens >= count:
            tokens -= count
        else:
            wait = (count - tokens) / rate
        self._state[key] = (tokens, max(now, at))
        return wait

    async def take(self, key: str, rate: float, burst: int, count: int = 1) -> float:
        """Take tokens (see :class:`Buckets`)."""
        return self.take_now(key, rate, burst, self._clock(), count)

    async def close(self) -> None:
        """Nothing to release."""


class RedisBuckets:
    """Buckets in Redis, shared by every worker; fails open (see the module docstring).

    Args:
        client: A ``redis.asyncio`` client.
        breaker: The circuit breaker in front of it.
        timeout_seconds: Upper bound of one check.
        clock: Monotonic seconds that time this process's leases (the buckets run on Redis's
            own clock).
    """

    def __init__(
        self,
        client: Redis,
        breaker: CircuitBreaker,
        timeout_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._client = client
        self._breaker = breaker
        self._timeout = timeout_seconds
        self._script = client.register_script(_LEASE)
        self._leases: LRUCache[str, tuple[int, float]] = LRUCache(maxsize=MAX_MEMORY_BUCKETS)
        """Per caller: tokens of the current lease left, and when it lapses."""

    @classmethod
    def from_url(cls, url: str, timeout_seconds: float, breaker: CircuitBreaker) -> RedisBuckets:
        """Connect lazily to ``url``, ``timeout_seconds`` for connecting and for replies."""
        return cls(fail_fast_client(url, timeout_seconds), breaker, timeout_seconds * 3)

    async def take(self, key: str, rate: float, burst: int, count: int = 1) -> float:
        """Take tokens (see :class:`Buckets`): from this process's lease of ``key`` while it
        lasts, else from Redis; 0.0 (allowed) when Redis fails."""
        count = min(count, burst)
        now = self._clock()
        left, lapses = self._leases.pop(key, (0, 0.0))
        if left >= count and now < lapses:
            self._leases[key] = (left - count, lapses)
            return 0.0
        want = max(count, lease_size(rate, burst))

        async def call() -> object:
            async with asyncio.timeout(self._timeout):
                return await self._script(
                    keys=[cache_key("rate", key)],
                    args=[repr(rate), burst, want, left, count],
                )

        try:
            answer = await self._breaker.call(call)
        except CacheUnavailable:
            RATE_LIMIT_ERRORS.inc()
            return 0.0
        granted, wait = answer if isinstance(answer, list) else (count, 0)
        if int(granted) < count:
            return int(wait) / 1_000_000
        more, _ = self._leases.pop(key, (0, 0.0))  # another request's lease, taken meanwhile
        self._leases[key] = (int(granted) - count + more, now + LEASE_SECONDS)
        return 0.0

    async def close(self) -> None:
        """Close the client's connections."""
        self._breaker.reset()
        await self._client.aclose()
