"""Raw events as a bounded log: drop the days older than the retained window (SPEC §2).

Rollups answer every metric, so raw events are kept only for replays, late events and rebuilds.
:func:`apply_retention` records the first retained day as the horizon
(:data:`~gateway.store.rollup_tables.raw_event_horizon`), then drops the raw events dated before
it that the latest snapshot already folded in (a batch not refreshed yet is never lost), a whole
UTC day at a time (:func:`~gateway.store.partitions.drop_days`: PostgreSQL drops the day's
partitions, SQLite deletes by day). From then on a full rebuild derives every coarse cell from the
fine cells, which keep the dropped days for ever. Ingestion quarantines an event dated before the
window as ``too old``. The horizon is recorded first, so a crash in between leaves days that the
next cut drops, never a rebuild that would read a partly dropped log.

Example:
    >>> await apply_retention(engine, days=400)   # doctest: +SKIP
    Retention(kept_from=datetime.date(2025, 10, 30), dropped=1203)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.store.ingest.events import retained_from
from gateway.store.partitions import drop_days
from gateway.store.rollup.snapshots import read_latest_snapshot
from gateway.store.rollup_tables import raw_event_horizon


@dataclass(frozen=True, slots=True)
class Retention:
    """What a retention cut did: the first day kept and how many raw events it dropped."""

    kept_from: date
    dropped: int


async def horizon(conn: AsyncConnection) -> date | None:
    """The first day whose raw events are kept, or None when no day was ever dropped."""
    found: date | None = (await conn.execute(select(raw_event_horizon.c.kept_from))).scalar()
    return found


async def apply_retention(
    engine: AsyncEngine, *, days: int, now: datetime | None = None
) -> Retention | None:
    """Drop the raw events older than ``days`` UTC days that a snapshot folded in (None when
    ``days`` is 0: raw events are kept for ever)."""
    first = retained_from(now or datetime.now(UTC), days)
    if first is None:
        return None
    async with engine.begin() as conn:
        current = await horizon(conn)
        if current == first.date():  # cut today already: the next day moves it
            return Retention(first.date(), 0)
        snapshot = await read_latest_snapshot(conn)
        folded = 0 if snapshot is None else snapshot.max_batch_id
        await _record(conn, current, first.date())
    dropped = await drop_days(engine, first.date(), folded=folded)
    return Retention(first.date(), dropped)


async def _record(conn: AsyncConnection, current: date | None, kept_from: date) -> None:
    """Move the horizon from ``current`` (None: none yet) to ``kept_from``, never back."""
    if current is None:
        await conn.execute(insert(raw_event_horizon).values(id=1, kept_from=kept_from))
    elif kept_from > current:
        await conn.execute(update(raw_event_horizon).values(kept_from=kept_from))
