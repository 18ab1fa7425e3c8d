"""Shared fixtures: a clean database per test on real PostgreSQL *and* SQLite, and real Redis.

PostgreSQL and Redis must be reachable (``.ci/run`` starts them); a missing server fails the run
loudly instead of skipping tests. Override the addresses with ``GATEWAY_TEST_POSTGRES_URL`` (an
admin URL; a database ``gateway_test`` is created beside it) and ``GATEWAY_TEST_REDIS_URL``.
"""

from __future__ import annotations

import os
import shutil
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.schema import GatewaySchema, QueryLimits, build_schema
from gateway.settings import Settings
from gateway.store.db import create_engine
from gateway.store.migrate import upgrade
from gateway.store.tables import EVENT_TABLES, metadata

PG_ADMIN_URL = os.environ.get(
    "GATEWAY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
# One Redis database per test session name (DBs 8-15), like the PostgreSQL database below, so
# parallel sessions never flush each other's keys.
RAISED_LIMITS = QueryLimits(depth=50, aliases=10_000, tokens=100_000, cost=10**9)
"""Query limits for tests about data, not limits: their large random or many-entity documents
must run (tests/limits tests the defaults)."""

REDIS_URL = os.environ.get(
    "GATEWAY_TEST_REDIS_URL",
    f"redis://127.0.0.1:6379/{15 - zlib.crc32(_WORKER.encode()) % 8}",
)
BACKENDS = ("sqlite", "postgresql")

pytest_plugins = ["tests.redis_server", "tests.postgres_server"]  # private servers


def _pg_test_url() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql", database=f"gateway_test_{worker}")
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
async def pg_url() -> str:
    """A freshly created PostgreSQL database for this test session (dropped and recreated)."""
    url = _pg_test_url()
    await _recreate_database(make_url(url).database or "gateway_test")
    return url


async def _recreate_database(name: str) -> None:
    url = make_url(PG_ADMIN_URL)
    try:
        conn = await asyncpg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            database=url.database,
        )
    except Exception as exc:  # pragma: no cover - environment failure
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}", pytrace=False)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    """One engine on the session's PostgreSQL database, migrated to head."""
    engine = create_engine(Settings(database_url=pg_url))
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (faster than migrating per test)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = create_engine(Settings(database_url=f"sqlite:///{path}"))
    await upgrade(engine)
    await engine.dispose()
    return path


async def _truncate_postgres(engine: AsyncEngine) -> None:
    # The event tables are emptied by DELETE: TRUNCATE would visit each of the hundreds of day
    # partitions the session's tests made (0.3 to 1 s a test), DELETE only reads empty ones.
    events = set(EVENT_TABLES.values())
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables if t not in events)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        for table in events:
            await conn.execute(table.delete())


@pytest.fixture(params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> tuple[str, AsyncEngine | None]:
    """The database URL of this test (SQLite copy, or the session's PostgreSQL database)."""
    if request.param == "sqlite":
        path = tmp_path / "gateway.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}", None
    pg_engine: AsyncEngine = request.getfixturevalue("pg_engine")
    return request.getfixturevalue("pg_url"), pg_engine


@pytest.fixture
async def settings(backend: tuple[str, AsyncEngine | None]) -> Settings:
    """Settings for a clean, migrated database, once on SQLite and once on PostgreSQL."""
    url, pg_engine = backend
    if pg_engine is not None:
        await _truncate_postgres(pg_engine)
    # The rate limit and the cost budget are off: tests send many requests as one principal
    # at once (tests/limits/test_rate_limit.py and test_cost_budget.py turn them on).
    return Settings(database_url=url, rate_limit_per_second=0, cost_budget_per_window=0)


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine on a clean, migrated database (SQLite and PostgreSQL)."""
    eng = create_engine(settings)
    yield eng
    await eng.dispose()


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    """A real Redis connection on a flushed test database."""
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # pragma: no cover - environment failure
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}", pytrace=False)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


@pytest.fixture(scope="session")
def schema() -> GatewaySchema:
    """The gateway schema with the default matrix, built once. Its query limits are raised:
    tests of the data select every field of a type in wide aliased queries; tests/limits checks
    the limits."""
    return build_schema(limits=RAISED_LIMITS)
