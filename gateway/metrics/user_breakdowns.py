"""User breakdowns (SPEC §4): ``usersBySource`` and ``usersByCategory`` from cell rollups.

A cell's users over a range R:

- ``ACTIVE``: the union of the cell's daily active bitmaps of the days of R (:class:`CellUsers`).
- ``CUMULATIVE``: every user with a launch on or before R's last day. A user is new in exactly
  one day of a cell, so that is counting only: the cell's users less the new users of the days
  after R's end, per source too (:class:`SourceUsers`, from stored counts), and per category a
  category cell's users by that day.

By source: the users of each source; those in no source are ``unknown``. ``ACTIVE`` intersects
the cell's users with each source's bitmap.
By category: the users of each category's cell (a user counts in every category they used);
``total`` = the distinct users of all of them (cumulatively, those of the scope's
all-categories cell), shares are fractions of the sum of the counts.

Example:
    >>> day = date(2026, 11, 2)
    >>> cell = CellUsers({day: BitMap([1, 2, 3])})
    >>> r = DateRange(day, day)
    >>> result = by_source(cell, r, {"wallet": BitMap([1, 2, 9])})
    >>> [(item.key, item.count, item.previous_count) for item in result.items]
    [('wallet', 2, 0), ('unknown', 1, 0)]
    >>> counted = source_breakdown(SourceUsers(3, {"wallet": 2}), SourceUsers())
    >>> [(item.key, item.count) for item in counted.items]
    [('wallet', 2), ('unknown', 1)]
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from pyroaring import BitMap

from gateway.domain import UNKNOWN_SOURCE
from gateway.metrics.breakdown import Breakdown, ShareBase, breakdown
from gateway.metrics.timerange import DateRange


class UsersBy(enum.Enum):
    """What a user breakdown groups by."""

    SOURCE = "SOURCE"
    CATEGORY = "CATEGORY"


@dataclass(frozen=True)
class CellUsers:
    """The daily active bitmaps of one cell, as read for some days.

    Attributes:
        days: The active bitmap of each day read.
    """

    days: Mapping[date, BitMap] = field(default_factory=dict)

    def active(self, span: DateRange) -> BitMap:
        """Users with a launch during ``span`` (its days must have been read)."""
        return union_over(self.days, span)


def union_over(days: Mapping[date, BitMap], span: DateRange) -> BitMap:
    """The union of the bitmaps of ``days`` (a cell's daily sets) within ``span``: the one
    stored bitmap itself when only one day has users (callers never modify it)."""
    if span.days <= len(days):
        found = [days[day] for day in span.each_day() if day in days]
    else:
        found = [bitmap for day, bitmap in days.items() if span.start <= day <= span.end]
    if len(found) == 1:
        return found[0]
    return BitMap.union(*found) if found else BitMap()


EMPTY = CellUsers()
"""The users of a cell that does not exist (no event in it yet)."""


@dataclass(frozen=True)
class SourceUsers:
    """A cell's users by some day, and those of them per source (from stored counts).

    Attributes:
        users: Every user of the cell with a launch on or before the day.
        sources: Those of them with each source (non-zero counts; users without a source are
            in none).
    """

    users: int = 0
    sources: Mapping[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Users per source (zero counts left out); users in no source count as ``unknown``."""
        counts = dict(self.sources)
        unknown = self.users - sum(counts.values()) + counts.get(UNKNOWN_SOURCE, 0)
        counts[UNKNOWN_SOURCE] = unknown
        return {source: count for source, count in counts.items() if count}


def source_counts(users: BitMap, sources: Mapping[str, BitMap]) -> dict[str, int]:
    """Users per source (zero counts left out); users in no source count as ``unknown``."""
    counts = {source: users.intersection_cardinality(uids) for source, uids in sources.items()}
    return SourceUsers(len(users), counts).counts()


def by_source(cell: CellUsers, span: DateRange, sources: Mapping[str, BitMap]) -> Breakdown:
    """``ACTIVE`` ``usersBySource``: the cell's users during ``span`` and its previous period,
    by source."""
    return breakdown(
        source_counts(cell.active(span), sources),
        source_counts(cell.active(span.previous()), sources),
    )


def source_breakdown(now: SourceUsers, before: SourceUsers) -> Breakdown:
    """``CUMULATIVE`` ``usersBySource``: the cell's users by R's end and by the previous
    period's end, by source."""
    return breakdown(now.counts(), before.counts())


def category_counts(
    counts: Mapping[str, int], previous_counts: Mapping[str, int], total: int, previous_total: int
) -> Breakdown:
    """``usersByCategory`` from users per category in R and in its previous period (zero
    counts left out) and the distinct users of all categories in each."""
    return breakdown(
        {category: count for category, count in counts.items() if count},
        {category: count for category, count in previous_counts.items() if count},
        total=total,
        previous_total=previous_total,
        share_base=ShareBase.SUM_OF_COUNTS,
    )


def by_category(categories: Mapping[str, CellUsers], span: DateRange) -> Breakdown:
    """``ACTIVE`` ``usersByCategory``: users per category cell during ``span`` and its previous
    period; total = distinct users of all of them."""
    counts: dict[str, int] = {}
    previous_counts: dict[str, int] = {}
    everyone, everyone_before = BitMap(), BitMap()
    for category, cell in categories.items():
        now, before = cell.active(span), cell.active(span.previous())
        everyone |= now
        everyone_before |= before
        counts[category], previous_counts[category] = len(now), len(before)
    return category_counts(counts, previous_counts, len(everyone), len(everyone_before))
