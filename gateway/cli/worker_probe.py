"""``gateway worker``'s own HTTP server: ``/healthz`` and ``/metrics`` of the refresh loop.

``/healthz`` is 200 while refreshes succeed on time; 503 once the last refresh failed or the
last success is older than twice the interval plus :data:`GRACE_SECONDS` (a stuck or failing
worker gets restarted). ``/metrics`` serves prometheus_client's default registry:

* ``gateway_worker_refresh_duration_seconds``: histogram of refresh times (failed ones too);
* ``gateway_worker_refreshes_total{outcome}``: refreshes by ``ok`` / ``failed``;
* ``gateway_worker_events_folded_total`` and ``gateway_worker_events_last_refresh``: events
  folded into the rollups, in all and by the last refresh;
* ``gateway_worker_ingested_records_total{outcome}``: the ingest rate of the whole
  deployment: records of the batches each snapshot folded, whichever process ingested them,
  by ``stored`` / ``duplicate`` / ``quarantined``
  (``rate(gateway_worker_ingested_records_total[5m])``);
* ``gateway_worker_raw_events_dropped_total``: raw events the retention cuts dropped
  (``GATEWAY_RAW_EVENT_RETENTION_DAYS``);
* ``gateway_worker_snapshot_age_seconds``: age of the last snapshot this worker made.

Example:
    $ GATEWAY_WORKER_PORT=9100 gateway worker &
    $ curl -s localhost:9100/healthz
    {"status":"ok","last_success_age_seconds":12.3}
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import orjson
import uvicorn
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.store.rollup import Snapshot
from gateway.store.rollup.retention import Retention
from gateway.store.status import Intake

GRACE_SECONDS = 60.0
"""Added to twice the interval before a missing success makes ``/healthz`` answer 503."""

DURATION = Histogram(
    "gateway_worker_refresh_duration_seconds",
    "Time a refresh took, failed ones included.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
REFRESHES = Counter("gateway_worker_refreshes_total", "Refreshes by outcome.", ["outcome"])
EVENTS = Counter("gateway_worker_events_folded_total", "Events folded into the rollups.")
LAST_EVENTS = Gauge(
    "gateway_worker_events_last_refresh",
    "Events the last successful refresh folded in.",
    multiprocess_mode="livemostrecent",
)
INGESTED = Counter(
    "gateway_worker_ingested_records_total",
    "Records of the ingest batches folded into snapshots, by outcome (any ingesting process).",
    ["outcome"],
)
DROPPED = Counter(
    "gateway_worker_raw_events_dropped_total",
    "Raw events dropped by the retention cuts (GATEWAY_RAW_EVENT_RETENTION_DAYS).",
)
SNAPSHOT_AGE = Gauge(
    "gateway_worker_snapshot_age_seconds",
    "Age of the last snapshot this worker made (NaN before the first).",
    multiprocess_mode="livemax",
)


@dataclass
class WorkerHealth:
    """What the refresh loop reports; what ``/healthz`` and the gauges read."""

    interval: float
    started: float = field(default_factory=time.monotonic)
    last_success: float | None = None
    last_failed: bool = False

    def succeeded(self, info: Snapshot, seconds: float) -> None:
        """Record a refresh that made ``info`` in ``seconds``."""
        DURATION.observe(seconds)
        REFRESHES.labels(outcome="ok").inc()
        EVENTS.inc(info.events)
        LAST_EVENTS.set(info.events)
        self.last_success, self.last_failed = time.monotonic(), False

    @staticmethod
    def folded(intake: Intake, cut: Retention | None) -> None:
        """Record what a snapshot's batches held and what its retention cut dropped."""
        INGESTED.labels(outcome="stored").inc(intake.stored)
        INGESTED.labels(outcome="duplicate").inc(intake.duplicates)
        INGESTED.labels(outcome="quarantined").inc(intake.quarantined)
        if cut is not None:
            DROPPED.inc(cut.dropped)

    def failed(self, seconds: float) -> None:
        """Record a refresh that failed after ``seconds`` (rolled back)."""
        DURATION.observe(seconds)
        REFRESHES.labels(outcome="failed").inc()
        self.last_failed = True

    def success_age(self) -> float:
        """Seconds since the last success (since start before the first)."""
        return time.monotonic() - (self.last_success or self.started)

    def problem(self) -> str | None:
        """Why the worker is unhealthy, or None."""
        if self.last_failed:
            return "the last refresh failed"
        if self.success_age() > 2 * self.interval + GRACE_SECONDS:
            return "no successful refresh for longer than twice the interval"
        return None


def probe_app(health: WorkerHealth) -> Starlette:
    """The worker's Starlette app: ``/healthz`` and ``/metrics``."""

    async def healthz(request: Request) -> Response:
        del request
        problem = health.problem()
        body: dict[str, object] = {"status": "ok" if problem is None else "failing"}
        if problem is not None:
            body["reason"] = problem
        body["last_success_age_seconds"] = round(health.success_age(), 3)
        status = 200 if problem is None else 503
        return Response(orjson.dumps(body), status, media_type="application/json")

    async def metrics(request: Request) -> Response:
        del request
        age = float("nan") if health.last_success is None else health.success_age()
        SNAPSHOT_AGE.set(age)
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    routes = [Route("/healthz", healthz), Route("/metrics", metrics)]
    return Starlette(routes=routes)


async def start_probe(health: WorkerHealth, host: str, port: int) -> uvicorn.Server:
    """Bind and start the probe server (stop it with :func:`stop_probe`)."""
    app = probe_app(health)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    config.load()
    server = uvicorn.Server(config)
    # uvicorn's own serve() would also take over SIGTERM and run a main loop; the refresh
    # loop is this process's main loop, so only the socket part is used.
    server.lifespan = config.lifespan_class(config)
    await server.startup()
    if not server.started:
        raise OSError(f"gateway worker: cannot serve /healthz on {host}:{port}")
    return server


async def stop_probe(server: uvicorn.Server) -> None:
    """Close the probe server's socket and connections."""
    server.should_exit = True
    await server.shutdown()
