"""Read API of the rollups for user breakdowns: cells' daily active bitmaps and their users per
source by given days (the cells of scopes come from
:func:`~gateway.store.rollup.read.scope_cells`).

Each function runs one statement for any number of cells (split only beyond
:data:`~gateway.store.rollup.read.MAX_PARAMS` bound parameters), so a request's round trips do
not grow with the number of entities it shows. The bitmaps come back as
:class:`~gateway.metrics.user_breakdowns.CellUsers`, which answer any range inside what was read;
the users by a day per source as :class:`~gateway.metrics.user_breakdowns.SourceUsers`, from
stored counts (no bitmap).

Example (inside a loader):
    >>> cells = await scope_cells(conn, ["app:a1"])                          # doctest: +SKIP
    >>> users = await read_active_users(conn, list(cells.values()), r.previous().start, r.end)
    ...                                                                      # doctest: +SKIP
    >>> len(users[cells[key]].active(r))                                     # doctest: +SKIP
    42
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pyroaring import BitMap
from sqlalchemy import Date, case, cast, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.metrics.portrait import Portrait, portrait_of
from gateway.metrics.retention import DaySets
from gateway.metrics.timerange import DateRange
from gateway.metrics.user_breakdowns import CellUsers, SourceUsers
from gateway.store.rollup.read import MAX_PARAMS, batched, stored_bitmap
from gateway.store.rollup.source_counts import SourceCounts, decode, plus, summed_counts
from gateway.store.rollup_tables import rollup_cells, rollup_days


async def read_active_users(
    conn: AsyncConnection, ids: Sequence[int], start: date, end: date
) -> dict[int, CellUsers]:
    """Each cell's daily active bitmaps of ``[start, end]`` (for the ``ACTIVE`` basis)."""
    found = await read_day_sets(conn, ids, DateRange(start, end), None)
    return {cell: CellUsers(sets.active) for cell, sets in found.items()}


async def read_day_sets(
    conn: AsyncConnection, ids: Sequence[int], span: DateRange, new: DateRange | None
) -> dict[int, DaySets]:
    """Each cell's daily active bitmaps of ``span`` and, when ``new`` is given, its daily new
    bitmaps of those days (retention cohorts: :mod:`~gateway.metrics.retention`)."""
    active: dict[int, dict[date, BitMap]] = {cell: {} for cell in ids}
    firsts: dict[int, dict[date, BitMap]] = {cell: {} for cell in ids}
    d = rollup_days.c
    wanted = null() if new is None else case((d.day.between(new.start, new.end), d.new_bitmap))
    for part in batched(sorted(set(ids))):
        stmt = select(d.cell_id, d.day, d.active_bitmap, wanted).where(
            d.cell_id.in_(part), d.day.between(span.start, span.end)
        )
        for cell, day, raw_active, raw_new in await conn.execute(stmt):
            active[cell][day] = stored_bitmap(raw_active)
            if raw_new is not None:
                firsts[cell][day] = BitMap.deserialize(raw_new)
    return {cell: DaySets(active[cell], firsts[cell]) for cell in ids}


async def read_portrait_days(
    conn: AsyncConnection, ids: Sequence[int], span: DateRange
) -> dict[int, dict[date, tuple[BitMap, Portrait]]]:
    """Each cell's daily active bitmaps of ``span`` with the days' exceptions of each portrait
    dimension (``usersByPlatform`` / ``usersByRegion``: :mod:`gateway.metrics.portrait`)."""
    out: dict[int, dict[date, tuple[BitMap, Portrait]]] = {cell: {} for cell in ids}
    d = rollup_days.c
    for part in batched(sorted(set(ids))):
        stmt = select(d.cell_id, d.day, d.active_bitmap, d.platforms, d.regions).where(
            d.cell_id.in_(part), d.day.between(span.start, span.end), d.active_bitmap.is_not(None)
        )
        for cell, day, raw, *raws in await conn.execute(stmt):
            out[cell][day] = (stored_bitmap(raw), portrait_of(raws))
    return out


async def read_source_counts(
    conn: AsyncConnection, ids: Sequence[int], ends: Sequence[date]
) -> dict[date, dict[int, SourceUsers]]:
    """Each source cell's users by each of ``ends``, per source (``CUMULATIVE`` usersBySource).

    The cell's stored counts (:mod:`~gateway.store.rollup.source_counts`) less those of its
    new users of the days after each end: one ``UNION ALL`` statement (the cell rows have a
    null day) reading the days after the earliest end only.
    """
    wanted = sorted(set(ends))
    if not wanted:
        return {}
    totals: dict[int, tuple[int, SourceCounts]] = {}
    days: dict[int, list[tuple[date, int, SourceCounts]]] = {cell: [] for cell in ids}
    c, d = rollup_cells.c, rollup_days.c
    for part in batched(sorted(set(ids)), MAX_PARAMS // 2):
        cells = select(
            c.id.label("cell_id"), cast(null(), Date).label("day"), c.users.label("users"),
            c.sources.label("counts"),
        ).where(c.id.in_(part))  # fmt: skip
        later = select(d.cell_id, d.day, d.new_users, d.new_sources).where(
            d.cell_id.in_(part), d.day > wanted[0]
        )
        for row in await conn.execute(union_all(cells, later)):
            if row.day is None:
                totals[row.cell_id] = (int(row.users), decode(row.counts))
            else:
                days[row.cell_id].append((row.day, int(row.users), decode(row.counts)))
    out: dict[date, dict[int, SourceUsers]] = {}
    for end in wanted:
        out[end] = {}
        for cell in ids:
            users, counts = totals.get(cell, (0, {}))
            after = [(n, found) for day, n, found in days[cell] if day > end]
            less = summed_counts(found for _, found in after)
            out[end][cell] = SourceUsers(
                users - sum(n for n, _ in after), plus(counts, add={}, less=less)
            )
    return out
