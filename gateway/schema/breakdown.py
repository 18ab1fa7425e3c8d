"""``Breakdown`` and ``BreakdownItem``: counts per group over a range, with the previous period.

Generic over what is counted (mini programs, users) and what it is grouped by (source,
category): the field that returns a breakdown says both, and what ``share`` is a fraction of.
"""

from __future__ import annotations

import strawberry

from gateway.metrics import breakdown as pure


@strawberry.type(
    description="One group of a breakdown: its count over the range R and over the previous "
    "period (the range of equal length ending the day before R starts), and its shares."
)
class BreakdownItem:
    """One item of a :class:`Breakdown`."""

    key: str = strawberry.field(
        description="The group: a slug (e.g. a source such as `wallet`, or a category such as "
        "`food_beverage`); which attribute it is depends on the field."
    )
    count: int = strawberry.field(
        description="Entries in the group for R (as the field defines them)."
    )
    share: float = strawberry.field(
        description="count as a fraction (0..1) of the breakdown's total, unless the field "
        "says otherwise (e.g. the sum of the counts when an entry can be in several groups); "
        "0 when that base is 0."
    )
    previous_count: int = strawberry.field(
        description="Entries in the group for the previous period (0 when it had none)."
    )
    previous_share: float = strawberry.field(
        description="previousCount as a fraction of the previous period's base, as `share`."
    )
    count_change: int = strawberry.field(description="count − previousCount.")
    share_change: float = strawberry.field(
        description="share − previousShare, in fraction points (0.05 = 5 percentage points)."
    )

    @classmethod
    def from_item(cls, item: pure.BreakdownItem) -> BreakdownItem:
        """The GraphQL object of a computed item."""
        return cls(
            key=item.key,
            count=item.count,
            share=item.share,
            previous_count=item.previous_count,
            previous_share=item.previous_share,
            count_change=item.count_change,
            share_change=item.share_change,
        )


@strawberry.type(
    description="Counts per group over the range R and the previous period. Items are sorted "
    "by count descending (ties by key) and include groups present only in the previous period "
    "(with count 0)."
)
class Breakdown:
    """A breakdown built from :func:`gateway.metrics.breakdown.breakdown`."""

    total: int = strawberry.field(
        description="Entries counted for R, each once (for a cumulative breakdown: as of "
        "R's last day)."
    )
    previous_total: int = strawberry.field(
        description="Entries counted for the previous period, each once."
    )
    items: list[BreakdownItem] = strawberry.field(
        description="One item per group, by count descending, then key."
    )

    @classmethod
    def from_result(cls, result: pure.Breakdown) -> Breakdown:
        """The GraphQL object of a computed breakdown."""
        return cls(
            total=result.total,
            previous_total=result.previous_total,
            items=[BreakdownItem.from_item(item) for item in result.items],
        )
