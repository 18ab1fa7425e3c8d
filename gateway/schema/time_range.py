"""``TimeRangeInput`` (SPEC §3): the range argument of every metric field.

Exactly one form: a ``preset``; ``days`` with ``endDate``; or ``from`` with ``to``. The input is
turned into a :class:`~gateway.metrics.timerange.TimeRangeSpec` here and resolved against the
request's "today" by :mod:`gateway.resolvers.time_range`.
"""

from __future__ import annotations

import datetime as dt

import strawberry

from gateway.domain import MAX_RANGE_DAYS
from gateway.metrics.timerange import TimeRangeSpec
from gateway.schema.enums import TimeRangePreset


@strawberry.input(
    description="A range of UTC days. Give exactly one form: `preset`; `days` with `endDate` "
    "(the `days` days ending on `endDate`, inclusive); or `from` with `to` (inclusive). "
    "The last day may not be after today (UTC) and a range spans at most "
    f"{MAX_RANGE_DAYS} days (GATEWAY_MAX_RANGE_DAYS). The previous period, used for "
    "comparisons, is the range of equal length ending the day before the first day."
)
class TimeRangeInput:
    """The caller's range, in one of three forms."""

    preset: TimeRangePreset | None = strawberry.field(
        default=None, description="A named range, e.g. LAST_7_DAYS (ends yesterday)."
    )
    days: int | None = strawberry.field(
        default=None, description="Number of days (1 to the maximum), with `endDate`."
    )
    end_date: dt.date | None = strawberry.field(
        default=None, description="Last day of a `days` range (UTC, inclusive)."
    )
    from_: dt.date | None = strawberry.field(
        default=None, name="from", description="First day of a custom range (UTC, inclusive)."
    )
    to: dt.date | None = strawberry.field(
        default=None, description="Last day of a custom range (UTC, inclusive), not after today."
    )

    def to_spec(self) -> TimeRangeSpec:
        """The framework-free form of this input."""
        return TimeRangeSpec(
            preset=self.preset,
            days=self.days,
            end_date=self.end_date,
            from_=self.from_,
            to=self.to,
        )
