"""Reading the events of a batch range as column arrays, chunk by chunk.

Only integer and short text columns are selected; each chunk is turned into numpy arrays keyed by
the catalog's local combo numbers, ready for the vectorized fold.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.rollup.catalog import Catalog
from gateway.store.tables import EVENT_TABLES

logger = logging.getLogger(__name__)

CHUNK_ROWS = 200_000
"""Events converted and folded at a time (bounds the memory of the vectorized fold)."""

Int64s = npt.NDArray[np.int64]


@dataclass
class EventChunk:
    """Events of one kind as parallel arrays.

    Attributes:
        kind: ``launch``, ``pageView`` or ``adImpression``.
        combo: Local combo number of each event (see :class:`Catalog`).
        day: UTC day of each event, as a proleptic ordinal (``date.toordinal()``).
        uid: Dense user id of each event.
        values: Additive columns ``launches, page_views, duration_ms, valid_impressions,
            revenue_micros`` contributed by each event, shape (n, 5).
    """

    kind: str
    combo: Int64s
    day: Int64s
    uid: Int64s
    values: Int64s


def _statement(kind: str, after: int, upto: int) -> Select[tuple[object, ...]]:
    table = EVENT_TABLES[kind]
    columns = [table.c.target_app_id, table.c.mini_program_id, table.c.data_type]
    columns += [table.c.uid, table.c.at]
    if kind == "pageView":
        columns.append(table.c.duration_ms)
    elif kind == "adImpression":
        columns += [table.c.valid, table.c.revenue_micros]
    return select(*columns).where(table.c.batch_id > after, table.c.batch_id <= upto)


def _values(kind: str, rows: list[tuple[object, ...]]) -> Int64s:
    values = np.zeros((len(rows), 5), dtype=np.int64)
    if kind == "launch":
        values[:, 0] = 1
    elif kind == "pageView":
        values[:, 1] = 1
        values[:, 2] = np.array([row[5] for row in rows], dtype=np.int64)
    else:
        valid = np.array([bool(row[5]) for row in rows], dtype=np.int64)
        values[:, 3] = valid
        # Only valid impressions earn revenue (SPEC §4: "sum of revenue of those valid ...").
        values[:, 4] = np.array([row[6] for row in rows], dtype=np.int64) * valid
    return values


def _chunk(kind: str, rows: list[tuple[object, ...]], catalog: Catalog) -> EventChunk:
    combo = np.array(
        [catalog.combo(str(r[0]), str(r[1]), getattr(r[2], "name", str(r[2]))) for r in rows],
        dtype=np.int64,
    )
    day = np.array([r[4].toordinal() for r in rows], dtype=np.int64)  # type: ignore[attr-defined]
    uid = np.array([r[3] for r in rows], dtype=np.int64)
    chunk = EventChunk(kind, combo, day, uid, _values(kind, rows))
    known = combo >= 0
    if not known.all():
        # Ingestion validates references, so this means a catalog row was removed by hand.
        logger.warning("%d %s events name an unknown app or mini program", (~known).sum(), kind)
        chunk = EventChunk(kind, combo[known], day[known], uid[known], chunk.values[known])
    return chunk


async def event_chunks(
    conn: AsyncConnection, catalog: Catalog, *, after: int, upto: int
) -> AsyncIterator[EventChunk]:
    """Yield the events with ``after < batch_id <= upto`` of every kind, chunk by chunk."""
    for kind in EVENT_TABLES:
        result = await conn.stream(_statement(kind, after, upto))
        async for part in result.partitions(CHUNK_ROWS):
            yield _chunk(kind, [tuple(row) for row in part], catalog)
