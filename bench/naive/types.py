"""The naive schema's value types (Metric, Breakdown, status counts) and its request context."""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.metrics import breakdown as pure
from gateway.schema.fields import resolver_field as field


@dataclass(frozen=True, slots=True)
class NaiveContext:
    """What a naive request runs with: just the engine."""

    engine: AsyncEngine

    async def close(self) -> None:
        """Nothing to release: every statement used its own connection, already returned."""


Daily = Callable[[], Awaitable[Mapping[dt.date, int]]]


@strawberry.enum(description="Bucket size; the naive schema answers DAY only.")
class Granularity(enum.Enum):
    """Series granularity (DAY only)."""

    DAY = "DAY"


@strawberry.input(description="`days` with `endDate`, or `from` with `to` (inclusive UTC days).")
class TimeRangeInput:
    """A range of UTC days (no presets in the naive schema)."""

    days: int | None = None
    end_date: dt.date | None = None
    from_: dt.date | None = strawberry.field(default=None, name="from")
    to: dt.date | None = None

    def days_range(self) -> tuple[dt.date, dt.date]:
        """The first and last day of the range."""
        if self.days is not None and self.end_date is not None:
            return self.end_date - dt.timedelta(days=self.days - 1), self.end_date
        if self.from_ is not None and self.to is not None:
            return self.from_, self.to
        raise ValueError("give days with endDate, or from with to")


def previous(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The range of equal length ending the day before ``first``."""
    return first - (last - first) - dt.timedelta(days=1), first - dt.timedelta(days=1)


@strawberry.type(description="One bucket of a series.")
class MetricPoint:
    """A series point."""

    date: dt.date
    value: float


@strawberry.type(description="A metric over the range, compared with the previous period.")
class Metric:
    """A value, its previous-period value and a series computed on demand."""

    value: float
    previous_value: float
    change: float
    change_rate: float | None
    first: strawberry.Private[dt.date]
    last: strawberry.Private[dt.date]
    daily: strawberry.Private[Daily]
    cumulative: strawberry.Private[bool]

    @field("One point per day of the range (DAY only).")
    async def series(self, granularity: Granularity = Granularity.DAY) -> list[MetricPoint]:
        del granularity  # DAY is the only member
        per_day, running, points = await self.daily(), 0, []
        if self.cumulative:  # per_day holds every first day up to `last`: sum the days before
            running = sum(n for day, n in per_day.items() if day < self.first)
        day = self.first
        while day <= self.last:
            running = running + per_day.get(day, 0) if self.cumulative else per_day.get(day, 0)
            points.append(MetricPoint(date=day, value=float(running)))
            day += dt.timedelta(days=1)
        return points


async def _metric(
    value: Awaitable[int], prev: Awaitable[int], span: tuple[dt.date, dt.date], daily: Daily,
    *, cumulative: bool = False,
) -> Metric:  # fmt: skip
    now, before = await asyncio.gather(value, prev)
    change = float(now - before)
    return Metric(
        value=float(now),
        previous_value=float(before),
        change=change,
        change_rate=None if before == 0 else change / before,
        first=span[0],
        last=span[1],
        daily=daily,
        cumulative=cumulative,
    )


@strawberry.type(description="One group of a breakdown.")
class BreakdownItem:
    """A breakdown item."""

    key: str
    count: int
    share: float
    previous_count: int
    previous_share: float
    count_change: int
    share_change: float


@strawberry.type(description="Counts per group over the range and the previous period.")
class Breakdown:
    """A breakdown."""

    total: int
    previous_total: int
    items: list[BreakdownItem]

    @classmethod
    def of(cls, result: pure.Breakdown) -> Breakdown:
        """The GraphQL object of a computed breakdown (shares computed the one way)."""
        items = [BreakdownItem(**{f: getattr(i, f) for f in _ITEM_FIELDS}) for i in result.items]
        return cls(total=result.total, previous_total=result.previous_total, items=items)


_ITEM_FIELDS = ("key", "count", "share", "previous_count", "previous_share", "count_change",
                "share_change")  # fmt: skip


@strawberry.type(description="Current counts of the app's mini programs by status group.")
class MiniProgramStatusCounts:
    """Status-group counts."""

    all: int
    full_release: int
    grayscale_release: int
    reviewing: int
    developing: int
    inactive: int
