"""Time ranges (SPEC §3): every form, every bound, previous periods and buckets."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.domain import Granularity, TimeRangePreset
from gateway.errors import BadUserInputError
from gateway.metrics.timerange import (
    EARLIEST_DAY,
    MAX_MONTHS,
    DateRange,
    TimeRangeSpec,
    month_ranges,
    parse_month,
    resolve_time_range,
)

TODAY = date(2026, 11, 23)  # a Monday


def _resolve(**kwargs: object) -> DateRange:
    return resolve_time_range(TimeRangeSpec(**kwargs), today=TODAY)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        (TimeRangePreset.TODAY, TODAY, TODAY),
        (TimeRangePreset.YESTERDAY, date(2026, 11, 22), date(2026, 11, 22)),
        (TimeRangePreset.LAST_7_DAYS, date(2026, 11, 16), date(2026, 11, 22)),
        (TimeRangePreset.LAST_15_DAYS, date(2026, 11, 8), date(2026, 11, 22)),
        (TimeRangePreset.LAST_30_DAYS, date(2026, 10, 24), date(2026, 11, 22)),
    ],
)
def test_presets_end_yesterday_except_today(
    preset: TimeRangePreset, start: date, end: date
) -> None:
    assert _resolve(preset=preset) == DateRange(start, end)


def test_days_and_end_date_end_on_end_date() -> None:
    assert _resolve(days=7, end_date=date(2026, 11, 1)) == DateRange(
        date(2026, 10, 26), date(2026, 11, 1)
    )
    assert _resolve(days=1, end_date=TODAY) == DateRange(TODAY, TODAY)


def test_custom_range_is_inclusive() -> None:
    r = _resolve(from_=date(2026, 9, 1), to=date(2026, 9, 30))
    assert (r.start, r.end, r.days) == (date(2026, 9, 1), date(2026, 9, 30), 30)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of"),
        ({"preset": TimeRangePreset.TODAY, "days": 3}, "exactly one of"),
        ({"days": 3, "from_": date(2026, 1, 1)}, "exactly one of"),
        ({"days": 3}, "days and endDate go together"),
        ({"end_date": TODAY}, "days and endDate go together"),
        ({"days": 0, "end_date": TODAY}, "between 1 and 90"),
        ({"days": 91, "end_date": TODAY}, "between 1 and 90"),
        ({"days": 1, "end_date": TODAY + timedelta(days=1)}, "after today"),
        ({"from_": date(2026, 1, 1)}, "from and to go together"),
        ({"from_": TODAY, "to": TODAY + timedelta(days=1)}, "after today"),
        ({"from_": date(2026, 11, 2), "to": date(2026, 11, 1)}, "is after timeRange.to"),
        ({"from_": TODAY - timedelta(days=90), "to": TODAY}, "spans 91 days"),
    ],
)
def test_bad_input_says_what_to_fix(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(BadUserInputError, match=message) as caught:
        _resolve(**kwargs)
    assert caught.value.extensions["code"] == "BAD_USER_INPUT"


def test_the_bound_is_configurable_and_inclusive() -> None:
    spec = TimeRangeSpec(from_=TODAY - timedelta(days=89), to=TODAY)
    assert resolve_time_range(spec, today=TODAY).days == 90
    with pytest.raises(BadUserInputError, match="at most 30"):
        resolve_time_range(spec, today=TODAY, max_days=30)


def test_week_buckets_are_iso_weeks_clipped() -> None:
    # Wednesday 2026-11-04 .. Tuesday 2026-11-17
    r = DateRange(date(2026, 11, 4), date(2026, 11, 17))
    assert r.buckets(Granularity.WEEK) == [
        DateRange(date(2026, 11, 4), date(2026, 11, 8)),
        DateRange(date(2026, 11, 9), date(2026, 11, 15)),
        DateRange(date(2026, 11, 16), date(2026, 11, 17)),
    ]


def test_month_buckets_are_calendar_months_clipped() -> None:
    r = DateRange(date(2024, 1, 30), date(2024, 3, 2))
    assert r.buckets(Granularity.MONTH) == [
        DateRange(date(2024, 1, 30), date(2024, 1, 31)),
        DateRange(date(2024, 2, 1), date(2024, 2, 29)),
        DateRange(date(2024, 3, 1), date(2024, 3, 2)),
    ]


days = st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31))


@given(days, st.integers(min_value=0, max_value=400), st.sampled_from(list(Granularity)))
def test_buckets_partition_the_range(start: date, length: int, granularity: Granularity) -> None:
    r = DateRange(start, start + timedelta(days=length))
    buckets = r.buckets(granularity)
    assert buckets[0].start == r.start
    assert buckets[-1].end == r.end
    assert sum(b.days for b in buckets) == r.days
    for before, after in itertools.pairwise(buckets):
        assert after.start == before.end + timedelta(days=1)
    for b in buckets[1:]:  # every bucket but the first starts on its unit's boundary
        if granularity is Granularity.WEEK:
            assert b.start.weekday() == 0
        if granularity is Granularity.MONTH:
            assert b.start.day == 1


@given(days, st.integers(min_value=0, max_value=400))
def test_previous_period_has_equal_length_and_ends_the_day_before(start: date, n: int) -> None:
    r = DateRange(start, start + timedelta(days=n))
    p = r.previous()
    assert p.days == r.days
    assert p.end == r.start - timedelta(days=1)


def test_months() -> None:
    assert parse_month("2026-02", argument="from") == date(2026, 2, 1)
    for bad in ("2026-2", "2026-13", "26-02", "2026/02", "x"):
        with pytest.raises(BadUserInputError, match="YYYY-MM"):
            parse_month(bad, argument="from")
    ranges = month_ranges(date(2026, 10, 1), date(2026, 11, 1), today=TODAY)
    assert ranges == [
        DateRange(date(2026, 10, 1), date(2026, 10, 31)),
        DateRange(date(2026, 11, 1), TODAY),  # the current month, as far as it has gone
    ]
    with pytest.raises(BadUserInputError, match="after the current month"):
        month_ranges(date(2026, 11, 1), date(2026, 12, 1), today=TODAY)
    with pytest.raises(BadUserInputError, match=f"at most {MAX_MONTHS}"):
        month_ranges(date(2024, 11, 1), date(2026, 11, 1), today=TODAY)
    with pytest.raises(BadUserInputError, match="is after to"):
        month_ranges(date(2026, 11, 1), date(2026, 10, 1), today=TODAY)


EDGE_DAYS = st.one_of(
    st.dates(max_value=date(1970, 6, 1)),
    st.sampled_from([date.min, date(1, 1, 2), date(1969, 12, 31), date(1970, 1, 1)]),
)


@settings(max_examples=300, deadline=None)
@given(day=EDGE_DAYS, days=st.integers(1, 90), other=EDGE_DAYS)
def test_any_date_is_a_range_or_bad_input_never_an_overflow(
    day: date, days: int, other: date
) -> None:
    """Issue 14.6: a date far in the past answers BAD_USER_INPUT; when a range is served, its
    previous period starts on or after EARLIEST_DAY (so no arithmetic leaves the calendar)."""
    today = date(2026, 12, 5)
    for spec in (
        TimeRangeSpec(days=days, end_date=day),
        TimeRangeSpec(from_=min(day, other), to=max(day, other)),
    ):
        try:
            span = resolve_time_range(spec, today=today)
        except BadUserInputError:
            continue
        assert span.previous().start >= EARLIEST_DAY
    first = day.replace(day=1)
    try:
        months = month_ranges(first, max(first, other.replace(day=1)), today=today)
    except BadUserInputError:
        return
    assert months[0].start.replace(day=1) > EARLIEST_DAY
