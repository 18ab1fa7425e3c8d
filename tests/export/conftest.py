"""Fixtures of the export tests: the cache tests' two tenants with events, served over HTTP.

The data is :func:`tests.cache_http.world.build_world` (ws-1 {app-1, app-2, m-1 (mp-1, mp-2),
m-2 (mp-3), mp-4}, ws-2 {app-3, m-3 (mp-6), mp-5}, 600 random events in March 2024 and a
snapshot), on SQLite and PostgreSQL, with the in-process cache.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.settings import Settings
from tests.cache_http.support import Gateway, http_settings, serve
from tests.cache_http.world import build_world

Serve = Callable[..., AbstractAsyncContextManager[Gateway]]
"""``serve_with(**setting_overrides)``: the gateway over the world with those settings."""


@pytest.fixture
async def world(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` with the two tenants, their events and a first snapshot."""
    await build_world(engine)
    return engine


@pytest.fixture
def serve_with(world: AsyncEngine, settings: Settings) -> Serve:
    """Open the gateway over :func:`world` with chosen settings."""
    del world

    def opened(**overrides: object) -> AbstractAsyncContextManager[Gateway]:
        return serve(http_settings(settings, None, **overrides))

    return opened


@pytest.fixture
async def gateway(serve_with: Serve) -> AsyncIterator[Gateway]:
    """The gateway over :func:`world` (query limits raised as in the cache tests)."""
    async with serve_with() as served:
        yield served
