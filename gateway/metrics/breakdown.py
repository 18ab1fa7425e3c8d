"""Breakdowns: counts per key over a range, with shares and the previous period's values.

Reusable by every ``Breakdown`` field (mini programs by source or category, users by source or
category): the caller computes the counts per key for R and for the previous period, and this
module builds the items. ``share`` is ``count / base``: the base is ``total`` (every entry in
exactly one group) or the sum of the counts (an entry may count in several groups, e.g. a user
who used several categories), chosen with :class:`ShareBase`.

Example:
    >>> result = breakdown({"wallet": 3, "merchant": 1}, {"wallet": 1, "alipay_plus": 1})
    >>> result.total, result.previous_total
    (4, 2)
    >>> [(i.key, i.count, i.share, i.previous_share, i.count_change) for i in result.items]
    [('wallet', 3, 0.75, 0.5, 2), ('merchant', 1, 0.25, 0.0, 1), ('alipay_plus', 0, 0.0, 0.5, -1)]
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class ShareBase(enum.Enum):
    """What a share is a fraction of."""

    TOTAL = "TOTAL"
    """count / total (the groups partition the entries; shares sum to 1)."""
    SUM_OF_COUNTS = "SUM_OF_COUNTS"
    """count / sum of every group's count (entries may count in several groups)."""


@dataclass(frozen=True, slots=True)
class BreakdownItem:
    """One group of a breakdown.

    Attributes:
        key: The group (a source or category slug).
        count: Entries in the group over R.
        share: ``count`` as a fraction of the base (0 when the base is 0).
        previous_count: Entries in the group over the previous period.
        previous_share: ``previous_count`` as a fraction of the previous base.
        count_change: ``count - previous_count``.
        share_change: ``share - previous_share``.
    """

    key: str
    count: int
    share: float
    previous_count: int
    previous_share: float
    count_change: int
    share_change: float


@dataclass(frozen=True, slots=True)
class Breakdown:
    """A breakdown: totals of both periods and the items, by count descending then key."""

    total: int
    previous_total: int
    items: tuple[BreakdownItem, ...]


def _fraction(count: int, base: int) -> float:
    return count / base if base else 0.0


def breakdown(
    counts: Mapping[str, int],
    previous_counts: Mapping[str, int],
    *,
    total: int | None = None,
    previous_total: int | None = None,
    share_base: ShareBase = ShareBase.TOTAL,
) -> Breakdown:
    """Build a :class:`Breakdown` from the counts per key of R and of the previous period.

    Args:
        counts: Count per key over R (keys with a zero count may be left out).
        previous_counts: Count per key over the previous period; a key present only there
            gets an item with ``count`` 0.
        total: The reported total over R; defaults to the sum of ``counts``.
        previous_total: The reported total over the previous period; defaults likewise.
        share_base: What shares are fractions of.
    """
    sums = sum(counts.values()), sum(previous_counts.values())
    totals = (
        sums[0] if total is None else total,
        sums[1] if previous_total is None else previous_total,
    )
    bases = totals if share_base is ShareBase.TOTAL else sums
    items = []
    for key in set(counts) | set(previous_counts):
        count, previous = counts.get(key, 0), previous_counts.get(key, 0)
        share, previous_share = _fraction(count, bases[0]), _fraction(previous, bases[1])
        items.append(
            BreakdownItem(
                key=key,
                count=count,
                share=share,
                previous_count=previous,
                previous_share=previous_share,
                count_change=count - previous,
                share_change=share - previous_share,
            )
        )
    items.sort(key=lambda item: (-item.count, item.key))
    return Breakdown(total=totals[0], previous_total=totals[1], items=tuple(items))
