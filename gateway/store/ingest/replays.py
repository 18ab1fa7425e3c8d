"""Conflicting replays (SPEC §2): an event ``id`` names one event per UTC day. A record whose
key (id and day) is already stored with other content is quarantined as ``conflicting replay``;
the stored event stays counted. Only a chunk that met stored keys pays for the comparison (one
read of those rows, on PostgreSQL only in the partitions of the chunk's days).

Example:
    >>> same_event((1, 7, "x"), (1, 9, "x"))  # the batch id (second column) aside
    True
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.ingest.events import EventKey, day_number, split_keys
from gateway.store.tables import EVENT_TABLES

Row = tuple[Any, ...]
_BATCH = 1  # the batch id's column: which ingest stored a row is not part of the event
_DAY = 3  # the day's column
_PROBE = 5000  # ids per read: within SQLite's bound on bound parameters


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, dt.datetime):
        # New rows carry the storage form (naive UTC; on SQLite the text SQLAlchemy writes),
        # stored rows are read as aware UTC: compare both as the stored text.
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def row_key(row: Row) -> EventKey:
    """The key of an event row (its day a date, or on SQLite its text)."""
    day = row[_DAY]
    return row[0], day_number(day if isinstance(day, dt.date) else dt.date.fromisoformat(day))


def same_event(stored: Row, new: Row) -> bool:
    """True when ``new`` is the event ``stored`` holds (batch id aside, ``at`` as text)."""
    left = [_plain(v) for i, v in enumerate(stored) if i != _BATCH]
    right = [_plain(v) for i, v in enumerate(new) if i != _BATCH]
    return left == right


async def conflicting_keys(conn: AsyncConnection, kind: str, rows: Iterable[Row]) -> set[EventKey]:
    """The keys of ``rows`` whose stored event of ``kind`` differs from them."""
    table = EVENT_TABLES[kind]
    by_key = {row_key(row): row for row in rows}
    ids, days = split_keys(by_key)
    conflicts: set[EventKey] = set()
    stmt = select(*table.columns).where(
        table.c.id.in_(bindparam("ids", expanding=True)),
        table.c.day.in_(bindparam("days", expanding=True)),
    )
    for start in range(0, len(ids), _PROBE):
        result = await conn.execute(stmt, {"ids": ids[start : start + _PROBE], "days": days})
        for stored in result:
            key = row_key(tuple(stored))
            new = by_key.get(key)
            if new is not None and not same_event(tuple(stored), new):
                conflicts.add(key)
    return conflicts
