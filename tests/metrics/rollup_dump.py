"""Reading the rollup tables back in the brute-force format (test helper)."""

from __future__ import annotations

from pyroaring import BitMap
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.rollup_tables import rollup_cells, rollup_days
from tests.metrics.bruteforce import Expected


def _bitmap(raw: bytes | None) -> BitMap:
    return BitMap.deserialize(raw) if raw else BitMap()


async def dump_rollups(engine: AsyncEngine) -> Expected:
    """The rollup tables as (cell, day) -> (sums, active users, new users), checking counts."""
    c, d = rollup_cells.c, rollup_days.c
    stmt = select(c.scope, c.data_type, c.mp_type, c.category, rollup_days).join(
        rollup_days, d.cell_id == c.id
    )
    out: Expected = {}
    async with engine.connect() as conn:
        for row in await conn.execute(stmt):
            active, new = _bitmap(row.active_bitmap), _bitmap(row.new_bitmap)
            assert (row.active_users, row.new_users) == (len(active), len(new))
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
