"""What the rollup store hands to the pure aggregation code: one cell's days.

These are plain values (no SQL, no I/O): the store's read API builds them and
:mod:`gateway.metrics.aggregate` folds them into metric values.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from pyroaring import BitMap


@dataclass(frozen=True)
class DayRollup:
    """One cell's totals for one UTC day (a row of ``rollup_days``).

    Attributes:
        day: The UTC day.
        launches: ``launch`` events.
        page_views: ``pageView`` events.
        duration_ms: Sum of ``pageView.durationMs``.
        valid_impressions: ``adImpression`` events with ``valid`` true.
        revenue_micros: Sum of those impressions' revenue, in millionths of a USD.
        active_users: Distinct users with a launch that day.
        new_users: Users whose first launch in the cell is that day (disjoint across days).
        active: The active users' ids, when read with bitmaps; None otherwise.
    """

    day: date
    launches: int = 0
    page_views: int = 0
    duration_ms: int = 0
    valid_impressions: int = 0
    revenue_micros: int = 0
    active_users: int = 0
    new_users: int = 0
    active: BitMap | None = None


@dataclass(frozen=True)
class CellHistory:
    """The days of one cell from ``start`` on, plus what came before summarized.

    Attributes:
        start: First day whose rollup may be in ``days``; ranges asked of this history must not
            begin before it.
        days: Rollups by day; a missing day had no events.
        lifetime_before: Distinct users with a launch in the cell before ``start`` (the sum of
            ``new_users`` of those days).
    """

    start: date
    days: Mapping[date, DayRollup] = field(default_factory=dict)
    lifetime_before: int = 0
    distinct: dict[tuple[date, date], int] = field(
        default_factory=dict, compare=False, repr=False, hash=False
    )
    """Distinct users of ranges already counted (the same union serves ``activeUsers`` and
    ``averageTimePerUser``, which read the same history)."""

    order: list[date] = field(default_factory=list, compare=False, repr=False, hash=False)
    """The days of ``days`` sorted, filled on first use by :meth:`rows`."""

    def rows(self, first: date, last: date) -> list[DayRollup]:
        """The rollups of the days from ``first`` to ``last`` that have one, in day order (a
        binary search in the days sorted once, instead of a lookup per calendar day)."""
        if not self.order and self.days:
            self.order.extend(sorted(self.days))
        low, high = bisect_left(self.order, first), bisect_right(self.order, last)
        return [self.days[day] for day in self.order[low:high]]
