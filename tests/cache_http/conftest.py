"""Fixtures of the cache tests over HTTP: the data, and the gateway on each cache kind.

Every test runs on SQLite and PostgreSQL (the ``settings`` fixture) and, where it takes
``cache_url``, on the in-process cache and on the shared Redis (DB 15, flushed before and after).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.settings import Settings
from tests.cache_http.support import Gateway, http_settings, serve
from tests.cache_http.world import build_world


@pytest.fixture
async def world(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` with the two tenants, their events and a first snapshot."""
    await build_world(engine)
    return engine


@pytest.fixture
async def gateway(
    world: AsyncEngine, settings: Settings, cache_url: str | None
) -> AsyncIterator[Gateway]:
    """The app over :func:`world`'s database, with the cache of ``cache_url``.

    Redis calls get 2 s instead of 100 ms: these tests are about what is cached, and a loaded
    test machine must not turn a slow reply into a miss (test_redis_trouble covers timeouts).
    """
    async with serve(http_settings(settings, cache_url, redis_timeout_ms=2000)) as served:
        yield served
