"""Fixtures of the fault tests: a fresh database on the private PostgreSQL cluster (see
:mod:`tests.postgres_server`) with the cache tests' world, and the app over it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import orjson
import pytest

from gateway.settings import Settings
from tests.cache_http.support import Gateway, http_settings, serve
from tests.cache_http.world import build_world_in
from tests.postgres_server import PostgresServer


def launch_line(event_id: str) -> bytes:
    """A valid launch record of the world's catalog (app-1, mp-1)."""
    return orjson.dumps(
        {
            "kind": "launch",
            "id": event_id,
            "at": "2024-03-02T08:00:00+00:00",
            "targetAppId": "app-1",
            "miniProgramId": "mp-1",
            "userGuid": "u1",
        }
    )


@pytest.fixture
async def database(postgres_up: PostgresServer) -> Settings:
    """A fresh ``gateway`` database on the private cluster with the cache tests' world."""
    admin = await asyncpg.connect(postgres_up.url)
    try:
        await admin.execute("DROP DATABASE IF EXISTS gateway WITH (FORCE)")
        await admin.execute("CREATE DATABASE gateway")
    finally:
        await admin.close()
    # No rate limit: 20 clients share one principal here (tests/limits covers the limit).
    database_url = postgres_up.url.rsplit("/", 1)[0] + "/gateway"
    settings = Settings(
        database_url=database_url, rate_limit_per_second=0, cost_budget_per_window=0
    )
    await build_world_in(settings)
    return settings


@pytest.fixture
async def gateway(database: Settings) -> AsyncIterator[Gateway]:
    """The app on the private database, in-process cache, generation polled every 0.2 s."""
    async with serve(http_settings(database, None, cache_poll_seconds=0.2)) as served:
        yield served
