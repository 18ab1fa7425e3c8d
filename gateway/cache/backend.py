"""The storage interface both backends implement (Redis, or the bounded in-process cache)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class Backend(Protocol):
    """Where cached bytes live. Every method raises ``CacheUnavailable`` instead of a Redis error.

    Keys are full cache keys (see ``cache_key``); values are opaque bytes (JSON by convention).
    """

    @property
    def kind(self) -> str:
        """``"redis"`` or ``"memory"``."""
        ...

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        """Return the stored values of ``keys``; missing or expired keys are absent."""
        ...

    async def set_many(self, items: Mapping[str, bytes], ttl_seconds: float) -> None:
        """Store every item for ``ttl_seconds`` (> 0)."""
        ...

    async def acquire(self, lock: str, token: str, ttl_seconds: float) -> bool:
        """Take the cross-process lock ``lock`` for ``ttl_seconds`` unless someone holds it."""
        ...

    async def release(self, lock: str, token: str) -> None:
        """Release ``lock`` if it still holds ``token`` (it may have expired and been retaken)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
