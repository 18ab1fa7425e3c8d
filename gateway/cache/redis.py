"""The Redis backend: short timeouts, no retries, every call through the circuit breaker.

A slow or absent Redis must cost a request at most about one timeout (100 ms by default), and
after a few failures nothing at all: the breaker opens and calls are skipped until a trial call
succeeds. Every Redis error surfaces as ``CacheUnavailable``; the caller computes instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from gateway.cache.breaker import CircuitBreaker
from gateway.settings import Settings

T = TypeVar("T")

# Compare-and-delete: only the holder's token releases the lock (it may have expired and been
# taken by another worker meanwhile; deleting that one would let a third worker compute too).
_RELEASE = """
if redis.call("get", KEYS[1]) == ARGV[1] then
    return redis.call("del", KEYS[1])
end
return 0
"""

# A call may need a connect, a handshake reply and the command's reply, each bounded by the
# socket timeouts; this outer bound also covers a server that accepts and never answers.
_CALL_TIMEOUTS = 3


R = TypeVar("R")


def from_settings(
    settings: Settings,
    connect: Callable[[str, float, CircuitBreaker], R],
    on_change: Callable[[bool], None] | None = None,
) -> R | None:
    """``connect(url, timeout_seconds, breaker)`` for ``GATEWAY_REDIS_URL`` behind a circuit
    breaker of its own (``GATEWAY_CACHE_BREAKER_*``, ``GATEWAY_REDIS_TIMEOUT_MS``); None when
    no Redis is configured. The ``from_url`` of every Redis-backed store fits ``connect``."""
    if not settings.redis_url:
        return None
    breaker = CircuitBreaker(
        settings.cache_breaker_failures, settings.cache_breaker_reset_seconds, on_change=on_change
    )
    return connect(settings.redis_url, settings.redis_timeout_ms / 1000, breaker)


def fail_fast_client(url: str, timeout_seconds: float) -> Redis:
    """A lazily connecting client of ``url``: ``timeout_seconds`` for connecting and for
    replies, no retries (a retry doubles the wait; circuit breakers decide instead)."""
    return Redis.from_url(
        url,
        socket_connect_timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        retry=Retry(NoBackoff(), 0),
        retry_on_timeout=False,
    )


class RedisBackend:
    """A :class:`~gateway.cache.backend.Backend` on one Redis (shared by all workers).

    Args:
        client: A ``redis.asyncio`` client (``decode_responses=False``).
        breaker: The circuit breaker every call goes through.
        timeout_seconds: Upper bound of one call, whatever the client's own timeouts.
    """

    kind = "redis"

    def __init__(self, client: Redis, breaker: CircuitBreaker, timeout_seconds: float) -> None:
        self._client = client
        self._breaker = breaker
        self._deadline = timeout_seconds * _CALL_TIMEOUTS
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str, timeout_seconds: float, breaker: CircuitBreaker) -> RedisBackend:
        """Connect lazily to ``url`` with ``timeout_seconds`` for connecting and for replies."""
        return cls(fail_fast_client(url, timeout_seconds), breaker, timeout_seconds)

    @property
    def breaker(self) -> CircuitBreaker:
        """The circuit breaker in front of this Redis."""
        return self._breaker

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        """``MGET`` the keys; missing keys are absent from the result."""
        if not keys:
            return {}
        values = await self._call(lambda: self._client.mget(list(keys)))
        # decode_responses=False: values are bytes (the str in redis-py's type is never returned).
        return {k: v for k, v in zip(keys, values, strict=True) if isinstance(v, bytes)}

    async def set_many(self, items: Mapping[str, bytes], ttl_seconds: float) -> None:
        """``SET key value PX ttl`` for every item, in one pipelined round trip."""
        if not items:
            return
        ttl_ms = max(1, round(ttl_seconds * 1000))

        async def write() -> object:
            async with self._client.pipeline(transaction=False) as pipe:
                for key, value in items.items():
                    pipe.set(key, value, px=ttl_ms)
                return await pipe.execute()

        await self._call(write)

    async def acquire(self, lock: str, token: str, ttl_seconds: float) -> bool:
        """``SET lock token NX PX ttl``: true when this caller now holds the lock."""
        ttl_ms = max(1, round(ttl_seconds * 1000))
        taken = await self._call(lambda: self._client.set(lock, token, nx=True, px=ttl_ms))
        return bool(taken)

    async def release(self, lock: str, token: str) -> None:
        """Delete ``lock`` if it still holds ``token`` (a Lua compare-and-delete)."""
        await self._call(lambda: self._release(keys=[lock], args=[token]))

    async def close(self) -> None:
        """Close the client's connections (and stop reporting the breaker as open)."""
        self._breaker.reset()
        await self._client.aclose()

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        async def bounded() -> T:
            async with asyncio.timeout(self._deadline):
                return await operation()

        return await self._breaker.call(bounded)
