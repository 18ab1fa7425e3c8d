"""Operational endpoints: ``/healthz``, ``/readyz`` and ``/metrics``.

``/healthz`` says the process serves HTTP and does no I/O, so a slow database never gets a
healthy process restarted. ``/readyz`` says the process can answer queries: the database
must answer ``SELECT 1`` within :data:`READY_TIMEOUT_SECONDS`, otherwise it is 503 and a load
balancer stops routing here until it recovers.

``/metrics`` exposes prometheus_client's default registry in the Prometheus text format, or,
under ``gateway serve --workers N``, every worker's values summed
(:mod:`gateway.web.metrics_registry`).

Example:
    $ curl -s localhost:8000/readyz
    {"status":"ready"}
"""

from __future__ import annotations

import asyncio

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from gateway.web.metrics_registry import collecting_registry
from gateway.web.observability import publish_snapshot_age
from gateway.web.services import services

READY_TIMEOUT_SECONDS = 2.0
"""How long ``/readyz`` waits for the database before answering 503."""

_NO_CACHE = {"Cache-Control": "no-store"}


def _json(body: dict[str, str], status_code: int) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status_code,
        media_type="application/json",
        headers=_NO_CACHE,
    )


async def healthz(request: Request) -> Response:
    """200 while the process is alive; touches nothing else."""
    del request
    return _json({"status": "alive"}, 200)


async def check_database(
    engine: AsyncEngine, limit_seconds: float = READY_TIMEOUT_SECONDS
) -> str | None:
    """Run ``SELECT 1``; return None when it answered within ``limit_seconds``, else why not.

    The reason names the failure class but not its message, which may contain the database
    address or user name: the probe is unauthenticated.
    """
    try:
        async with asyncio.timeout(limit_seconds):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    except TimeoutError:
        return f"database did not answer within {limit_seconds:g} s"
    except Exception as exc:  # any driver or network failure means "not ready"
        return f"database unavailable ({type(exc).__name__})"
    return None


def pool_exhausted(engine: AsyncEngine, capacity: int) -> bool:
    """True when every one of the pool's ``capacity`` connections is checked out (a query
    would wait for one): the process is then not ready, whatever ``SELECT 1`` would say."""
    checked_out = getattr(engine.pool, "checkedout", None)  # NullPool (SQLite) has none
    return checked_out is not None and checked_out() >= capacity


async def readyz(request: Request) -> Response:
    """200 when the database answers ``SELECT 1`` quickly and the pool has a free connection,
    else 503 with a JSON reason."""
    app = services(request.scope)
    engine, capacity = app.engine, 2 * app.settings.db_pool_size  # pool_size + max_overflow
    if pool_exhausted(engine, capacity):
        return _json({"status": "unavailable", "reason": "database connection pool exhausted"}, 503)
    reason = await check_database(engine)
    if reason is None:
        return _json({"status": "ready"}, 200)
    return _json({"status": "unavailable", "reason": reason}, 503)


async def metrics(request: Request) -> Response:
    """This process's, or all workers', Prometheus metrics in the text exposition format."""
    del request
    publish_snapshot_age()
    body = generate_latest(collecting_registry())
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers=_NO_CACHE)
