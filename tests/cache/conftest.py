"""Fixtures of the cache tests: the same suite on the in-process cache and on real Redis.

Normal cases use the shared Redis (the session's test database, flushed by ``redis_client``).
Trouble cases use a private ``redis-server`` on a free port that a test may stop, restart,
pause or flush: the shared server on 6379 is never touched.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from gateway.cache.snapshot_cache import SnapshotCache
from gateway.settings import Settings
from tests.redis_server import RedisServer

__all__ = ["RedisServer"]


@pytest.fixture
def layer() -> str:
    """A layer name of this test only, so Prometheus counts are this test's alone."""
    return f"test-{uuid.uuid4().hex[:12]}"


def cache_settings(redis_url: str | None, **overrides: object) -> Settings:
    """Settings for a cache on ``redis_url`` (None = in-process), database irrelevant."""
    return Settings(redis_url=redis_url, **overrides)  # type: ignore[arg-type]


@pytest.fixture
async def cache(cache_url: str | None) -> AsyncIterator[SnapshotCache]:
    """A SnapshotCache in-process, then on the shared Redis."""
    snapshot_cache = SnapshotCache.create(cache_settings(cache_url))
    assert snapshot_cache.kind == ("memory" if cache_url is None else "redis")
    yield snapshot_cache
    await snapshot_cache.close()
