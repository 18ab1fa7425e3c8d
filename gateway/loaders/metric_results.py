"""Metric results: one metric of one cell over a range, as a value or as a series, and
``monthlyActiveUsers`` over months.

A batch is "cache lookup, then one query for the misses": every :class:`MetricQuery` of a tick
is looked up in the metric results cache in one ``get_many`` (:class:`MetricCache`); the misses
load their cells' histories through the history loader (its own batch: a constant number of
statements for every cell), are computed, and are handed to the cache, which writes them when
the request's context closes. Resolvers only turn arguments into a :class:`MetricQuery`.

A value and a series of one metric need the same history (the previous period's first day to
R's last day): the history loader keeps what it read for the request, so a series computed after
its value reads nothing again.

Example:
    >>> query = MetricQuery("activeUsers", cell, span)                           # doctest: +SKIP
    >>> value = await loaders.metric_values.load(query)                         # doctest: +SKIP
    >>> points = await loaders.metric_series.load(query.at(Granularity.WEEK))   # doctest: +SKIP
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Generic, Protocol, TypeVar

import orjson
from aiodataloader import DataLoader

from gateway.domain import Granularity
from gateway.loaders.cell_history import CellHistoryLoader, HistoryKey
from gateway.loaders.metric_cache import (
    MetricCache,
    MetricKey,
    decode_points,
    decode_value,
    encode_points,
    encode_value,
)
from gateway.loaders.tracing import traced_batch
from gateway.metrics.aggregate import (
    MetricPoint,
    MetricValue,
    MonthValue,
    metric_value,
    monthly_active_users,
    series,
)
from gateway.metrics.cell_days import CellHistory
from gateway.metrics.cells import CellKey
from gateway.metrics.registry import REGISTRY
from gateway.metrics.timerange import DateRange, previous_month_start

T = TypeVar("T")

MONTHLY = "monthlyActiveUsers"


@dataclass(frozen=True, slots=True)
class MetricQuery:
    """Metric ``name`` of ``cell`` over ``span``: its value against the previous period, or
    (with ``granularity``) its series.

    Attributes:
        name: A metric of the registry (``activeUsers``).
        cell: The rollup cell (scope and filters).
        span: The range R.
        granularity: None for the value; the buckets of the series otherwise.
    """

    name: str
    cell: CellKey
    span: DateRange
    granularity: Granularity | None = None

    def at(self, granularity: Granularity) -> MetricQuery:
        """The series of this metric at ``granularity``."""
        return replace(self, granularity=granularity)

    @property
    def cache_key(self) -> MetricKey:
        """Its key in the metric results cache (the snapshot is added there)."""
        more = () if self.granularity is None else (self.granularity.name,)
        return MetricCache.key(self.name, self.cell, self.span, *more)

    @property
    def history_key(self) -> HistoryKey:
        """The history it is computed from: the previous period's first day to R's last day,
        with the daily user bitmaps when a distinct count spans more than one day."""
        bitmaps = REGISTRY[self.name].needs_bitmaps and self.span.days > 1
        return HistoryKey(self.cell, self.span.previous().start, self.span.end, bitmaps)


@dataclass(frozen=True, slots=True)
class MonthlyQuery:
    """``monthlyActiveUsers`` of ``cell`` over ``months`` (each compared with the one before).

    Attributes:
        cell: The rollup cell (scope and filters).
        months: Consecutive calendar months, the current one clipped to today.
    """

    cell: CellKey
    months: tuple[DateRange, ...]

    @property
    def cache_key(self) -> MetricKey:
        """Its key in the metric results cache: the months' first and last day."""
        span = DateRange(self.months[0].start, self.months[-1].end)
        return MetricCache.key(MONTHLY, self.cell, span)

    @property
    def history_key(self) -> HistoryKey:
        """The month before the first through the last, with the daily user bitmaps."""
        before = previous_month_start(self.months[0].start)
        return HistoryKey(self.cell, before, self.months[-1].end, bitmaps=True)


class ResultQuery(Protocol):
    """What a metric-results loader needs of a query: hashable, its cache key and history."""

    def __hash__(self) -> int: ...

    @property
    def cache_key(self) -> MetricKey:
        """Its key in the metric results cache."""
        ...

    @property
    def history_key(self) -> HistoryKey:
        """The history it is computed from."""
        ...


Q = TypeVar("Q", bound=ResultQuery)


class _ResultLoader(DataLoader[Q, T], Generic[Q, T]):
    """A batch of metric results: cached ones from one lookup, the others computed from their
    histories (loaded in one batch) and handed to the cache."""

    def __init__(self, results: MetricCache, histories: CellHistoryLoader) -> None:
        self.results = results
        self.histories = histories
        super().__init__()

    @traced_batch
    async def batch_load_fn(self, keys: list[Q]) -> list[T]:
        """Answer ``keys`` in order (see the module docstring)."""
        cache_keys = [key.cache_key for key in keys]
        found = await self.results.get_many(cache_keys)
        missing = [i for i, data in enumerate(found) if data is None]
        loaded = await self.histories.load_many([keys[i].history_key for i in missing])
        computed: dict[Q, T] = {}
        for i, history in zip(missing, loaded, strict=True):
            result = computed[keys[i]] = self.compute(keys[i], history)
            self.results.put(cache_keys[i], functools.partial(self.encode, result))
        return [
            computed[key] if data is None else self.decode(data)
            for key, data in zip(keys, found, strict=True)
        ]

    def compute(self, query: Q, history: CellHistory) -> T:
        """The result of ``query`` from its history."""
        raise NotImplementedError

    def encode(self, result: T) -> bytes:
        """``result`` as cached bytes."""
        raise NotImplementedError

    def decode(self, data: bytes) -> T:
        """The inverse of :meth:`encode`."""
        raise NotImplementedError


class MetricValueLoader(_ResultLoader[MetricQuery, MetricValue]):
    """Metric values against their previous period (queries without granularity)."""

    def compute(self, query: MetricQuery, history: CellHistory) -> MetricValue:
        """The value over R and over the previous period."""
        return metric_value(query.name, history, query.span, None)

    def encode(self, result: MetricValue) -> bytes:
        """See :func:`encode_value`."""
        return encode_value(result)

    def decode(self, data: bytes) -> MetricValue:
        """See :func:`decode_value`."""
        return decode_value(data)


class MetricSeriesLoader(_ResultLoader[MetricQuery, Sequence[MetricPoint]]):
    """Metric series (queries with a granularity): one point per bucket of R."""

    def compute(self, query: MetricQuery, history: CellHistory) -> Sequence[MetricPoint]:
        """The metric over each bucket of R."""
        assert query.granularity is not None, "a series query names its granularity"
        return series(REGISTRY[query.name], history, query.span, query.granularity)

    def encode(self, result: Sequence[MetricPoint]) -> bytes:
        """See :func:`encode_points`."""
        return encode_points(result)

    def decode(self, data: bytes) -> Sequence[MetricPoint]:
        """See :func:`decode_points`."""
        return decode_points(data)


class MonthlyActiveUsersLoader(_ResultLoader[MonthlyQuery, Sequence[MonthValue]]):
    """``monthlyActiveUsers``: distinct users per month against the month before."""

    def compute(self, query: MonthlyQuery, history: CellHistory) -> Sequence[MonthValue]:
        """Each month's value from the history."""
        return monthly_active_users(history, query.months)

    def encode(self, result: Sequence[MonthValue]) -> bytes:
        """``[[month, value, previous, change, rate], ...]``."""
        return orjson.dumps([[m.month.isoformat(), *_values(m.metric)] for m in result])

    def decode(self, data: bytes) -> Sequence[MonthValue]:
        """The inverse of :meth:`encode`."""
        return [
            MonthValue(date.fromisoformat(month), MetricValue(*values))
            for month, *values in orjson.loads(data)
        ]


def _values(value: MetricValue) -> list[float | None]:
    return [value.value, value.previous_value, value.change, value.change_rate]
