"""Fixtures of the store tests: a database of a test's own, for migrations."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.settings import Settings
from gateway.store.db import create_engine
from tests.conftest import PG_ADMIN_URL

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


async def _admin(statement: str) -> None:
    url = make_url(PG_ADMIN_URL)
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty database of its own (not migrated)."""
    if request.param == "sqlite":
        engine = create_engine(Settings(database_url=f"sqlite:///{tmp_path / 'old.db'}"))
        yield engine
        await engine.dispose()
        return
    name = f"gateway_test_{_WORKER}_migrate"
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql", database=name)
    engine = create_engine(Settings(database_url=url.render_as_string(hide_password=False)))
    yield engine
    await engine.dispose()
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
