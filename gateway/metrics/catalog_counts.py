"""Catalog counts over time: how many entries (mini programs, merchants) existed by each day.

Catalog metrics read no events. A catalog entry counts from one instant on: a mini program's
first deployment record in a scope, its creation, a merchant's onboarding. "By day D" means
strictly before D + 1 day, 00:00 UTC. Catalogs are small (thousands of entries), so a scope's
instants are loaded once and every range, previous period and bucket is answered here.

Example:
    >>> utc = lambda d, h=0: datetime(2026, 11, d, h, tzinfo=UTC)
    >>> counter = CumulativeCounter([utc(2, 12), utc(4), utc(5, 23)])
    >>> counter.by_day(date(2026, 11, 3)), counter.by_day(date(2026, 11, 5))
    (1, 3)
    >>> span = DateRange(date(2026, 11, 4), date(2026, 11, 5))  # previous: Nov 2..3
    >>> CountMetric(counter, span, cumulative=True).value().value
    3.0
    >>> CountMetric(counter, span, cumulative=False).value().previous_value
    1.0
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from gateway.domain import Granularity, MiniProgramType, TypeFilter
from gateway.metrics.aggregate import MetricPoint, MetricValue, compare
from gateway.metrics.timerange import DateRange


def day_end(day: date) -> datetime:
    """The first instant after ``day``: ``day + 1``, 00:00 UTC (exclusive bound of "by day")."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """A mini program as a catalog metric sees it.

    Attributes:
        id: The mini program id.
        at: When it entered the scope (aware UTC): its first deployment record in the scope
            for association counts, its ``createdAt`` for creation counts.
        type: Its type.
        category: Its category slug.
        source: Its source slug.
    """

    id: str
    at: datetime
    type: MiniProgramType
    category: str
    source: str


def matching(
    entries: Iterable[CatalogEntry], type_filter: TypeFilter, category: str | None = None
) -> list[CatalogEntry]:
    """The entries passing the ``type`` and ``category`` filters (None = every category)."""
    return [
        entry
        for entry in entries
        if type_filter.admits(entry.type) and (category is None or entry.category == category)
    ]


def counts_by(
    entries: Iterable[CatalogEntry], key: Callable[[CatalogEntry], str], day: date
) -> dict[str, int]:
    """Entries present by ``day``, counted per ``key`` (e.g. ``lambda e: e.source``)."""
    bound = day_end(day)
    return dict(Counter(key(entry) for entry in entries if entry.at < bound))


class CumulativeCounter:
    """Counts of instants before a day's end, by binary search over the sorted instants.

    Args:
        instants: Aware UTC datetimes, in any order (duplicates count separately).
    """

    def __init__(self, instants: Iterable[datetime]) -> None:
        self._sorted = sorted(instants)

    def by_day(self, day: date) -> int:
        """Instants before the end of ``day`` (cumulative as of ``day``)."""
        return bisect.bisect_left(self._sorted, day_end(day))

    def within(self, span: DateRange) -> int:
        """Instants on the days of ``span``."""
        return self.by_day(span.end) - self.by_day(span.start - timedelta(days=1))


@dataclass(frozen=True)
class CountMetric:
    """A count metric over a range: cumulative (as of the end) or new (within the range).

    Attributes:
        counter: The scope's instants, already filtered.
        span: The range R (the previous period is ``span.previous()``).
        cumulative: True: value = count by R's last day, series points as of each bucket's
            last day. False: value = count within R, series points within each bucket (they
            sum to the value).
    """

    counter: CumulativeCounter
    span: DateRange
    cumulative: bool

    def over(self, span: DateRange) -> int:
        """The count for ``span`` (as of its end, or within it)."""
        if self.cumulative:
            return self.counter.by_day(span.end)
        return self.counter.within(span)

    def value(self) -> MetricValue:
        """Value over R compared with the previous period."""
        return compare(self.over(self.span), self.over(self.span.previous()))

    def series(self, granularity: Granularity) -> list[MetricPoint]:
        """One point per bucket of R, carrying the bucket's first day."""
        return [
            MetricPoint(bucket.start, float(self.over(bucket)))
            for bucket in self.span.buckets(granularity)
        ]
