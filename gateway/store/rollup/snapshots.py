"""Snapshots: one row per completed refresh, and the lock that serializes refreshes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.store.rollup_tables import snapshots

REFRESH_LOCK_KEY = 7_460_002
"""PostgreSQL advisory lock held by a refresh transaction (ingest uses 7_460_001)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A completed refresh: the one value every layer passes around for "the snapshot".

    Example (refreshes every 600 s, cache entries kept 30 s past the next one):
        >>> from datetime import UTC
        >>> taken = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        >>> snap = Snapshot(id=7, taken_at=taken)
        >>> snap.next_due(600.0).isoformat()
        '2026-01-01T12:10:00+00:00'
        >>> snap.entry_ttl(600.0, 30.0, now=taken + timedelta(seconds=100))
        530.0
        >>> NO_SNAPSHOT.entry_ttl(600.0, 30.0, now=taken)
        30.0

    Attributes:
        id: Increases with every refresh; caches key on it. 0 before the first refresh.
        taken_at: When the refresh started (aware UTC); None before the first refresh.
        max_batch_id: Every ingest batch up to this id is folded in.
        events: Events folded in by this refresh (all of them for a full rebuild).
        seconds: How long the refresh took, commit excluded.
        full_rebuild: True when the rollups were rebuilt from all events.
    """

    id: int
    taken_at: datetime | None
    max_batch_id: int = 0
    events: int = 0
    seconds: float = 0.0
    full_rebuild: bool = False

    def next_due(self, refresh_interval: float) -> datetime | None:
        """When the next snapshot is due: ``taken_at`` plus ``refresh_interval`` seconds
        (None before the first refresh)."""
        if self.taken_at is None:
            return None
        return self.taken_at + timedelta(seconds=refresh_interval)

    def entry_ttl(self, refresh_interval: float, grace_seconds: float, now: datetime) -> float:
        """Seconds a cache entry computed from this snapshot lives, from ``now`` (aware): until
        the next snapshot is due (0 when it is overdue or none was taken), plus the grace."""
        due = self.next_due(refresh_interval)
        until_due = 0.0 if due is None else max(0.0, (due - now).total_seconds())
        return until_due + grace_seconds


NO_SNAPSHOT = Snapshot(id=0, taken_at=None)
"""What readers see before the first refresh."""


def _snapshot(row: Row[tuple[object, ...]]) -> Snapshot:
    return Snapshot(
        id=row.id,
        taken_at=row.taken_at,
        max_batch_id=row.max_batch_id,
        events=row.events,
        seconds=row.seconds,
        full_rebuild=bool(row.full_rebuild),
    )


async def read_latest_snapshot(
    conn: AsyncConnection, *, before: int | None = None
) -> Snapshot | None:
    """The newest snapshot visible to ``conn`` (with an id below ``before``, if given)."""
    stmt = select(snapshots).order_by(snapshots.c.id.desc()).limit(1)
    if before is not None:
        stmt = stmt.where(snapshots.c.id < before)
    row = (await conn.execute(stmt)).first()
    return None if row is None else _snapshot(row)


async def latest_snapshot(engine: AsyncEngine) -> Snapshot | None:
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


async def close_snapshot(conn: AsyncConnection, snapshot: Snapshot) -> None:
    """Fill in the snapshot row with what the refresh did (committed with the rollups)."""
    await conn.execute(
        update(snapshots)
        .where(snapshots.c.id == snapshot.id)
        .values(
            max_batch_id=snapshot.max_batch_id,
            events=snapshot.events,
            seconds=snapshot.seconds,
            full_rebuild=snapshot.full_rebuild,
        )
    )
