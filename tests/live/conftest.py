"""Fixtures of the live tests: the cache tests' two tenants, served by a real uvicorn."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.settings import Settings
from tests.cache_http.world import build_world
from tests.live.support import live_settings, served


@pytest.fixture
async def world(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` with the two tenants, their events and a first snapshot."""
    await build_world(engine)
    return engine


@pytest.fixture
def served_settings(settings: Settings) -> Settings:
    """The settings the served gateway runs with (in-process cache)."""
    return live_settings(settings)


@pytest.fixture
def url(world: AsyncEngine, served_settings: Settings) -> Iterator[str]:
    """``ws://.../graphql`` of a gateway serving :func:`world`."""
    del world
    with served(served_settings) as ws_url:
        yield ws_url
