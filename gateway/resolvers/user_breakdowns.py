"""User breakdown resolvers (SPEC §4): arguments -> a loader key -> a pure breakdown.

The range is resolved first, so a bad ``timeRange`` answers ``BAD_USER_INPUT`` before any
query. Filters come from :func:`gateway.resolvers.event_metrics.metric_filters`; a null ``basis`` is
CUMULATIVE, as the schema documents.
"""

from __future__ import annotations

from gateway.context import Context
from gateway.domain import EntityRef, Filters, UserBasis
from gateway.loaders.user_breakdowns import UserBreakdownKey
from gateway.metrics.breakdown import Breakdown
from gateway.metrics.cells import scope_of
from gateway.metrics.timerange import TimeRangeSpec
from gateway.metrics.user_breakdowns import UsersBy
from gateway.resolvers.time_range import date_range


async def users_breakdown(
    ctx: Context,
    entity: EntityRef,
    spec: TimeRangeSpec,
    by: UsersBy,
    filters: Filters,
    basis: UserBasis | None,
) -> Breakdown:
    """``usersBySource`` / ``usersByCategory`` of a workspace or target app."""
    span = date_range(ctx, spec)
    key = UserBreakdownKey(scope_of(entity), by, filters, basis or UserBasis.CUMULATIVE, span)
    return await ctx.loaders.user_breakdowns.load(key)
