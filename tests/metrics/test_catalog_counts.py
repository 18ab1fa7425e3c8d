"""``gateway.metrics.catalog_counts`` and ``merchant_onboarding`` against a brute force.

"By day D" = before D + 1 day 00:00 UTC, so instants exactly at midnight are drawn often.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from gateway.domain import Granularity, MerchantType, MiniProgramType, TypeFilter
from gateway.metrics.catalog_counts import (
    CatalogEntry,
    CountMetric,
    CumulativeCounter,
    counts_by,
    matching,
)
from gateway.metrics.merchant_onboarding import OnboardingHistory
from gateway.metrics.timerange import DateRange

ORIGIN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
INSTANTS = st.builds(
    lambda day, seconds, midnight: (
        ORIGIN + dt.timedelta(days=day, seconds=0 if midnight else seconds)
    ),
    st.integers(0, 120),
    st.integers(0, 86_399),
    st.booleans(),
)
SPANS = st.builds(
    lambda start, length: DateRange(
        ORIGIN.date() + dt.timedelta(days=start), ORIGIN.date() + dt.timedelta(days=start + length)
    ),
    st.integers(0, 100),
    st.integers(0, 40),
)


def _end(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(days=1)


def test_midnight_belongs_to_its_own_day() -> None:
    counter = CumulativeCounter([dt.datetime(2026, 1, 2, tzinfo=dt.UTC)])
    assert counter.by_day(dt.date(2026, 1, 1)) == 0
    assert counter.by_day(dt.date(2026, 1, 2)) == 1
    assert counter.within(DateRange(dt.date(2026, 1, 2), dt.date(2026, 1, 2))) == 1


@given(st.lists(INSTANTS, max_size=30), SPANS, st.sampled_from(list(Granularity)), st.booleans())
def test_count_metric_matches_brute_force(
    instants: list[dt.datetime], span: DateRange, granularity: Granularity, cumulative: bool
) -> None:
    def over(first: dt.date, last: dt.date) -> int:
        low = _end(first - dt.timedelta(days=1))
        return sum((cumulative or at >= low) and at < _end(last) for at in instants)

    metric = CountMetric(CumulativeCounter(instants), span, cumulative=cumulative)
    value, previous = metric.value(), span.previous()
    assert value.value == over(span.start, span.end)
    assert value.previous_value == over(previous.start, previous.end)
    points = metric.series(granularity)
    assert [p.value for p in points] == [over(b.start, b.end) for b in span.buckets(granularity)]
    if not cumulative:
        assert sum(p.value for p in points) == value.value


def test_matching_and_counts_by() -> None:
    def entry(i: int, type_: MiniProgramType, category: str, day: int) -> CatalogEntry:
        return CatalogEntry(f"mp-{i}", ORIGIN + dt.timedelta(days=day), type_, category, "wallet")

    entries = [
        entry(1, MiniProgramType.MINI_GAME, "games", 0),
        entry(2, MiniProgramType.MINI_PROGRAM, "games", 1),
        entry(3, MiniProgramType.MINI_PROGRAM, "travel", 2),
    ]
    assert [e.id for e in matching(entries, TypeFilter.MINI_PROGRAM)] == ["mp-2", "mp-3"]
    assert [e.id for e in matching(entries, TypeFilter.ALL, "games")] == ["mp-1", "mp-2"]
    assert counts_by(entries, lambda e: e.category, ORIGIN.date() + dt.timedelta(days=1)) == {
        "games": 2
    }


@given(st.lists(st.tuples(st.sampled_from(list(MerchantType)), INSTANTS), max_size=20), SPANS)
def test_onboarding_daily_series(
    pairs: list[tuple[MerchantType, dt.datetime]], span: DateRange
) -> None:
    history = OnboardingHistory(pairs)
    points = history.daily(span)
    assert [p.date for p in points] == list(span.each_day())
    for point in points:
        for kind, new, cumulative in (
            (MerchantType.TECHNICAL, point.new_technical, point.cumulative_technical),
            (MerchantType.NON_TECHNICAL, point.new_non_technical, point.cumulative_non_technical),
        ):
            times = [at for t, at in pairs if t is kind]
            assert cumulative == sum(at < _end(point.date) for at in times)
            assert new == sum(
                _end(point.date) - dt.timedelta(days=1) <= at < _end(point.date) for at in times
            )
    assert history.new(span).value().value == sum(
        p.new_technical + p.new_non_technical for p in points
    )
    last = points[-1]
    assert (
        history.total(span).value().value
        == last.cumulative_technical + last.cumulative_non_technical
    )
