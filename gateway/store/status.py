"""What the store holds, for an operator: raw events, the latest snapshot, the quarantine, the
rollups' size on disk (``gateway status``), and what a snapshot folded in
(:func:`snapshot_intake`: the worker's ingest rates).

Example:
    >>> status = await store_status(engine)            # doctest: +SKIP
    >>> status.raw_events.oldest_day, status.snapshot_id  # doctest: +SKIP
    (datetime.date(2026, 8, 25), 412)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.store.db import table_bytes
from gateway.store.partitions import day_range
from gateway.store.rollup.retention import horizon
from gateway.store.rollup.snapshots import read_latest_snapshot
from gateway.store.rollup_tables import CELL_TABLES, rollup_cells
from gateway.store.tables import EVENT_TABLES, ingest_batches, quarantine


@dataclass(frozen=True, slots=True)
class RawEvents:
    """The raw event log: how many events, the first and last UTC day held, by kind, and the
    first day a retention cut kept (None: nothing was ever dropped)."""

    count: int
    oldest_day: date | None
    newest_day: date | None
    by_kind: dict[str, int]
    kept_from: date | None


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """The store at a glance (see the module docstring)."""

    raw_events: RawEvents
    snapshot_id: int | None
    snapshot_taken_at: datetime | None
    snapshot_max_batch_id: int | None
    quarantine_count: int
    rollup_bytes: int
    rollup_cells: int

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` form (camelCase keys, ISO dates)."""
        raw = self.raw_events
        return {
            "rawEvents": {
                "count": raw.count,
                "oldestDay": _iso(raw.oldest_day),
                "newestDay": _iso(raw.newest_day),
                "byKind": raw.by_kind,
                "keptFrom": _iso(raw.kept_from),
            },
            "snapshot": {
                "id": self.snapshot_id,
                "takenAt": _iso(self.snapshot_taken_at),
                "maxBatchId": self.snapshot_max_batch_id,
            },
            "quarantine": {"count": self.quarantine_count},
            "rollups": {"bytes": self.rollup_bytes, "cells": self.rollup_cells},
        }


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


async def _raw_events(conn: AsyncConnection) -> RawEvents:
    by_kind: dict[str, int] = {}
    for kind, table in EVENT_TABLES.items():
        count = await conn.execute(select(func.count()).select_from(table))
        by_kind[kind] = int(count.scalar() or 0)
    oldest, newest = await day_range(conn)
    return RawEvents(
        count=sum(by_kind.values()),
        oldest_day=oldest,
        newest_day=newest,
        by_kind=by_kind,
        kept_from=await horizon(conn),
    )


async def store_status(engine: AsyncEngine) -> StoreStatus:
    """Read the store's status in one read-only transaction."""
    async with engine.connect() as conn:
        snapshot = await read_latest_snapshot(conn)
        quarantined = await conn.execute(select(func.count()).select_from(quarantine))
        cells = await conn.execute(select(func.count()).select_from(rollup_cells))
        return StoreStatus(
            raw_events=await _raw_events(conn),
            snapshot_id=None if snapshot is None else snapshot.id,
            snapshot_taken_at=None if snapshot is None else snapshot.taken_at,
            snapshot_max_batch_id=None if snapshot is None else snapshot.max_batch_id,
            quarantine_count=int(quarantined.scalar() or 0),
            rollup_bytes=await table_bytes(conn, CELL_TABLES),
            rollup_cells=int(cells.scalar() or 0),
        )


@dataclass(frozen=True, slots=True)
class Intake:
    """The records of the ingest batches one snapshot folded in, by what became of them,
    whichever process ingested them (``POST /v1/events`` on any host, ``gateway ingest``)."""

    batches: int
    stored: int
    duplicates: int
    quarantined: int


async def snapshot_intake(engine: AsyncEngine, snapshot_id: int, max_batch_id: int) -> Intake:
    """What the batches after the previous snapshot's ``max_batch_id``, up to
    ``max_batch_id``, held (snapshot ``snapshot_id`` folded exactly those): one statement
    over the batches' primary key, whatever the length of history."""
    async with engine.connect() as conn:
        previous = await read_latest_snapshot(conn, before=snapshot_id)
        after = 0 if previous is None else previous.max_batch_id
        c = ingest_batches.c
        totals = select(
            func.count(),
            func.coalesce(func.sum(c.stored), 0),
            func.coalesce(func.sum(c.duplicates), 0),
            func.coalesce(func.sum(c.quarantined), 0),
        ).where(c.id > after, c.id <= max_batch_id)
        batches, stored, duplicates, quarantined = (await conn.execute(totals)).one()
    return Intake(int(batches), int(stored), int(duplicates), int(quarantined))
