"""Conflicting replays (SPEC §2): an event ``id`` names one event. A record whose id is already
stored with other content is quarantined as ``conflicting replay``; the stored event stays
counted. Only a chunk that met stored ids pays for the comparison (one read of those rows).

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

from gateway.store.tables import EVENT_TABLES

Row = tuple[Any, ...]
_BATCH = 1  # the batch id's column: which ingest stored a row is not part of the event
_PROBE = 5000  # ids per read: within SQLite's bound on bound parameters


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, dt.datetime):
        # New rows carry the storage form (naive UTC; on SQLite the text SQLAlchemy writes),
        # stored rows are read as aware UTC: compare both as the stored text.
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def same_event(stored: Row, new: Row) -> bool:
    """True when ``new`` is the event ``stored`` holds (batch id aside, ``at`` as text)."""
    left = [_plain(v) for i, v in enumerate(stored) if i != _BATCH]
    right = [_plain(v) for i, v in enumerate(new) if i != _BATCH]
    return left == right


async def conflicting_ids(conn: AsyncConnection, kind: str, rows: Iterable[Row]) -> set[str]:
    """The ids of ``rows`` whose stored event of ``kind`` differs from them."""
    table = EVENT_TABLES[kind]
    by_id = {row[0]: row for row in rows}
    ids = list(by_id)
    conflicts: set[str] = set()
    stmt = select(*table.columns).where(table.c.id.in_(bindparam("ids", expanding=True)))
    for start in range(0, len(ids), _PROBE):
        result = await conn.execute(stmt, {"ids": ids[start : start + _PROBE]})
        for stored in result:
            if not same_event(tuple(stored), by_id[stored[0]]):
                conflicts.add(stored[0])
    return conflicts
