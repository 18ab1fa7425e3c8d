"""Time ranges of SPEC §3: presets, ``{days, endDate}``, ``{from, to}``, previous periods, buckets.

Every range is a closed interval of UTC calendar days. Resolution needs "today" (the UTC date of
the snapshot being read) and the longest range allowed; both are passed in, so this module does
no I/O and reads no clock.

Example:
    >>> today = date(2026, 11, 23)
    >>> r = resolve_time_range(TimeRangeSpec(preset=TimeRangePreset.LAST_7_DAYS), today=today)
    >>> r, r.previous()
    (DateRange(2026-11-16..2026-11-22), DateRange(2026-11-09..2026-11-15))
    >>> [b.start.isoformat() for b in r.buckets(Granularity.WEEK)]
    ['2026-11-16']
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from gateway.domain import MAX_RANGE_DAYS, Granularity, TimeRangePreset
from gateway.errors import BadUserInputError

MAX_MONTHS = 24
"""The most calendar months ``monthlyActiveUsers`` answers in one call."""

_PRESET_DAYS: dict[TimeRangePreset, tuple[int, int]] = {
    TimeRangePreset.TODAY: (0, 0),
    TimeRangePreset.YESTERDAY: (1, 1),
    TimeRangePreset.LAST_7_DAYS: (7, 1),
    TimeRangePreset.LAST_15_DAYS: (15, 1),
    TimeRangePreset.LAST_30_DAYS: (30, 1),
}
"""Preset -> (days back of the first day, days back of the last day), counted from today."""


@dataclass(frozen=True, order=True)
class DateRange:
    """An inclusive range of UTC days, ``start <= end``."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"range starts {self.start} after it ends {self.end}")

    def __repr__(self) -> str:
        return f"DateRange({self.start}..{self.end})"

    @property
    def days(self) -> int:
        """Number of days in the range (1 for a single day)."""
        return (self.end - self.start).days + 1

    def previous(self) -> DateRange:
        """The range of equal length that ends the day before ``start``."""
        end = self.start - timedelta(days=1)
        return DateRange(end - timedelta(days=self.days - 1), end)

    def each_day(self) -> Iterator[date]:
        """Every day of the range, in order."""
        for offset in range(self.days):
            yield self.start + timedelta(days=offset)

    def buckets(self, granularity: Granularity) -> list[DateRange]:
        """Consecutive buckets covering the range, each clipped to it, in order.

        ``DAY`` gives one bucket a day; ``WEEK`` ISO weeks (Monday to Sunday); ``MONTH``
        calendar months. The first and last bucket may be partial: a 10-day range starting on
        a Wednesday has a first WEEK bucket of Wednesday to Sunday. Ranges of up to a year are
        split once per process and granularity (a dashboard asks the same series of every
        metric).
        """
        if self.days > CACHED_SPAN_DAYS:
            return self._split(granularity)
        return list(_buckets(self, granularity))

    def _split(self, granularity: Granularity) -> list[DateRange]:
        out: list[DateRange] = []
        start = self.start
        while start <= self.end:
            end = min(bucket_end(start, granularity), self.end)
            out.append(DateRange(start, end))
            start = end + timedelta(days=1)
        return out


CACHED_SPAN_DAYS = 366
"""Longest range whose buckets are remembered (256 such ranges hold at most ~10 MB)."""


@functools.lru_cache(maxsize=256)
def _buckets(span: DateRange, granularity: Granularity) -> tuple[DateRange, ...]:
    return tuple(span._split(granularity))


def bucket_end(day: date, granularity: Granularity) -> date:
    """The last day of the calendar bucket holding ``day`` (the day, its ISO week's Sunday, its
    month's last day)."""
    if granularity is Granularity.DAY:
        return day
    if granularity is Granularity.WEEK:
        return day + timedelta(days=6 - day.weekday())
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=last)


@dataclass(frozen=True)
class TimeRangeSpec:
    """What a caller sent as ``TimeRangeInput``: exactly one of the three forms.

    Attributes:
        preset: A named range (``LAST_7_DAYS`` ...).
        days: With ``end_date``: the ``days`` days ending on ``end_date`` inclusive.
        end_date: Last day of a ``days`` range.
        from_: First day of a custom range (with ``to``).
        to: Last day of a custom range, not after today.
    """

    preset: TimeRangePreset | None = None
    days: int | None = None
    end_date: date | None = None
    from_: date | None = None
    to: date | None = None


_FORMS = "give exactly one of: preset, {days, endDate} or {from, to}"

EARLIEST_DAY = date(1970, 1, 1)
"""No range, month or previous period reaches before this day (nothing is dated earlier): a
date far in the past is bad input, never arithmetic past ``date.min``."""


def _not_too_early(name: str, value: date) -> None:
    if value < EARLIEST_DAY:
        raise BadUserInputError(
            f"{name} ({value}) is before {EARLIEST_DAY}, the earliest day this gateway serves"
        )


def resolve_time_range(
    spec: TimeRangeSpec, *, today: date, max_days: int = MAX_RANGE_DAYS
) -> DateRange:
    """Turn a caller's ``TimeRangeInput`` into a :class:`DateRange`.

    Raises:
        BadUserInputError: the input mixes forms, misses half of one, ends after ``today``,
            is reversed, or spans more than ``max_days`` days; the message says what to fix.
    """
    forms = [
        spec.preset is not None,
        spec.days is not None or spec.end_date is not None,
        spec.from_ is not None or spec.to is not None,
    ]
    if sum(forms) != 1:
        raise BadUserInputError(f"timeRange: {_FORMS}")
    if spec.preset is not None:
        back_start, back_end = _PRESET_DAYS[spec.preset]
        return DateRange(today - timedelta(days=back_start), today - timedelta(days=back_end))
    try:
        if forms[1]:
            span = _days_form(spec, today=today, max_days=max_days)
        else:
            span = _custom_form(spec, today=today, max_days=max_days)
        # The previous period, of equal length, must not reach before the earliest day.
        _not_too_early("timeRange's previous period", span.start - timedelta(days=span.days))
    except OverflowError:
        raise BadUserInputError(f"timeRange reaches before {EARLIEST_DAY}") from None
    return span


def _days_form(spec: TimeRangeSpec, *, today: date, max_days: int) -> DateRange:
    if spec.days is None or spec.end_date is None:
        raise BadUserInputError("timeRange: days and endDate go together; give both")
    if not 1 <= spec.days <= max_days:
        raise BadUserInputError(f"timeRange.days must be between 1 and {max_days}, not {spec.days}")
    _not_after_today("endDate", spec.end_date, today)
    _not_too_early("timeRange.endDate", spec.end_date)
    return DateRange(spec.end_date - timedelta(days=spec.days - 1), spec.end_date)


def _custom_form(spec: TimeRangeSpec, *, today: date, max_days: int) -> DateRange:
    if spec.from_ is None or spec.to is None:
        raise BadUserInputError("timeRange: from and to go together; give both")
    _not_after_today("to", spec.to, today)
    _not_too_early("timeRange.from", spec.from_)
    if spec.from_ > spec.to:
        raise BadUserInputError(f"timeRange.from ({spec.from_}) is after timeRange.to ({spec.to})")
    span = DateRange(spec.from_, spec.to)
    if span.days > max_days:
        raise BadUserInputError(f"timeRange spans {span.days} days; at most {max_days} are allowed")
    return span


def _not_after_today(name: str, value: date, today: date) -> None:
    if value > today:
        raise BadUserInputError(f"timeRange.{name} ({value}) is after today ({today}, UTC)")


def parse_month(text: str, *, argument: str) -> date:
    """Parse ``"YYYY-MM"`` into the first day of that month.

    Raises:
        BadUserInputError: ``text`` is not a valid ``YYYY-MM`` month.
    """
    try:
        year, month = (int(part) for part in text.split("-"))
        if len(text) != 7:
            raise ValueError(text)
        return date(year, month, 1)
    except ValueError:
        raise BadUserInputError(f"{argument} must be a month as YYYY-MM, not {text!r}") from None


def previous_month_start(month: date) -> date:
    """The first day of the month before ``month``'s first day.

    >>> previous_month_start(date(2026, 1, 1))
    datetime.date(2025, 12, 1)
    """
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def month_ranges(first: date, last: date, *, today: date) -> list[DateRange]:
    """The calendar months from ``first``'s to ``last``'s, each a :class:`DateRange`.

    Raises:
        BadUserInputError: reversed, more than :data:`MAX_MONTHS` months, or after today's month.
    """
    if first > last:
        raise BadUserInputError(f"from ({first:%Y-%m}) is after to ({last:%Y-%m})")
    # The month before the first is its previous value.
    _not_too_early("from", first)
    _not_too_early("from's previous month", previous_month_start(first))
    if last > today.replace(day=1):
        raise BadUserInputError(f"to ({last:%Y-%m}) is after the current month ({today:%Y-%m})")
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    if count > MAX_MONTHS:
        raise BadUserInputError(f"{count} months asked; at most {MAX_MONTHS} are allowed")
    # The current month is answered as far as it has gone.
    end = min(last.replace(day=calendar.monthrange(last.year, last.month)[1]), today)
    return DateRange(first, end).buckets(Granularity.MONTH)
