"""``Metric`` and ``MetricPoint``: a number over a range, its previous period and its series.

Every metric field of every level returns a :class:`Metric`. The resolver computes the value
and the previous-period value; the series is computed only when asked, by the ``series``
function the resolver hands over (it reuses what the resolver already loaded).

Example:
    >>> async def points(granularity: Granularity) -> list[Point]:
    ...     return [Point(date(2026, 11, 1), 3.0)]
    >>> Metric.of(compare(3.0, 2.0), points).change_rate
    0.5
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated

import strawberry

from gateway.metrics.aggregate import MetricPoint as Point
from gateway.metrics.aggregate import MetricValue
from gateway.schema.enums import Granularity
from gateway.schema.fields import resolver_field

SeriesFunction = Callable[[Granularity], Awaitable[Sequence[Point]]]
"""Computes a metric's series at a granularity (the resolver's closure over its data)."""


@strawberry.type(description="One bucket of a series.")
class MetricPoint:
    """A series point."""

    date: dt.date = strawberry.field(
        description="First day of the bucket (UTC), clipped to the range: a WEEK bucket "
        "starts on a Monday, a MONTH bucket on the 1st, except the range's first bucket."
    )
    value: float = strawberry.field(
        description="The metric restricted to the bucket, in the metric's unit; cumulative "
        "metrics (lifetime users, counts of mini programs or merchants) as of the bucket's "
        "last day."
    )


@strawberry.type(
    description="A metric over the requested range R of UTC days, compared with the previous "
    "period: the range of equal length that ends the day before R starts. Values are as of "
    "the latest snapshot (`Query.snapshot`; rollups refresh every 30 minutes by default), so "
    "today's are partial. Event metrics count the entity's events (a mini program reached "
    "through a target app: only its events in that app) filtered by the field's `type`, "
    "`category` and `dataType`. The unit is the one of the field that returned it."
)
class Metric:
    """A metric value with its comparison and a lazily computed series."""

    value: float = strawberry.field(description="The metric over the range.")
    previous_value: float = strawberry.field(
        description="The same metric over the previous period."
    )
    change: float = strawberry.field(description="value − previousValue.")
    change_rate: float | None = strawberry.field(
        description="change / previousValue, as a fraction (0.25 = +25%); null when "
        "previousValue is 0."
    )
    series_function: strawberry.Private[SeriesFunction]

    @classmethod
    def of(cls, value: MetricValue, series: SeriesFunction) -> Metric:
        """A Metric from a computed :class:`MetricValue` and the function of its series."""
        return cls(
            value=value.value,
            previous_value=value.previous_value,
            change=value.change,
            change_rate=value.change_rate,
            series_function=series,
        )

    @resolver_field(
        description="The metric restricted to each bucket of the range, in date order. Daily "
        "`activeUsers` points are DAU; daily `newUsers` points sum to the range's value."
    )
    async def series(
        self,
        granularity: Annotated[
            Granularity, strawberry.argument(description="Bucket size (default DAY).")
        ] = Granularity.DAY,
    ) -> list[MetricPoint]:
        # The computed points are returned as they are: they carry ``date`` and ``value``, the
        # attributes the type reads (a dashboard's dozen 90-day daily series are a thousand
        # points, and copying each into a MetricPoint cost more than computing it).
        return await self.series_function(granularity)  # type: ignore[return-value]
