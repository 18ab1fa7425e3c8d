"""Prometheus instruments of the cache, registered once in prometheus_client's default registry.

``/metrics`` (gateway/web/health.py) exposes them with everything else in that registry:

- ``gateway_cache_requests_total{layer, result}``: one per key looked up; ``result`` is ``hit``,
  ``miss`` (computed, or shared another caller's computation) or ``error`` (Redis failed or the
  breaker was open: the caller got a miss and computed from the database).
- ``gateway_cache_computations_total{layer}``: calls of ``compute()`` actually made.
- ``gateway_cache_breaker_open``: 1 while the Redis circuit breaker is open (or half-open).
  It counts open breakers, which is 0 or 1 in a server (one cache per process).
"""

from __future__ import annotations

from typing import Any, Literal

from prometheus_client import Counter, Gauge

Result = Literal["hit", "miss", "error"]

REQUESTS = Counter(
    "gateway_cache_requests",
    "Cache lookups by layer and result (hit, miss, error = Redis unavailable, computed anyway).",
    ["layer", "result"],
)
COMPUTATIONS = Counter(
    "gateway_cache_computations",
    "Values actually computed (from the database) after a cache miss, by layer.",
    ["layer"],
)
BREAKER_OPEN = Gauge(
    "gateway_cache_breaker_open",
    "1 while the Redis circuit breaker is open (Redis skipped, answers come from the database).",
    multiprocess_mode="livemax",  # across workers: 1 while any worker's breaker is open
)


def count_lookups(layer: str, result: Result, n: int = 1) -> None:
    """Add ``n`` lookups of ``layer`` with ``result`` (nothing when ``n`` is 0)."""
    if n:
        child = _LOOKUPS.get((layer, result))
        if child is None:  # labels() takes a lock and builds a key: once per pair
            child = _LOOKUPS[(layer, result)] = REQUESTS.labels(layer=layer, result=result)
        child.inc(n)


_LOOKUPS: dict[tuple[str, str], Any] = {}


def count_computation(layer: str) -> None:
    """Record one call of a ``compute()`` function for ``layer``."""
    COMPUTATIONS.labels(layer=layer).inc()


def breaker_changed(is_open: bool) -> None:
    """Publish a breaker opening (``True``) or closing (``False``).

    The gauge counts open breakers, so several caches in one process (tests) stay consistent;
    a server has one, so it reads 0 or 1.
    """
    if is_open:
        BREAKER_OPEN.inc()
    else:
        BREAKER_OPEN.dec()
