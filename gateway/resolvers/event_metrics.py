"""Event metric resolvers (SPEC §4): arguments -> a range and a cell -> a metric-results query.

The range (or months) is resolved first, so bad input answers ``BAD_USER_INPUT`` before any
query. A value or a series is a :class:`~gateway.loaders.metric_results.MetricQuery` for the
metric-results loaders, which do the cache work and read the cell's history for the misses;
``monthlyActiveUsers`` reads the history of its months directly.

Example:
    >>> value, series = await event_metric(ctx, "activeUsers", cell, spec)   # doctest: +SKIP
    >>> value.value, await series(Granularity.WEEK)                         # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date

from gateway.context import Context
from gateway.domain import DataType, Filters, Granularity, TypeFilter
from gateway.loaders.metric_results import MetricQuery, MonthlyQuery
from gateway.metrics.aggregate import (
    MetricPoint,
    MetricValue,
    MonthValue,
    compare,
    monthly_active_users,
)
from gateway.metrics.aggregate import (
    series as bucket_series,
)
from gateway.metrics.cell_days import CellHistory
from gateway.metrics.cells import CellKey
from gateway.metrics.registry import REGISTRY
from gateway.metrics.timerange import (
    DateRange,
    TimeRangeSpec,
    month_ranges,
    parse_month,
    previous_month_start,
)
from gateway.resolvers.category import check_category
from gateway.resolvers.time_range import date_range

Series = Callable[[Granularity], Awaitable[Sequence[MetricPoint]]]
"""A metric's series at a granularity, computed from what its resolver loaded."""


def metric_filters(
    type_: TypeFilter | None, data_type: DataType | None, category: str | None
) -> Filters:
    """The filters of the ``type`` (null = ALL), ``dataType`` (null = PRODUCTION) and
    ``category`` arguments."""
    return Filters(
        type=type_ or TypeFilter.ALL,
        category=check_category(category),
        data_type=data_type or DataType.PRODUCTION,
    )


async def load_metric(
    ctx: Context, name: str, cell: CellKey | None, span: DateRange
) -> MetricValue:
    """The metric ``name`` over ``span`` of ``cell`` against the previous period (None: the
    filters exclude the entity, every value is 0)."""
    if cell is None:
        return compare(0.0, 0.0)
    return await ctx.loaders.metric_values.load(MetricQuery(name, cell, span))


def _series(ctx: Context, name: str, cell: CellKey | None, span: DateRange) -> Series:
    async def at(granularity: Granularity) -> Sequence[MetricPoint]:
        if cell is None:  # every bucket is 0
            empty = CellHistory(span.previous().start)
            return bucket_series(REGISTRY[name], empty, span, granularity)
        return await ctx.loaders.metric_series.load(MetricQuery(name, cell, span, granularity))

    return at


async def event_metric(
    ctx: Context, name: str, cell: CellKey | None, spec: TimeRangeSpec
) -> tuple[MetricValue, Series]:
    """An event metric field: its value vs. the previous period, and its series function.

    Raises:
        BadUserInputError: ``spec`` is not a valid range.
    """
    span = date_range(ctx, spec)
    return await load_metric(ctx, name, cell, span), _series(ctx, name, cell, span)


def months_of(ctx: Context, first: str, last: str) -> list[DateRange]:
    """The months ``from``..``to`` (``"YYYY-MM"``), the current one clipped to today.

    Raises:
        BadUserInputError: a malformed month, reversed, after this month, or over 24 months.
    """
    start = parse_month(first, argument="from")
    end = parse_month(last, argument="to")
    return month_ranges(start, end, today=ctx.today)


async def monthly_active_users_of(
    ctx: Context, cell: CellKey | None, first: str, last: str
) -> list[MonthValue]:
    """``monthlyActiveUsers``: each month's distinct users vs. the month before."""
    months = tuple(months_of(ctx, first, last))
    if cell is None:  # every month is 0
        return monthly_active_users(CellHistory(previous_month_start(months[0].start)), months)
    return list(await ctx.loaders.monthly_active_users.load(MonthlyQuery(cell, months)))


def month_label(month: date) -> str:
    """``"YYYY-MM"`` of a month's first day."""
    return f"{month:%Y-%m}"
