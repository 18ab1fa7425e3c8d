"""Retention cohorts (SPEC §4 "Audience"): exact set operations on one cell's daily user sets.

A cohort is the users of one bucket of the cohort range at the table's granularity (buckets as
for series: weeks and months clipped to the range): with ``NEW_USERS`` those whose first launch
in the cell falls in the bucket (cohorts are disjoint and their sizes sum to ``newUsers``), with
``ACTIVE_USERS`` those with a launch in it. Period ``k`` is the whole calendar bucket ``k``
buckets after the cohort's own *unclipped* bucket; its users are the cohort's members with a
launch in it (one intersection cardinality each; a week's or month's users are united once and
shared by every cohort that asks for that period). A period that starts after ``today`` has no
value yet, one containing ``today`` counts as of the snapshot, and only one that ended before
``today`` is ``complete``.

This module does no I/O: the store hands it the cell's daily sets (:class:`DaySets`).

Example (users 1 and 2 new on Monday 2026-11-02, user 1 back on Tuesday):
    >>> from pyroaring import BitMap
    >>> days = DaySets(active={date(2026, 11, 2): BitMap([1, 2]), date(2026, 11, 3): BitMap([1])},
    ...                new={date(2026, 11, 2): BitMap([1, 2])})
    >>> table = retention(days, DateRange(date(2026, 11, 2), date(2026, 11, 2)),
    ...                   Granularity.DAY, 2, CohortKind.NEW_USERS, today=date(2026, 11, 3))
    >>> [(p.offset, p.users, p.rate, p.complete) for p in table.cohorts[0].periods]
    [(1, 1, 0.5, False), (2, None, None, False)]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

from pyroaring import BitMap

from gateway.domain import Granularity
from gateway.domain import RetentionCohortKind as CohortKind
from gateway.metrics.timerange import DateRange, bucket_end
from gateway.metrics.user_breakdowns import union_over

MAX_PERIODS: Mapping[Granularity, int] = {
    Granularity.DAY: 30,
    Granularity.WEEK: 12,
    Granularity.MONTH: 12,
}
"""The most periods a table may ask for, per granularity (SPEC §4)."""


@dataclass(frozen=True)
class DaySets:
    """One cell's users per UTC day: ``active`` (a launch that day) and ``new`` (first launch in
    the cell that day; read only for ``NEW_USERS`` cohorts). A missing day has none."""

    active: Mapping[date, BitMap] = field(default_factory=dict)
    new: Mapping[date, BitMap] = field(default_factory=dict)


class RetentionPeriod(NamedTuple):
    """One period of a cohort: ``users`` and ``rate`` are None before the period starts (a
    tuple: a 90 x 30 table makes 2,700 of them per request)."""

    offset: int
    start: date
    users: int | None
    rate: float | None
    complete: bool


@dataclass(frozen=True)
class RetentionCohort:
    """One cohort: its (clipped) bucket's first day, its size and its periods."""

    start: date
    size: int
    periods: list[RetentionPeriod]


@dataclass(frozen=True)
class RetentionTable:
    """A retention table: one row per cohort, one column per period."""

    granularity: Granularity
    cohort_kind: CohortKind
    cohorts: list[RetentionCohort]


def bucket_start(day: date, granularity: Granularity) -> date:
    """The first day of the calendar bucket holding ``day`` (the day, its ISO week's Monday,
    its month's first day)."""
    if granularity is Granularity.DAY:
        return day
    if granularity is Granularity.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def shifted(start: date, granularity: Granularity, buckets: int) -> date:
    """The first day of the bucket ``buckets`` after the one starting on ``start``."""
    if granularity is Granularity.DAY:
        return start + timedelta(days=buckets)
    if granularity is Granularity.WEEK:
        return start + timedelta(weeks=buckets)
    months = start.year * 12 + start.month - 1 + buckets
    return date(months // 12, months % 12 + 1, 1)


def span_needed(
    cohorts: DateRange, granularity: Granularity, periods: int, today: date
) -> DateRange:
    """The days a table reads: from the cohorts' first day to the end of the last cohort's last
    period, cut at ``today`` (a later day has no data yet)."""
    last = shifted(bucket_start(cohorts.end, granularity), granularity, periods)
    return DateRange(cohorts.start, min(bucket_end(last, granularity), max(today, cohorts.end)))


def retention(
    days: DaySets,
    cohorts: DateRange,
    granularity: Granularity,
    periods: int,
    kind: CohortKind,
    *,
    today: date,
) -> RetentionTable:
    """The retention table of ``cohorts`` (see the module docstring); ``periods`` is checked by
    the caller against :data:`MAX_PERIODS`."""
    members = days.new if kind is CohortKind.NEW_USERS else days.active
    returned: dict[date, BitMap] = {}  # period start -> users active in the period

    def active_in(start: date) -> BitMap:
        if start not in returned:
            returned[start] = union_over(
                days.active, DateRange(start, bucket_end(start, granularity))
            )
        return returned[start]

    width = {Granularity.DAY: 1, Granularity.WEEK: 7}.get(granularity)
    steps = None if width is None else [timedelta(days=width * k) for k in range(periods + 1)]
    rows = []
    for bucket in cohorts.buckets(granularity):
        cohort = union_over(members, bucket)
        size = len(cohort)
        own = bucket_start(bucket.start, granularity)
        cells = []
        for offset in range(1, periods + 1):
            # days and weeks: one addition (a 90 x 30 table starts 2,700 periods)
            start = own + steps[offset] if steps else shifted(own, granularity, offset)
            if start > today:
                cells.append(RetentionPeriod(offset, start, None, None, False))
                continue
            users = cohort.intersection_cardinality(active_in(start)) if size else 0
            rate = users / size if size else None
            ended = bucket_end(start, granularity) < today
            cells.append(RetentionPeriod(offset, start, users, rate, ended))
        rows.append(RetentionCohort(bucket.start, size, cells))
    return RetentionTable(granularity, kind, rows)
