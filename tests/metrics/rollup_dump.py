"""Reading the rollup tables back in the brute-force format (test helper).

:func:`dump_rollups` also checks what every row and cell counts of its bitmaps: users, and on
the cells ``usersBySource`` reads, users per source under the current ``rollup_user_sources``
(:mod:`gateway.store.rollup.source_counts`), so every test comparing the rollups with a brute
force checks those counts too.
"""

from __future__ import annotations

from pyroaring import BitMap
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.metrics.cells import CellKey
from gateway.store.rollup.source_counts import decode, is_source_cell
from gateway.store.rollup.user_sources import read_user_sources
from gateway.store.rollup_tables import rollup_cells, rollup_days
from tests.metrics.bruteforce import Expected


def _bitmap(raw: bytes | None) -> BitMap:
    return BitMap.deserialize(raw) if raw else BitMap()


def _per_source(users: BitMap, sources: dict[str, BitMap]) -> dict[str, int]:
    counts = {name: users.intersection_cardinality(bitmap) for name, bitmap in sources.items()}
    return {name: count for name, count in counts.items() if count}


async def _check_cells(conn: AsyncConnection, sources: dict[str, BitMap]) -> None:
    """Each cell's ``users`` and (source cells) ``sources`` count its lifetime."""
    for row in await conn.execute(select(rollup_cells)):
        lifetime = _bitmap(row.lifetime_bitmap) | _bitmap(row.recent_bitmap)
        assert row.users == len(lifetime), row.scope
        key = CellKey(row.scope, row.data_type, row.mp_type, row.category)
        want = _per_source(lifetime, sources) if is_source_cell(key) else {}
        assert decode(row.sources) == want, key


async def dump_rollups(engine: AsyncEngine) -> Expected:
    """The rollup tables as (cell, day) -> (sums, active users, new users), checking counts."""
    c, d = rollup_cells.c, rollup_days.c
    stmt = select(c.scope, c.data_type, c.mp_type, c.category, rollup_days).join(
        rollup_days, d.cell_id == c.id
    )
    out: Expected = {}
    async with engine.connect() as conn:
        sources = await read_user_sources(conn)
        await _check_cells(conn, sources)
        for row in await conn.execute(stmt):
            active, new = _bitmap(row.active_bitmap), _bitmap(row.new_bitmap)
            assert (row.active_users, row.new_users) == (len(active), len(new))
            key_of = CellKey(row.scope, row.data_type, row.mp_type, row.category)
            counted = _per_source(new, sources) if is_source_cell(key_of) else {}
            assert decode(row.new_sources) == counted, (key_of, row.day)
            sums = (row.launches, row.page_views, row.duration_ms, row.valid_impressions)
            key = ((row.scope, row.data_type, row.mp_type, row.category), row.day)
            out[key] = ((*sums, row.revenue_micros), frozenset(active), frozenset(new))
    return out


async def lifetimes(engine: AsyncEngine) -> dict[int, tuple[BitMap, BitMap]]:
    """Cell -> (stored lifetime bitmap, union of its days' new bitmaps); they must be equal."""
    out: dict[int, tuple[BitMap, BitMap]] = {}
    async with engine.connect() as conn:
        c = rollup_cells.c
        for row in await conn.execute(select(c.id, c.lifetime_bitmap, c.recent_bitmap)):
            out[row.id] = (_bitmap(row.lifetime_bitmap) | _bitmap(row.recent_bitmap), BitMap())
        for row in await conn.execute(select(rollup_days.c.cell_id, rollup_days.c.new_bitmap)):
            out[row.cell_id][1].update(_bitmap(row.new_bitmap))
    return out
