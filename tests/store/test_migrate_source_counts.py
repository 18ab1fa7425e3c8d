"""Migration 0012 counts every cell's users, and per source on the cells ``usersBySource``
reads, from the stored bitmaps: a database whose rollups predate the counts gets exactly the
counts a refresh writes, and answers the same."""

from __future__ import annotations

from datetime import datetime, timedelta

from alembic import command
from sqlalchemy import Connection, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.migrate import alembic_config, current_revision, head_revision, upgrade
from gateway.store.rollup import refresh
from gateway.store.rollup_tables import rollup_cells, rollup_days
from tests.metrics import bruteforce as bf
from tests.metrics.engine_support import (
    BASE,
    USERS,
    Event,
    insert_batch,
    insert_catalog,
    set_sources,
)
from tests.metrics.rollup_dump import dump_rollups
from tests.store.rollup.test_catalog_changes import MPS

APP_OF = {"m0": "a0", "m1": "a1", "m2": "a2"}


def _events() -> list[Event]:
    start = datetime.combine(BASE, datetime.min.time())
    return [
        Event(f"e{n}", "launch", APP_OF[f"m{n % 3}"], f"m{n % 3}", 1 + n * 7 % USERS,
              "PRODUCTION", start + timedelta(hours=5 * n))
        for n in range(80)
    ]  # fmt: skip


def _downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(alembic_config(connection), revision)


async def _counts(engine: AsyncEngine) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    c, d = rollup_cells.c, rollup_days.c
    async with engine.connect() as conn:
        cells = {
            tuple(r)
            for r in await conn.execute(
                select(c.scope, c.data_type, c.mp_type, c.category, c.users, c.sources)
            )
        }
        days = {tuple(r) for r in await conn.execute(select(d.cell_id, d.day, d.new_sources))}
    return cells, days  # fmt: skip


async def test_a_populated_database_gets_the_counts_a_refresh_writes(fresh: AsyncEngine) -> None:
    events = _events()
    await upgrade(fresh)
    await insert_catalog(fresh, MPS)
    await insert_batch(fresh, events[:50])
    await refresh(fresh)
    batch = await insert_batch(fresh, events[50:])
    await set_sources(fresh, {1: "ads", 2: "referral"}, batch)  # known users move
    await refresh(fresh)
    written = await _counts(fresh)
    assert any(sources for *_, sources in written[0]), "no source counts to migrate"

    async with fresh.begin() as conn:
        await conn.run_sync(_downgrade, "0011")
        columns = await conn.run_sync(
            lambda sync: {col["name"] for col in inspect(sync).get_columns("rollup_cells")}
        )
    assert not columns & {"users", "sources"}

    await upgrade(fresh)
    assert await current_revision(fresh) == head_revision()
    assert await _counts(fresh) == written
    assert await dump_rollups(fresh) == bf.expected_rollups(events, MPS)
