"""User breakdowns (SPEC §4): ``usersBySource`` and ``usersByCategory`` from cell bitmaps.

A cell's users over a range R come from its bitmaps (:class:`CellUsers`):

- ``ACTIVE``: the union of the cell's daily active bitmaps of the days of R.
- ``CUMULATIVE``: every user with a launch on or before R's last day = the cell's lifetime
  bitmap minus the users first seen after that day (a cell's daily new bitmaps are disjoint and
  their union is the lifetime bitmap), so only the days after the previous period's end are read.
  Counting needs no copy of the lifetime (megabytes at scale): the users of a source by that day
  are ``|lifetime & source| - |later & source|``, the later new users being part of the lifetime.

By source: the users intersected with each source's bitmap; those in no source are ``unknown``.
By category: the users of each category's cell (a user counts in every category they used);
``total`` = the distinct users of all of them, shares are fractions of the sum of the counts.
Cumulatively that is counting only (:func:`category_counts`): a cell's users by a day are the
sum of its daily new users up to it, and the distinct users of every category are the users of
the scope's all-categories cell, so no bitmap is read.

Example:
    >>> day = date(2026, 11, 2)
    >>> cell = CellUsers({day: BitMap([1, 2, 3])})
    >>> r = DateRange(day, day)
    >>> result = by_source(cell, UserBasis.ACTIVE, r, {"wallet": BitMap([1, 2, 9])})
    >>> [(item.key, item.count, item.previous_count) for item in result.items]
    [('wallet', 2, 0), ('unknown', 1, 0)]
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from pyroaring import BitMap

from gateway.domain import UNKNOWN_SOURCE, UserBasis
from gateway.metrics.breakdown import Breakdown, ShareBase, breakdown
from gateway.metrics.timerange import DateRange


class UsersBy(enum.Enum):
    """What a user breakdown groups by."""

    SOURCE = "SOURCE"
    CATEGORY = "CATEGORY"


def _union(bitmaps: Iterable[BitMap]) -> BitMap:
    parts = list(bitmaps)
    return BitMap.union(*parts) if parts else BitMap()


@dataclass(frozen=True)
class CellUsers:
    """The user bitmaps of one cell, as read for one basis.

    Attributes:
        days: ``ACTIVE``: the active bitmap of each day read; ``CUMULATIVE``: the new bitmap
            (users first seen that day) of each day after some date (see :meth:`by_end`).
        lifetime: ``CUMULATIVE`` only: every user ever seen in the cell.
    """

    days: Mapping[date, BitMap] = field(default_factory=dict)
    lifetime: BitMap | None = None

    def active(self, span: DateRange) -> BitMap:
        """Users with a launch during ``span`` (its days must have been read)."""
        return _union(bitmap for day, bitmap in self.days.items() if span.start <= day <= span.end)

    def later(self, end: date) -> BitMap:
        """``CUMULATIVE``: users first seen after ``end`` (part of :attr:`lifetime`)."""
        return _union(bitmap for day, bitmap in self.days.items() if day > end)

    def by_end(self, end: date) -> BitMap:
        """Users with a launch on or before ``end`` (every new bitmap after ``end`` was read)."""
        lifetime = self.lifetime if self.lifetime is not None else BitMap()
        return lifetime - self.later(end)

    def users(self, basis: UserBasis, span: DateRange) -> BitMap:
        """The users the breakdown counts for ``span`` under ``basis``."""
        return self.by_end(span.end) if basis is UserBasis.CUMULATIVE else self.active(span)


EMPTY = CellUsers()
"""The users of a cell that does not exist (no event in it yet)."""


def source_counts(
    users: BitMap, sources: Mapping[str, BitMap], less: BitMap | None = None
) -> dict[str, int]:
    """Users per source (zero counts left out); users in no source count as ``unknown``.

    With ``less`` (a subset of ``users``), the counts of ``users - less``, without building it.
    """
    counts = {source: users.intersection_cardinality(uids) for source, uids in sources.items()}
    everyone = len(users)
    if less:
        for source, uids in sources.items():
            counts[source] -= less.intersection_cardinality(uids)
        everyone -= len(less)
    counts[UNKNOWN_SOURCE] = everyone - sum(counts.values()) + counts.get(UNKNOWN_SOURCE, 0)
    return {source: count for source, count in counts.items() if count}


def _source_counts(
    cell: CellUsers, basis: UserBasis, span: DateRange, sources: Mapping[str, BitMap]
) -> dict[str, int]:
    if basis is UserBasis.ACTIVE:
        return source_counts(cell.active(span), sources)
    lifetime = cell.lifetime if cell.lifetime is not None else BitMap()
    return source_counts(lifetime, sources, cell.later(span.end))


def by_source(
    cell: CellUsers, basis: UserBasis, span: DateRange, sources: Mapping[str, BitMap]
) -> Breakdown:
    """``usersBySource``: the cell's users over ``span`` and its previous period, by source."""
    return breakdown(
        _source_counts(cell, basis, span, sources),
        _source_counts(cell, basis, span.previous(), sources),
    )


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


def by_category(
    categories: Mapping[str, CellUsers], basis: UserBasis, span: DateRange
) -> Breakdown:
    """``usersByCategory``: users per category cell; total = distinct users of all of them."""
    counts: dict[str, int] = {}
    previous_counts: dict[str, int] = {}
    everyone, everyone_before = BitMap(), BitMap()
    for category, cell in categories.items():
        now, before = cell.users(basis, span), cell.users(basis, span.previous())
        everyone |= now
        everyone_before |= before
        counts[category], previous_counts[category] = len(now), len(before)
    return category_counts(counts, previous_counts, len(everyone), len(everyone_before))
