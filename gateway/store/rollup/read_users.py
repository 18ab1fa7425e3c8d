"""Read API of the rollups for user breakdowns: the cells of scopes, and cells' user bitmaps.

Each function runs one statement for any number of scopes or cells (split only beyond
:data:`~gateway.store.rollup.read.MAX_PARAMS` bound parameters), so a request's round trips do
not grow with the number of entities it shows. The bitmaps come back as
:class:`~gateway.metrics.user_breakdowns.CellUsers`, which answer any range inside what was read.

Example (inside a loader):
    >>> cells = await scope_cells(conn, ["app:a1"])                          # doctest: +SKIP
    >>> users = await read_active_users(conn, list(cells.values()), r.previous().start, r.end)
    ...                                                                      # doctest: +SKIP
    >>> len(users[cells[key]].active(r))                                     # doctest: +SKIP
    42
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from pyroaring import BitMap
from sqlalchemy import Date, cast, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.metrics.cells import CellKey
from gateway.metrics.user_breakdowns import CellUsers
from gateway.store.rollup.read import MAX_PARAMS, batched
from gateway.store.rollup_tables import rollup_cells, rollup_days


async def scope_cells(conn: AsyncConnection, scopes: Iterable[str]) -> dict[CellKey, int]:
    """Every cell of ``scopes`` (each filter combination with events), with its id."""
    found: dict[CellKey, int] = {}
    c = rollup_cells.c
    for part in batched(sorted(set(scopes))):
        rows = await conn.execute(
            select(c.id, c.scope, c.data_type, c.mp_type, c.category).where(c.scope.in_(part))
        )
        for row in rows:
            found[CellKey(row.scope, row.data_type, row.mp_type, row.category)] = row.id
    return found


def _bitmap(raw: bytes | None) -> BitMap:
    return BitMap() if raw is None else BitMap.deserialize(raw)


async def read_active_users(
    conn: AsyncConnection, ids: Sequence[int], start: date, end: date
) -> dict[int, CellUsers]:
    """Each cell's daily active bitmaps of ``[start, end]`` (for the ``ACTIVE`` basis)."""
    days: dict[int, dict[date, BitMap]] = {cell: {} for cell in ids}
    d = rollup_days.c
    for part in batched(sorted(set(ids))):
        stmt = select(d.cell_id, d.day, d.active_bitmap).where(
            d.cell_id.in_(part), d.day.between(start, end)
        )
        for row in await conn.execute(stmt):
            days[row.cell_id][row.day] = _bitmap(row.active_bitmap)
    return {cell: CellUsers(found) for cell, found in days.items()}


async def read_cumulative_users(
    conn: AsyncConnection, ids: Sequence[int], after: date
) -> dict[int, CellUsers]:
    """Each cell's lifetime (base and recent part) and its daily new bitmaps after ``after``
    (``CUMULATIVE``).

    The users by any day ``D >= after`` are the lifetime bitmap minus the new bitmaps of the days
    after ``D`` (:meth:`CellUsers.by_end`); ranges end near today, so few days are read. One
    ``UNION ALL`` statement: lifetime rows have a null day.
    """
    lifetimes: dict[int, BitMap] = {}
    days: dict[int, dict[date, BitMap]] = {cell: {} for cell in ids}
    c, d = rollup_cells.c, rollup_days.c
    # Two IN lists per statement: half the usual slice keeps the bound parameters in limits.
    for part in batched(sorted(set(ids)), MAX_PARAMS // 2):
        # The lifetime is its base and its recent part: two rows with a null day.
        base, recent = (
            select(
                c.id.label("cell_id"), cast(null(), Date).label("day"), column.label("raw")
            ).where(c.id.in_(part))
            for column in (c.lifetime_bitmap, c.recent_bitmap)
        )
        later = select(d.cell_id, d.day, d.new_bitmap.label("raw")).where(
            d.cell_id.in_(part), d.day > after
        )
        for row in await conn.execute(union_all(base, recent, later)):
            if row.day is None:
                users, known = _bitmap(row.raw), lifetimes.get(row.cell_id)
                if known is not None:  # the smaller into the larger, in place: a base holds
                    users, known = (users, known) if len(users) >= len(known) else (known, users)
                    users |= known  # megabytes and is never copied
                lifetimes[row.cell_id] = users
            else:
                days[row.cell_id][row.day] = _bitmap(row.raw)
    return {cell: CellUsers(days[cell], lifetimes.get(cell, BitMap())) for cell in ids}
