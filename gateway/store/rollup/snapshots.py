"""Snapshots: one row per completed refresh, and the lock that serializes refreshes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.store.rollup_tables import snapshots

REFRESH_LOCK_KEY = 7_460_002
"""PostgreSQL advisory lock held by a refresh transaction (ingest uses 7_460_001)."""


@dataclass(frozen=True)
class SnapshotInfo:
    """A completed refresh.

    Attributes:
        id: Increases with every refresh; caches key on it.
        taken_at: When the refresh started (naive UTC).
        max_batch_id: Every ingest batch up to this id is folded in.
        events: Events folded in by this refresh (all of them for a full rebuild).
        seconds: How long the refresh took, commit excluded.
        full_rebuild: True when the rollups were rebuilt from all events.
    """

    id: int
    taken_at: datetime
    max_batch_id: int
    events: int
    seconds: float
    full_rebuild: bool


def _info(row: Row[tuple[object, ...]]) -> SnapshotInfo:
    return SnapshotInfo(
        id=row.id,
        taken_at=row.taken_at,
        max_batch_id=row.max_batch_id,
        events=row.events,
        seconds=row.seconds,
        full_rebuild=bool(row.full_rebuild),
    )


async def read_latest_snapshot(
    conn: AsyncConnection, *, before: int | None = None
) -> SnapshotInfo | None:
    """The newest snapshot visible to ``conn`` (with an id below ``before``, if given)."""
    stmt = select(snapshots).order_by(snapshots.c.id.desc()).limit(1)
    if before is not None:
        stmt = stmt.where(snapshots.c.id < before)
    row = (await conn.execute(stmt)).first()
    return None if row is None else _info(row)


async def latest_snapshot(engine: AsyncEngine) -> SnapshotInfo | None:
    """The newest completed snapshot, or None before the first refresh."""
    async with engine.connect() as conn:
        return await read_latest_snapshot(conn)


async def open_snapshot(conn: AsyncConnection, taken_at: datetime) -> int:
    """Take the refresh lock and insert this refresh's snapshot row; returns its id.

    PostgreSQL: a transaction-scoped advisory lock (released at commit or rollback). SQLite: this
    insert is the transaction's first statement, so it takes the database's write lock before
    anything is read (``BEGIN IMMEDIATE`` semantics); a second refresh waits here.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(select(func.pg_advisory_xact_lock(REFRESH_LOCK_KEY)))
    values = {"taken_at": taken_at, "max_batch_id": 0, "events": 0, "seconds": 0.0}
    result = await conn.execute(insert(snapshots).values(**values, full_rebuild=False))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def close_snapshot(conn: AsyncConnection, info: SnapshotInfo) -> None:
    """Fill in the snapshot row with what the refresh did (committed with the rollups)."""
    await conn.execute(
        update(snapshots)
        .where(snapshots.c.id == info.id)
        .values(
            max_batch_id=info.max_batch_id,
            events=info.events,
            seconds=info.seconds,
            full_rebuild=info.full_rebuild,
        )
    )
