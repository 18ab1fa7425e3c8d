"""Event metric resolvers (SPEC §4): arguments -> a range and a cell -> the history loader.

The range (or months) is resolved first, so bad input answers ``BAD_USER_INPUT`` before any
query. A metric loads its cell's days from the previous period's first day to R's last day
(with the daily user bitmaps only when a distinct count spans more than one day); the value,
the previous value and every series are computed from that one load.

Example:
    >>> value, series = await event_metric(ctx, "activeUsers", cell, spec)   # doctest: +SKIP
    >>> value.value, await series(Granularity.WEEK)                         # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, timedelta

from gateway.context import Context
from gateway.domain import DataType, Filters, Granularity, TypeFilter
from gateway.loaders.cell_history import HistoryKey
from gateway.loaders.metric_cache import (
    decode_points,
    decode_value,
    encode_points,
    encode_value,
)
from gateway.metrics.aggregate import (
    MetricPoint,
    MetricValue,
    MonthValue,
    compare,
    metric_value,
    monthly_active_users,
)
from gateway.metrics.aggregate import (
    series as bucket_series,
)
from gateway.metrics.cell_days import CellHistory
from gateway.metrics.cells import CellKey
from gateway.metrics.registry import REGISTRY, MetricDefinition
from gateway.metrics.timerange import DateRange, TimeRangeSpec, month_ranges, parse_month
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


def needs_bitmaps(definition: MetricDefinition, span: DateRange) -> bool:
    """True when the metric over ``span`` (and its previous period, and any bucket of a
    series) needs the daily user bitmaps: a distinct count over more than one day."""
    return definition.needs_bitmaps and span.days > 1


def history_key(cell: CellKey, name: str, span: DateRange) -> HistoryKey:
    """The history a metric over ``span`` needs: its previous period's first day to R's end."""
    bitmaps = needs_bitmaps(REGISTRY[name], span)
    return HistoryKey(cell, span.previous().start, span.end, bitmaps)


async def load_metric(
    ctx: Context, name: str, cell: CellKey | None, span: DateRange
) -> LoadedMetric:
    """The metric ``name`` over ``span`` of ``cell`` (None: the filters exclude it -> zeros).

    The value comes from the metric results cache when this snapshot computed it already;
    otherwise from the cell's history, and is then cached.
    """
    if cell is None:
        zeros = compare(0.0, 0.0)
        return LoadedMetric(ctx, name, None, span, zeros, CellHistory(span.previous().start))
    cache = ctx.loaders.metric_cache
    key = cache.key(name, cell, span)
    cached = await cache.get(key)
    if cached is not None:
        return LoadedMetric(ctx, name, cell, span, decode_value(cached), None, key)
    history = await ctx.loaders.cell_history.load(history_key(cell, name, span))
    value = metric_value(name, history, span, None)
    cache.put(key, encode_value(value))
    return LoadedMetric(ctx, name, cell, span, value, history, key)


class LoadedMetric:
    """A metric value, and what its series are computed from (the history, loaded when a
    series is not cached)."""

    def __init__(
        self,
        ctx: Context,
        name: str,
        cell: CellKey | None,
        span: DateRange,
        value: MetricValue,
        history: CellHistory | None,
        key: tuple[str, ...] | None = None,
    ) -> None:
        self.value = value
        self._ctx, self._name, self._cell, self._span = ctx, name, cell, span
        self._history = history
        self._key = key

    async def series(self, granularity: Granularity) -> Sequence[MetricPoint]:
        """The metric over each bucket of the range (cached per granularity)."""
        cache = self._ctx.loaders.metric_cache
        series_key = None if self._key is None else (*self._key, granularity.name)
        if series_key is not None:
            cached = await cache.get(series_key)
            if cached is not None:
                return decode_points(cached)
        if self._history is None:
            assert self._cell is not None  # only cached values come without a history
            key = history_key(self._cell, self._name, self._span)
            self._history = await self._ctx.loaders.cell_history.load(key)
        points = bucket_series(REGISTRY[self._name], self._history, self._span, granularity)
        if series_key is not None:
            cache.put(series_key, encode_points(points))
        return points


async def event_metric(
    ctx: Context, name: str, cell: CellKey | None, spec: TimeRangeSpec
) -> tuple[MetricValue, Series]:
    """An event metric field: its value vs. the previous period, and its series function.

    Raises:
        BadUserInputError: ``spec`` is not a valid range.
    """
    span = date_range(ctx, spec)
    loaded = await load_metric(ctx, name, cell, span)
    return loaded.value, loaded.series


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
    months = months_of(ctx, first, last)
    before = (months[0].start - timedelta(days=1)).replace(day=1)
    if cell is None:
        history = CellHistory(before)
    else:
        key = HistoryKey(cell, before, months[-1].end, bitmaps=True)
        history = await ctx.loaders.cell_history.load(key)
    return monthly_active_users(history, months)


def month_label(month: date) -> str:
    """``"YYYY-MM"`` of a month's first day."""
    return f"{month:%Y-%m}"
