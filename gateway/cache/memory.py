"""The embedded default: a bounded in-process cache with per-entry expiry.

The bound is in bytes: an entry weighs the length of its key plus the length of its value
(Python's per-object overhead, roughly 150 bytes an entry, is not counted). When full, expired
entries go first, then the least recently used. A value larger than the whole bound is not stored.

Example:
    >>> import asyncio
    >>> cache = MemoryBackend(max_bytes=1024)
    >>> asyncio.run(cache.set_many({"k": b"v"}, ttl_seconds=60))
    >>> asyncio.run(cache.get_many(["k", "other"]))
    {'k': b'v'}
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from cachetools import TLRUCache


class _Entry(NamedTuple):
    expires: float
    value: bytes
    weight: int


def _expires(_key: str, entry: _Entry, _now: float) -> float:
    return entry.expires


def _weight(entry: _Entry) -> float:
    return entry.weight


class MemoryBackend:
    """A :class:`~gateway.cache.backend.Backend` in this process's memory (one per worker).

    No cross-process lock: each worker computes a cold key once (the in-process single flight).

    Args:
        max_bytes: Bound on the summed weight (key + value bytes) of the entries.
        clock: Monotonic clock in seconds (tests pass a fake).
    """

    kind = "memory"

    def __init__(self, max_bytes: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: TLRUCache[str, _Entry, float] = TLRUCache(
            maxsize=max_bytes, ttu=_expires, timer=clock, getsizeof=_weight
        )

    @property
    def size_bytes(self) -> float:
        """Current summed weight of the entries (expired ones included until evicted)."""
        return self._entries.currsize

    def get(self, key: str) -> bytes | None:
        """The live value of ``key``, or None (synchronous: no I/O ever happens here)."""
        entry = self._entries.get(key)
        return None if entry is None else entry.value

    def put(self, items: Mapping[str, bytes], ttl_seconds: float) -> None:
        """Store ``items`` until ``ttl_seconds`` from now, evicting as the bound requires."""
        expires = self._clock() + ttl_seconds
        for key, value in items.items():
            # A copy of exactly its length: orjson's output keeps the buffer it was written in
            # (4 KiB for a small value), which the byte bound would not see.
            kept = bytes(memoryview(value))
            try:
                self._entries[key] = _Entry(expires, kept, len(key) + len(kept))
            except ValueError:  # larger than the whole cache: not cacheable here
                self._entries.pop(key, None)

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        """Return the live values of ``keys``."""
        return {key: value for key in keys if (value := self.get(key)) is not None}

    async def set_many(self, items: Mapping[str, bytes], ttl_seconds: float) -> None:
        """:meth:`put`, as the :class:`~gateway.cache.backend.Backend` interface asks."""
        self.put(items, ttl_seconds)

    async def acquire(self, lock: str, token: str, ttl_seconds: float) -> bool:
        """Always granted: within one process the single flight already serializes a key."""
        return True

    async def release(self, lock: str, token: str) -> None:
        """Nothing to release (see :meth:`acquire`)."""

    async def close(self) -> None:
        """Drop every entry."""
        self._entries.clear()
