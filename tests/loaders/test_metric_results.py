"""The metric-results loaders: one cache lookup per batch, histories only for the misses, every
computed result handed to the cache, cached results decoded as they were encoded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, cast

from gateway.domain import EntityRef, Filters, Granularity
from gateway.loaders.cell_history import CellHistoryLoader, HistoryKey
from gateway.loaders.metric_cache import MetricCache, MetricKey
from gateway.loaders.metric_results import (
    MetricQuery,
    MetricSeriesLoader,
    MetricValueLoader,
    MonthlyActiveUsersLoader,
    MonthlyQuery,
)
from gateway.loaders.snapshot import SnapshotReader
from gateway.metrics.cell_days import CellHistory, DayRollup
from gateway.metrics.cells import cell_of
from gateway.metrics.timerange import DateRange

CELL = cell_of(EntityRef.workspace("w"), Filters())
SPAN = DateRange(date(2026, 11, 2), date(2026, 11, 3))


class Results:
    """A metric results cache holding ``stored``, recording lookups and puts."""

    def __init__(self, stored: dict[MetricKey, bytes] | None = None) -> None:
        self.stored = dict(stored or {})
        self.lookups: list[list[MetricKey]] = []
        self.put_keys: list[MetricKey] = []

    async def get_many(self, keys: Sequence[MetricKey]) -> list[bytes | None]:
        self.lookups.append(list(keys))
        return [self.stored.get(key) for key in keys]

    def put(self, key: MetricKey, encode: Callable[[], bytes]) -> None:
        self.put_keys.append(key)
        self.stored[key] = encode()


class Histories:
    """A history loader answering every key with two days of launches, recording the keys."""

    def __init__(self) -> None:
        self.loaded: list[HistoryKey] = []

    async def load_many(self, keys: Sequence[HistoryKey]) -> list[CellHistory]:
        self.loaded.extend(keys)
        days = {
            date(2026, 11, 2): DayRollup(date(2026, 11, 2), launches=3),
            date(2026, 11, 3): DayRollup(date(2026, 11, 3), launches=2),
        }
        return [CellHistory(key.start, {d: r for d, r in days.items() if d >= key.start})
                for key in keys]  # fmt: skip


def _loaders(results: Results, histories: Histories) -> tuple[Any, Any, Any]:
    cache, loader = cast(MetricCache, results), cast(CellHistoryLoader, histories)
    return (
        MetricValueLoader(cache, loader),
        MetricSeriesLoader(cache, loader),
        MonthlyActiveUsersLoader(cache, loader),
    )


async def test_a_batch_looks_up_once_and_computes_only_the_misses() -> None:
    cached = MetricQuery("pageViews", CELL, SPAN)
    results, histories = Results({cached.cache_key: b"[9.0,1.0,8.0,8.0]"}), Histories()
    values, _, _ = _loaders(results, histories)
    launches = MetricQuery("launches", CELL, SPAN)
    found = await asyncio.gather(values.load(launches), values.load(cached))
    assert results.lookups == [[launches.cache_key, cached.cache_key]]  # one lookup
    assert histories.loaded == [launches.history_key]  # the miss only
    assert results.put_keys == [launches.cache_key]
    assert found[0].value == 5.0
    assert found[1].value == 9.0  # as cached, not recomputed


async def test_a_result_computed_once_is_served_from_the_cache() -> None:
    results = Results()
    first_values, first_series, _ = _loaders(results, Histories())
    query = MetricQuery("launches", CELL, SPAN)
    value = await first_values.load(query)
    points = await first_series.load(query.at(Granularity.DAY))
    again = Histories()
    values, series, _ = _loaders(results, again)  # the next request: fresh loaders
    assert await values.load(query) == value
    assert list(await series.load(query.at(Granularity.DAY))) == list(points)
    assert again.loaded == []
    assert [p.value for p in points] == [3.0, 2.0]


async def test_monthly_active_users_round_trip_through_the_cache() -> None:
    results = Results()
    months = (DateRange(date(2026, 10, 1), date(2026, 10, 31)),
              DateRange(date(2026, 11, 1), date(2026, 11, 3)))  # fmt: skip
    query = MonthlyQuery(CELL, months)
    _, _, monthly = _loaders(results, Histories())
    computed = await monthly.load(query)
    assert query.history_key.start == date(2026, 9, 1)  # the month before the first
    assert query.history_key.bitmaps
    _, _, again = _loaders(results, Histories())
    assert list(await again.load(query)) == list(computed)
    assert [m.month for m in computed] == [date(2026, 10, 1), date(2026, 11, 1)]


def test_without_a_cache_no_result_is_encoded() -> None:
    """Encoding a result (a 90-point series: a millisecond) is only paid to write it."""
    cache = MetricCache(None, cast(SnapshotReader, object()), 1800.0, 60.0)

    def encode() -> bytes:
        raise AssertionError("a result was encoded with no cache to write it to")

    cache.put(MetricCache.key("pageViews", CELL, SPAN), encode)
