"""Prometheus metrics of the HTTP layer (``/metrics``; the cache's own are in
:mod:`gateway.cache.instruments`).

* ``gateway_http_requests_total{path, method, status}``: requests answered;
* ``gateway_http_request_duration_seconds{path}``: latency histogram, fine-grained below 10 ms
  (a cache hit's range);
* ``gateway_graphql_responses_total{cache}``: ``/graphql`` answers by cache outcome (``hit``,
  ``shared``, ``miss``, ``bypass``);
* ``gateway_snapshot_age_seconds``: age of the latest snapshot this process knows of (under
  ``gateway serve --workers N``, the process answering the scrape: it sets it just then).

Paths are the app's routes (``/graphql``, ``/v1/events``, ...); anything else is ``other``, so
a scan of random URLs cannot grow the label set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram
from starlette.types import Message, Send

from gateway.web.metrics_registry import multiprocess_dir

KNOWN_PATHS = frozenset(
    {
        "/graphql",
        "/export",
        "/dashboard",
        "/schema.graphql",
        "/v1/events",
        "/healthz",
        "/readyz",
        "/metrics",
    }
)

REQUESTS = Counter(
    "gateway_http_requests_total", "HTTP requests answered.", ["path", "method", "status"]
)
LATENCY = Histogram(
    "gateway_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["path"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
GRAPHQL = Counter(
    "gateway_graphql_responses_total", "/graphql answers by cache outcome.", ["cache"]
)
SNAPSHOT_AGE = Gauge(
    "gateway_snapshot_age_seconds",
    "Age of the latest snapshot known to this process.",
    multiprocess_mode="livemostrecent",  # the value the scraped worker set while answering
)
_WATCHED: list[Callable[[], float]] = []


def watch_snapshot(taken_at: Callable[[], dt.datetime | None]) -> None:
    """Report the snapshot's age from ``taken_at()`` at each scrape (no I/O then)."""

    def age() -> float:
        moment = taken_at()
        return (dt.datetime.now(dt.UTC) - moment).total_seconds() if moment else float("nan")

    # A function gauge is read in the process that collects; workers' value files cannot run
    # it, so in multiprocess mode ``/metrics`` sets the value before collecting.
    if multiprocess_dir() is None:
        SNAPSHOT_AGE.set_function(age)
    else:
        _WATCHED[:] = [age]


def publish_snapshot_age() -> None:
    """Write the watched snapshot's age now (multiprocess mode; a no-op otherwise)."""
    for age in _WATCHED:
        SNAPSHOT_AGE.set(age())


class StatusSend:
    """A ``send`` that remembers the response's status (0 until a response starts) and
    adds ``headers`` to it.

    Args:
        send: The ``send`` to pass messages on to.
        headers: Headers added to the response start, e.g. ``[(b"x-request-id", b"...")]``.
    """

    def __init__(self, send: Send, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self._send = send
        self._headers = headers or []
        self.status = 0

    async def __call__(self, message: Message) -> None:
        """Note the status of a response start, then pass the message on."""
        if message["type"] == "http.response.start":
            self.status = message["status"]
            if self._headers:
                message["headers"] = [*message.get("headers", ()), *self._headers]
        await self._send(message)
