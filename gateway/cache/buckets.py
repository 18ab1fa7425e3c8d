"""Token buckets for the per-principal rate limit: atomic in Redis (a Lua script), or in-process.

A bucket holds up to ``burst`` tokens and gains ``rate`` tokens a second; a request takes one.
An empty bucket answers how long until a token is back. With ``GATEWAY_REDIS_URL`` every worker
shares the buckets (one script call per request: read, refill, take and write at once, so two
workers can never spend the same token); without it each process keeps its own.

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

# KEYS[1]: the bucket (a hash of tokens and last update); ARGV: rate per second, burst, now
# (seconds, float). Returns 0 when a token was taken, else the microseconds until one is back.
_TAKE = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call("HMGET", KEYS[1], "tokens", "at")
local tokens, at = tonumber(state[1]), tonumber(state[2])
if tokens == nil or at == nil then
    tokens, at = burst, now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
    tokens = tokens - 1
else
    wait = math.ceil((1 - tokens) / rate * 1000000)
end
redis.call("HSET", KEYS[1], "tokens", tostring(tokens), "at", tostring(math.max(now, at)))
redis.call("PEXPIRE", KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return wait
"""


class Buckets(Protocol):
    """Where the buckets live."""

    async def take(self, key: str, rate: float, burst: int, now: float) -> float:
        """Take a token from ``key``'s bucket: 0.0 when taken, else the seconds until one is
        back (nothing taken)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class MemoryBuckets:
    """Buckets of this process (see the module docstring)."""

    def __init__(self, maxsize: int = MAX_MEMORY_BUCKETS) -> None:
        self._state: LRUCache[str, tuple[float, float]] = LRUCache(maxsize=maxsize)

    def take_now(self, key: str, rate: float, burst: int, now: float) -> float:
        """:meth:`take`, synchronously."""
        tokens, at = self._state.get(key, (float(burst), now))
        tokens = min(burst, tokens + max(0.0, now - at) * rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / rate
        self._state[key] = (tokens, max(now, at))
        return wait

    async def take(self, key: str, rate: float, burst: int, now: float) -> float:
        """Take a token (see :class:`Buckets`)."""
        return self.take_now(key, rate, burst, now)

    async def close(self) -> None:
        """Nothing to release."""


class RedisBuckets:
    """Buckets in Redis, shared by every worker; fails open (see the module docstring).

    Args:
        client: A ``redis.asyncio`` client.
        breaker: The circuit breaker in front of it.
        timeout_seconds: Upper bound of one check.
    """

    def __init__(self, client: Redis, breaker: CircuitBreaker, timeout_seconds: float) -> None:
        self._client = client
        self._breaker = breaker
        self._timeout = timeout_seconds
        self._script = client.register_script(_TAKE)

    @classmethod
    def from_url(cls, url: str, timeout_seconds: float, breaker: CircuitBreaker) -> RedisBuckets:
        """Connect lazily to ``url``, ``timeout_seconds`` for connecting and for replies."""
        return cls(fail_fast_client(url, timeout_seconds), breaker, timeout_seconds * 3)

    async def take(self, key: str, rate: float, burst: int, now: float) -> float:
        """Take a token (see :class:`Buckets`); 0.0 (allowed) when Redis fails."""

        async def call() -> object:
            async with asyncio.timeout(self._timeout):
                return await self._script(
                    keys=[cache_key("rate", key)], args=[repr(rate), burst, repr(now)]
                )

        try:
            wait = await self._breaker.call(call)
        except CacheUnavailable:
            RATE_LIMIT_ERRORS.inc()
            return 0.0
        return int(wait) / 1_000_000 if isinstance(wait, int | bytes | str) else 0.0

    async def close(self) -> None:
        """Close the client's connections."""
        self._breaker.reset()
        await self._client.aclose()
