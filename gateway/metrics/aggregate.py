"""Pure aggregation: one cell's days -> a metric value, its previous period and its series.

Dispatches on the registry's :class:`~gateway.metrics.registry.Computation`; no SQL, no I/O.

Example:
    >>> h = CellHistory(start=date(2026, 11, 1), days={
    ...     date(2026, 11, 2): DayRollup(date(2026, 11, 2), launches=3),
    ...     date(2026, 11, 3): DayRollup(date(2026, 11, 3), launches=2)})
    >>> v = metric_value("launches", h, DateRange(date(2026, 11, 3), date(2026, 11, 3)))
    >>> v.value, v.previous_value, v.change, v.change_rate
    (2.0, 3.0, -1.0, -0.3333333333333333)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from pyroaring import BitMap

from gateway.domain import Granularity
from gateway.metrics.cell_days import CellHistory, DayRollup
from gateway.metrics.registry import REGISTRY, Computation, MetricDefinition
from gateway.metrics.timerange import DateRange


class MetricPoint(NamedTuple):
    """One bucket of a series: the bucket's first day and the metric over the bucket (a named
    tuple: a dashboard's daily series are thousands of points, built in a third of a frozen
    dataclass's time)."""

    date: date
    value: float


@dataclass(frozen=True)
class MetricValue:
    """A metric over a range with its previous period (SPEC §4 ``Metric``)."""

    value: float
    previous_value: float
    change: float
    change_rate: float | None
    series: tuple[MetricPoint, ...] = ()


def compare(value: float, previous: float, series: Sequence[MetricPoint] = ()) -> MetricValue:
    """Build a :class:`MetricValue`: change = value - previous, rate None when previous is 0."""
    change = value - previous
    rate = None if previous == 0 else change / previous
    return MetricValue(float(value), float(previous), float(change), rate, tuple(series))


def _days(history: CellHistory, span: DateRange) -> list[DayRollup]:
    if span.start < history.start:
        raise ValueError(f"{span} starts before the history read ({history.start})")
    return history.rows(span.start, span.end)


def distinct_users(history: CellHistory, span: DateRange) -> int:
    """Distinct users with a launch in ``span`` (exact: union of the daily bitmaps, counted
    once per history and range)."""
    known = history.distinct.get((span.start, span.end))
    if known is not None:
        return known
    rows = [row for row in _days(history, span) if row.active_users]
    if len(rows) <= 1:
        return rows[0].active_users if rows else 0
    bitmaps = [row.active for row in rows]
    if any(bitmap is None for bitmap in bitmaps):
        raise ValueError("a multi-day distinct count needs the days read with bitmaps")
    count = len(BitMap.union(*[b for b in bitmaps if b is not None]))
    history.distinct[(span.start, span.end)] = count
    return count


def _column_sum(definition: MetricDefinition, rows: list[DayRollup]) -> int:
    assert definition.column is not None
    return sum(int(getattr(row, definition.column)) for row in rows)


def value_over(definition: MetricDefinition, history: CellHistory, span: DateRange) -> float:
    """The metric restricted to ``span`` (which must start on or after ``history.start``)."""
    computation = definition.computation
    if computation is Computation.DISTINCT_USERS:
        return float(distinct_users(history, span))
    if computation is Computation.SUM:
        return _column_sum(definition, _days(history, span)) * definition.scale
    if computation is Computation.CUMULATIVE:
        upto = DateRange(history.start, span.end)
        return float(history.lifetime_before + _column_sum(definition, _days(history, upto)))
    if computation is Computation.PER_ACTIVE_USER:
        users = distinct_users(history, span)
        total = _column_sum(definition, _days(history, span)) * definition.scale
        return total / users if users else 0.0
    raise ValueError(f"{definition.name} is not computed from rollups")


_ONE_DAY = (Computation.DISTINCT_USERS, Computation.SUM, Computation.PER_ACTIVE_USER)
"""Computations whose value over one day is read off that day's row (:func:`_day_value`)."""


def _day_value(definition: MetricDefinition, row: DayRollup | None) -> float:
    """:func:`value_over` of a one-day range from the day's row (None: no events that day),
    without building the range's rows: a daily series of a dashboard's dozen metrics over 90
    days is a thousand such values."""
    if row is None:
        return 0.0
    if definition.computation is Computation.DISTINCT_USERS:
        return float(row.active_users)
    assert definition.column is not None
    total = int(getattr(row, definition.column)) * definition.scale
    if definition.computation is Computation.SUM:
        return float(total)
    return total / row.active_users if row.active_users else 0.0


def series(
    definition: MetricDefinition, history: CellHistory, span: DateRange, granularity: Granularity
) -> list[MetricPoint]:
    """The metric over each bucket of ``span`` (cumulative metrics: as of each bucket's end).

    A cumulative series is a running total (each day is added once, not once per bucket after
    it: a 90-day daily series would sum 4,000 days)."""
    buckets = span.buckets(granularity)
    if granularity is Granularity.DAY and definition.computation in _ONE_DAY:
        _days(history, span)  # the range check of value_over
        found = history.days.get
        return [MetricPoint(b.start, _day_value(definition, found(b.start))) for b in buckets]
    if definition.computation is not Computation.CUMULATIVE:
        return [MetricPoint(b.start, value_over(definition, history, b)) for b in buckets]
    total = float(history.lifetime_before)
    if span.start > history.start:
        before = DateRange(history.start, span.start - timedelta(days=1))
        total += _column_sum(definition, _days(history, before))
    points = []
    for bucket in buckets:
        total += _column_sum(definition, _days(history, bucket))
        points.append(MetricPoint(bucket.start, total))
    return points


def metric_value(
    name: str,
    history: CellHistory,
    span: DateRange,
    granularity: Granularity | None = Granularity.DAY,
) -> MetricValue:
    """The registry metric ``name`` over ``span``, vs. the previous period, with a series.

    Args:
        name: A registry name (``activeUsers``).
        history: The cell's days from ``span.previous().start`` (or earlier) to ``span.end``.
        span: The range R.
        granularity: Series buckets; None for no series.
    """
    definition = REGISTRY[name]
    value = value_over(definition, history, span)
    previous = value_over(definition, history, span.previous())
    points = [] if granularity is None else series(definition, history, span, granularity)
    return compare(value, previous, points)


@dataclass(frozen=True)
class MonthValue:
    """One entry of ``monthlyActiveUsers``: the month's first day and its comparison."""

    month: date
    metric: MetricValue


def monthly_active_users(history: CellHistory, months: Sequence[DateRange]) -> list[MonthValue]:
    """Distinct users per calendar month, each compared with the month before.

    ``history`` must start on or before the first day of the month preceding ``months[0]``.
    """
    out: list[MonthValue] = []
    for month in months:
        last = month.start.replace(day=1)
        before_end = date.fromordinal(last.toordinal() - 1)
        before = DateRange(before_end.replace(day=1), before_end)
        value = distinct_users(history, month)
        out.append(MonthValue(last, compare(value, distinct_users(history, before))))
    return out
