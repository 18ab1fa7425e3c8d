"""The portrait resolvers (SPEC §4 "Audience"): ``usersByPlatform`` and ``usersByRegion``.

The range is resolved first, so a bad ``timeRange`` answers ``BAD_USER_INPUT`` before any query.
A cell the filters exclude (a mini program of another type or category) has no users.
"""

from __future__ import annotations

from gateway.context import Context
from gateway.loaders.portrait import PortraitKey
from gateway.metrics.breakdown import Breakdown, ShareBase, breakdown
from gateway.metrics.cells import CellKey
from gateway.metrics.timerange import TimeRangeSpec
from gateway.resolvers.time_range import date_range


async def portrait_of(
    ctx: Context, cell: CellKey | None, spec: TimeRangeSpec, dimension: str
) -> Breakdown:
    """Users of ``cell`` (None: the filters exclude the entity) by ``dimension`` (``platform``
    or ``region``) over the range and its previous period."""
    span = date_range(ctx, spec)
    if cell is None:
        return breakdown({}, {}, share_base=ShareBase.SUM_OF_COUNTS)
    return await ctx.loaders.portraits.load(PortraitKey(cell, dimension, span))
