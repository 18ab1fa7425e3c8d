"""Prometheus instruments of live subscriptions (served on ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

CONNECTIONS = Gauge(
    "gateway_live_connections",
    "WebSocket connections to /graphql open now (acknowledged)",
    multiprocess_mode="livesum",  # across workers: the server's total
)
SUBSCRIPTIONS = Gauge(
    "gateway_live_subscriptions",
    "Live subscriptions (`live` and `snapshots`) running now",
    multiprocess_mode="livesum",
)
TOPICS = Gauge(
    "gateway_live_documents",
    "Distinct live evaluations held now: document, variables and grants (each evaluated once "
    "per snapshot however many subscribe)",
    multiprocess_mode="livesum",  # each worker evaluates its own
)
PUSHES = Counter(
    "gateway_live_pushes_total", "`next` messages sent to subscriptions (first answers included)"
)
COMPUTATIONS = Counter(
    "gateway_live_computations_total",
    "Live evaluations this process executed (one per distinct evaluation and snapshot)",
)
SHARED = Counter(
    "gateway_live_shared_total",
    "Live evaluations answered by another's computation: the cache (another process through "
    "Redis) or a computation already running",
)
CLOSED = Counter(
    "gateway_live_closed_total",
    "WebSocket connections the gateway closed, by reason",
    ["reason"],
)
REFUSED = Counter(
    "gateway_live_refused_total",
    "Subscribe messages answered with an `error` message, by code",
    ["code"],
)
