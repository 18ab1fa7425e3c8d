"""Migrations produce exactly the declared tables, on both databases."""

from __future__ import annotations

import asyncio
import os
import sys
from asyncio.subprocess import PIPE, STDOUT
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.settings import Settings
from gateway.store.db import create_engine
from gateway.store.migrate import comparison_options, current_revision, head_revision, upgrade
from gateway.store.tables import metadata
from tests.conftest import _pg_test_url, _recreate_database


def _diff(connection: Connection) -> list[object]:
    opts = comparison_options(connection.dialect.name)
    context = MigrationContext.configure(connection, opts=opts)
    return list(compare_metadata(context, metadata))


async def test_migrations_match_tables(engine: AsyncEngine) -> None:
    assert await current_revision(engine) == head_revision()
    async with engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_upgrade_is_idempotent(engine: AsyncEngine) -> None:
    await upgrade(engine)
    assert await current_revision(engine) == head_revision()


GATEWAY = Path(sys.executable).with_name("gateway")

HELD_ADVISORY_LOCKS = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


async def test_concurrent_migrations_of_a_fresh_postgres_database_apply_once() -> None:
    url = make_url(_pg_test_url())
    name = f"{url.database}_migrate"
    await _recreate_database(name)
    database_url = url.set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "GATEWAY_DATABASE_URL": database_url}
    # Four servers starting together: without the advisory lock they race on CREATE TABLE.
    processes = [
        await asyncio.create_subprocess_exec(
            str(GATEWAY), "migrate", env=env, stdout=PIPE, stderr=STDOUT
        )
        for _ in range(4)
    ]
    outputs = await asyncio.gather(*(process.communicate() for process in processes))
    for process, (output, _) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output.decode()
    engine = create_engine(Settings(database_url=database_url))
    try:
        assert await current_revision(engine) == head_revision()
        async with engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
            held = await conn.scalar(text(HELD_ADVISORY_LOCKS))
            assert await conn.run_sync(_diff) == []
        assert [row[0] for row in versions] == [head_revision()]
        assert held == 0  # every migration released the lock
    finally:
        await engine.dispose()
