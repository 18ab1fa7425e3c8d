"""The snapshot cache: computed results keyed by snapshot, in Redis or in-process.

Two layers use it (metric results and whole responses); the layer name only labels keys and
metrics. Values are opaque bytes (JSON by convention) stored under :func:`cache_key` keys;
``None`` from a computation and exceptions are never stored. Concurrent misses of one key
compute once: per process by a single flight, across processes by a Redis lock. Redis trouble
never raises out of here: lookups become misses (counted as ``error``) and writes are skipped.

With Redis, each process also keeps a *near copy* of the entries it recently read or wrote
(a bounded :class:`MemoryBackend`, ``GATEWAY_CACHE_MAX_BYTES``; 0 turns it off). This is safe
because a key names everything its value depends on, the snapshot included, so the value under
a key never changes: a near copy can only be evicted or expire (with the same lifetime as the
Redis entry), never go stale. A repeated request then costs no Redis round trip, and a process
keeps answering what it has seen while Redis is down.

Example:
    >>> import asyncio
    >>> from gateway.settings import Settings
    >>> cache = SnapshotCache.create(Settings())
    >>> async def compute() -> bytes:
    ...     return b'{"dau": 7}'
    >>> key = cache_key("metric", "snap-1", "dau")
    >>> asyncio.run(cache.get_or_compute("metric", key, compute, ttl_seconds=60))
    Cached(value=b'{"dau": 7}', hit=False, shared=False)
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from gateway.cache.backend import Backend
from gateway.cache.breaker import CacheUnavailable
from gateway.cache.flight import SingleFlight
from gateway.cache.instruments import Result, breaker_changed, count_computation, count_lookups
from gateway.cache.keys import KEY_VERSION, cache_key
from gateway.cache.memory import MemoryBackend
from gateway.cache.redis import RedisBackend, from_settings
from gateway.settings import Settings

__all__ = ["KEY_VERSION", "Cached", "SnapshotCache", "cache_key"]

Compute = Callable[[], Awaitable[bytes | None]]

LOCK_TTL_SECONDS = 10.0
"""How long a worker's Redis lock lives; also how long other workers wait for its value."""
POLL_SECONDS = (0.010, 0.025)
"""Range of the (jittered) interval at which a waiting worker looks for the value."""


@dataclass(frozen=True)
class Cached:
    """What :meth:`SnapshotCache.get_or_compute` returns.

    Attributes:
        value: The bytes, or ``None`` when the computation returned ``None`` (not cacheable).
        hit: True when served from the cache.
        shared: True when this caller got another caller's computation (in this process, or
            another worker's through Redis) instead of computing.
    """

    value: bytes | None
    hit: bool
    shared: bool = False


@dataclass(frozen=True)
class _Outcome:
    cached: Cached
    result: Result  # what the lookup was: hit, miss or error


class SnapshotCache:
    """Get-or-compute over a :class:`~gateway.cache.backend.Backend`, with single flight.

    Args:
        backend: Where values live (``RedisBackend`` or ``MemoryBackend``).
        lock_ttl_seconds: Lifetime of the Redis lock, and the longest wait for another worker.
    """

    def __init__(
        self,
        backend: Backend,
        lock_ttl_seconds: float = LOCK_TTL_SECONDS,
        near: MemoryBackend | None = None,
    ) -> None:
        self._backend = backend
        self._lock_ttl = lock_ttl_seconds
        self._flight: SingleFlight[_Outcome] = SingleFlight()
        self._near = None if isinstance(backend, MemoryBackend) else near
        # What answers without I/O: the whole cache in process, else the near copy (if any).
        self._local = backend if isinstance(backend, MemoryBackend) else near

    @classmethod
    def create(cls, settings: Settings) -> SnapshotCache:
        """Redis (with a near copy) when ``settings.redis_url`` is set, else the bounded
        in-process cache."""
        redis = from_settings(settings, RedisBackend.from_url, on_change=breaker_changed)
        if redis is None:
            return cls(MemoryBackend(settings.cache_max_bytes))
        near = MemoryBackend(settings.cache_max_bytes) if settings.cache_max_bytes else None
        return cls(redis, near=near)

    @property
    def kind(self) -> str:
        """``"redis"`` or ``"memory"``."""
        return self._backend.kind

    @property
    def backend(self) -> Backend:
        """The backend (tests inspect its breaker or size)."""
        return self._backend

    async def get_many(
        self, layer: str, keys: Sequence[str], ttl_seconds: float = 0.0
    ) -> dict[str, bytes]:
        """Return the cached values of ``keys`` (missing keys absent).

        What this process holds answers first; the rest is asked of Redis (on Redis trouble
        it is all missing, counted as ``error``). Values found in Redis are copied near for
        ``ttl_seconds`` (their remaining lifetime as the caller knows it; 0: not copied).
        """
        found: dict[str, bytes] = {}
        if self._local is not None:
            found = {key: value for key in keys if (value := self._local.get(key)) is not None}
        rest = [] if self._local is self._backend else [k for k in keys if k not in found]
        if rest:
            try:
                far = await self._backend.get_many(rest)
            except CacheUnavailable:
                count_lookups(layer, "hit", len(found))
                count_lookups(layer, "error", len(rest))
                return found
            self._keep_near(far, ttl_seconds)
            found.update(far)
        count_lookups(layer, "hit", len(found))
        count_lookups(layer, "miss", len(keys) - len(found))
        return found

    async def set_many(self, layer: str, items: Mapping[str, bytes], ttl_seconds: float) -> None:
        """Store ``items`` for ``ttl_seconds``; nothing when it is <= 0 (with Redis failing,
        only the near copy)."""
        if ttl_seconds <= 0 or not items:
            return
        self._keep_near(items, ttl_seconds)
        # On CacheUnavailable the breaker has counted it; other processes will compute again.
        with contextlib.suppress(CacheUnavailable):
            await self._backend.set_many(items, ttl_seconds)

    def peek(self, layer: str, key: str) -> bytes | None:
        """The value of ``key`` if this process holds it (the in-process cache, or the near
        copy of Redis), else None; no I/O. Only a hit is counted (a miss goes on to
        :meth:`get_or_compute`, which counts it)."""
        value = None if self._local is None else self._local.get(key)
        if value is not None:
            count_lookups(layer, "hit")
        return value

    async def get_or_compute(
        self, layer: str, key: str, compute: Compute, ttl_seconds: float
    ) -> Cached:
        """Return the cached value of ``key``, or compute it once for all concurrent callers.

        Args:
            layer: Metrics label (``"metric"``, ``"response"``...).
            key: The full cache key (see :func:`cache_key`).
            compute: Produces the value; ``None`` means "do not cache". Its exceptions reach
                every caller waiting on it and nothing is stored.
            ttl_seconds: Lifetime of the stored value; <= 0 stores nothing.
        """
        joining = self._flight.is_running(key)
        if not joining and self._local is not None:
            # The common case, a hit held in this process, skips the single flight's task: it
            # costs a dict lookup. (Past it, with Redis, the flight turns a burst of identical
            # lookups into one round trip.) A miss is counted once, by the flight's lookup.
            value = self._local.get(key)
            if value is not None:
                count_lookups(layer, "hit")
                return Cached(value, hit=True)
        try:
            outcome, _ = await self._flight.run(
                key, lambda: self._resolve_near(layer, key, compute, ttl_seconds)
            )
        except Exception:
            if joining:  # the leader counted its own lookup before computing
                count_lookups(layer, "miss")
            raise
        if not joining:
            return outcome.cached
        count_lookups(layer, outcome.result)
        hit = outcome.cached.hit
        return Cached(outcome.cached.value, hit=hit, shared=not hit)

    async def close(self) -> None:
        """Release the backend's connections (or memory)."""
        await self._backend.close()

    def _keep_near(self, items: Mapping[str, bytes], ttl_seconds: float) -> None:
        """Copy ``items`` near for ``ttl_seconds`` (nothing without a near copy)."""
        if self._near is not None and items and ttl_seconds > 0:
            self._near.put(items, ttl_seconds)

    async def _resolve_near(
        self, layer: str, key: str, compute: Compute, ttl_seconds: float
    ) -> _Outcome:
        """:meth:`_resolve`, then a near copy of the value (found in Redis, or computed)."""
        outcome = await self._resolve(layer, key, compute, ttl_seconds)
        if outcome.cached.value is not None:
            self._keep_near({key: outcome.cached.value}, ttl_seconds)
        return outcome

    async def _resolve(
        self, layer: str, key: str, compute: Compute, ttl_seconds: float
    ) -> _Outcome:
        """The single flight's work: look up, then compute under the lock on a miss."""
        try:
            found = await self._backend.get_many([key])
        except CacheUnavailable:
            count_lookups(layer, "error")
            # Redis is failing: compute without lock or write (each would wait a timeout).
            return await self._compute(layer, key, compute, ttl_seconds, "error", store=False)
        if key in found:
            count_lookups(layer, "hit")
            return _Outcome(Cached(found[key], hit=True), "hit")
        count_lookups(layer, "miss")
        if ttl_seconds <= 0:  # nothing will be stored, so nothing for other workers to wait for
            return await self._compute(layer, key, compute, ttl_seconds, "miss", store=False)
        return await self._compute_once(layer, key, compute, ttl_seconds)

    async def _compute_once(
        self, layer: str, key: str, compute: Compute, ttl_seconds: float
    ) -> _Outcome:
        """Compute under the cross-process lock, or wait for the worker holding it."""
        lock, token = f"{key}:lock", secrets.token_hex(16)
        deadline = time.monotonic() + self._lock_ttl
        try:
            while not await self._backend.acquire(lock, token, self._lock_ttl):
                await asyncio.sleep(random.uniform(*POLL_SECONDS))
                found = await self._backend.get_many([key])
                if key in found:
                    return _Outcome(Cached(found[key], hit=False, shared=True), "miss")
                if time.monotonic() >= deadline:
                    # The holder is stuck or slow: stop waiting and answer this request.
                    return await self._compute(layer, key, compute, ttl_seconds, "miss")
        except CacheUnavailable:
            return await self._compute(layer, key, compute, ttl_seconds, "error", store=False)
        try:
            return await self._compute_holding(layer, key, compute, ttl_seconds)
        finally:
            await self._quietly(self._backend.release(lock, token))

    async def _compute_holding(
        self, layer: str, key: str, compute: Compute, ttl_seconds: float
    ) -> _Outcome:
        """With the lock held: compute unless another worker stored the value meanwhile."""
        # Another worker may have computed, stored and unlocked between our lookup and our lock.
        try:
            found = await self._backend.get_many([key])
        except CacheUnavailable:
            found = {}
        if key in found:
            return _Outcome(Cached(found[key], hit=False, shared=True), "miss")
        return await self._compute(layer, key, compute, ttl_seconds, "miss")

    async def _compute(
        self,
        layer: str,
        key: str,
        compute: Compute,
        ttl_seconds: float,
        result: Result,
        store: bool = True,
    ) -> _Outcome:
        count_computation(layer)
        value = await compute()
        if store and value is not None and ttl_seconds > 0:
            await self._quietly(self._backend.set_many({key: value}, ttl_seconds))
        return _Outcome(Cached(value, hit=False), result)

    @staticmethod
    async def _quietly(operation: Awaitable[None]) -> None:
        with contextlib.suppress(CacheUnavailable):  # best effort: the breaker counted it
            await operation
