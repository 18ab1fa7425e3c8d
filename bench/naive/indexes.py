"""Optional indexes that a straightforward implementation would add for its own queries.

The gateway needs no index on the event tables beyond their primary keys (its reads go to the
rollups, and every index slows bulk ingest), so by default the naive implementation runs with
what exists: sequential scans. ``python -m bench details --naive-indexes`` gives it covering
indexes on ``(target_app_id, at)`` for the run (created before, dropped after; not timed), to
show the ratio against a naive implementation that was tuned a little.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Column, Connection, DateTime, Index, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncEngine

_metadata = MetaData()  # private: the gateway's own metadata must not learn these indexes


def _index(table: str) -> Index:
    events = Table(
        table,
        _metadata,
        Column("target_app_id", String),
        Column("at", DateTime()),
        Column("uid", Integer),
        Column("mini_program_id", String),
        Column("data_type", String),
    )
    return Index(
        f"bench_naive_{table}_app_at",
        events.c.target_app_id,
        events.c.at,
        postgresql_include=["data_type", "uid", "mini_program_id"],
    )


INDEXES = (_index("launches"), _index("page_views"))


def _create(sync: Connection) -> None:
    for index in INDEXES:
        index.create(sync, checkfirst=True)


def _drop(sync: Connection) -> None:
    for index in INDEXES:
        index.drop(sync, checkfirst=True)


@asynccontextmanager
async def naive_indexes(engine: AsyncEngine) -> AsyncIterator[None]:
    """Create the indexes (and ANALYZE) for the block, then drop them."""
    started = time.perf_counter()
    async with engine.begin() as conn:
        await conn.run_sync(_create)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql("ANALYZE launches, page_views")
    print(f"  naive indexes created in {time.perf_counter() - started:.1f}s", flush=True)
    try:
        yield
    finally:
        async with engine.begin() as conn:
            await conn.run_sync(_drop)
