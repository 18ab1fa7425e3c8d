"""Layer (a) of the snapshot cache: computed metric values and series, shared by every caller.

A metric result depends only on the metric, its rollup cell (scope and filters), the days and
the snapshot, never on who asks: the field's authorization already decided the caller may ask
(SPEC §7). Keys are ``cache_key("metric", "s<snapshot>", metric, cell..., start, end[,
granularity])`` on the snapshot the request reads. The metric-results loaders
(:mod:`gateway.loaders.metric_results`) look a batch up with one ``get_many`` and hand the
values they computed to :meth:`MetricCache.put`; those are written in one ``set_many`` when
the request's context closes, and live until the next snapshot is due plus the grace period.

Example:
    >>> found = await cache.get_many([MetricCache.key("activeUsers", cell, span)])  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from datetime import date

import orjson

from gateway.cache.instruments import count_computation
from gateway.cache.keys import cache_key
from gateway.cache.snapshot_cache import SnapshotCache
from gateway.loaders.snapshot import Snapshot, SnapshotReader
from gateway.metrics.aggregate import MetricPoint, MetricValue
from gateway.metrics.cells import CellKey
from gateway.metrics.timerange import DateRange

LAYER = "metric"

MetricKey = tuple[str, ...]
"""Metric, cell (scope, data type, type, category), first and last day[, granularity]."""


def encode_value(value: MetricValue) -> bytes:
    """A metric value as cached JSON (its series are cached separately)."""
    return orjson.dumps([value.value, value.previous_value, value.change, value.change_rate])


def decode_value(data: bytes) -> MetricValue:
    """The inverse of :func:`encode_value`."""
    value, previous, change, rate = orjson.loads(data)
    return MetricValue(value, previous, change, rate)


def encode_points(points: Sequence[MetricPoint]) -> bytes:
    """A series as cached JSON."""
    return orjson.dumps([[p.date.isoformat(), p.value] for p in points])


def decode_points(data: bytes) -> list[MetricPoint]:
    """The inverse of :func:`encode_points`."""
    return [MetricPoint(date.fromisoformat(day), value) for day, value in orjson.loads(data)]


class MetricCache:
    """One request's view of layer (a); a no-op without a cache.

    Args:
        cache: The process's cache, or None (tests, tools): every lookup misses.
        reader: The request's snapshot (keys name it).
        refresh_interval: Seconds between snapshots (entries expire when the next is due).
        grace_seconds: Added to that lifetime.
    """

    def __init__(
        self,
        cache: SnapshotCache | None,
        reader: SnapshotReader,
        refresh_interval: float,
        grace_seconds: float,
    ) -> None:
        self._cache = cache
        self._reader = reader
        self._refresh_interval = refresh_interval
        self._grace = grace_seconds
        self._pending: dict[MetricKey, bytes] = {}

    @staticmethod
    def key(name: str, cell: CellKey, span: DateRange, *more: str) -> MetricKey:
        """What names metric ``name`` of ``cell`` over ``span`` (the snapshot is added when
        the key is looked up or written: the one the request reads)."""
        return (name, cell.scope, cell.data_type, cell.mp_type, cell.category,
                span.start.isoformat(), span.end.isoformat(), *more)  # fmt: skip

    async def get_many(self, keys: Sequence[MetricKey]) -> list[bytes | None]:
        """The cached values of ``keys``, in order (None: not cached), in one lookup on the
        snapshot the request reads."""
        if self._cache is None or not keys:
            return [None] * len(keys)
        snapshot = await self._reader.snapshot()
        full = [_full(snapshot.id, key) for key in keys]
        found = await self._cache.get_many(LAYER, full, self._ttl(snapshot))
        return [found.get(key) for key in full]

    def put(self, key: MetricKey, encode: Callable[[], bytes]) -> None:
        """Remember a computed value, encoded by ``encode`` only when there is a cache to
        write it to (by :meth:`flush`)."""
        count_computation(LAYER)
        if self._cache is not None:
            self._pending[key] = encode()

    async def flush(self) -> None:
        """Write the values computed by this request (one ``set_many``)."""
        state = self._reader.state
        if self._cache is None or not self._pending or state is None or state.taken_at is None:
            return
        items, self._pending = self._pending, {}
        ttl = self._ttl(state)
        await self._cache.set_many(LAYER, {_full(state.id, k): v for k, v in items.items()}, ttl)

    def _ttl(self, snapshot: Snapshot) -> float:
        """Seconds an entry of ``snapshot`` lives (:meth:`Snapshot.entry_ttl`); 0 before the
        first refresh: nothing is kept."""
        if snapshot.taken_at is None:
            return 0.0
        now = dt.datetime.now(dt.UTC)
        return snapshot.entry_ttl(self._refresh_interval, self._grace, now)


def _full(snapshot_id: int, key: MetricKey) -> str:
    return cache_key(LAYER, f"s{snapshot_id}", *key)
