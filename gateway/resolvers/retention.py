"""The ``retention`` resolver (SPEC §4 "Audience"): arguments -> the days to read -> a table.

The cohort range and ``periods`` are checked first, so bad input answers ``BAD_USER_INPUT``
before any query. A cell the filters exclude (a mini program of another type or category) has
cohorts of size 0.
"""

from __future__ import annotations

from gateway.context import Context
from gateway.domain import Granularity, RetentionCohortKind
from gateway.errors import BadUserInputError
from gateway.loaders.retention import DaySetsKey
from gateway.metrics.cells import CellKey
from gateway.metrics.retention import (
    MAX_PERIODS,
    DaySets,
    RetentionTable,
    retention,
    span_needed,
)
from gateway.metrics.timerange import TimeRangeSpec
from gateway.resolvers.time_range import date_range


def checked_periods(periods: int | None, granularity: Granularity) -> int:
    """``periods`` (null: 7), within 1..:data:`MAX_PERIODS` of ``granularity``.

    Raises:
        BadUserInputError: out of bounds (the message gives them).
    """
    value = 7 if periods is None else periods
    most = MAX_PERIODS[granularity]
    if not 1 <= value <= most:
        raise BadUserInputError(
            f"periods must be between 1 and {most} for {granularity.value} retention, got {value}"
        )
    return value


async def retention_of(
    ctx: Context,
    cell: CellKey | None,
    spec: TimeRangeSpec,
    granularity: Granularity | None,
    periods: int | None,
    kind: RetentionCohortKind | None,
) -> RetentionTable:
    """The retention table of ``cell`` (None: the filters exclude the entity)."""
    granularity = granularity or Granularity.DAY
    kind = kind or RetentionCohortKind.NEW_USERS
    count = checked_periods(periods, granularity)
    cohorts = date_range(ctx, spec)
    sets = DaySets()
    if cell is not None:
        span = span_needed(cohorts, granularity, count, ctx.today)
        new = cohorts if kind is RetentionCohortKind.NEW_USERS else None
        sets = await ctx.loaders.day_sets.load(DaySetsKey(cell, span, new))
    return retention(sets, cohorts, granularity, count, kind, today=ctx.today)
