"""A bulkhead for ingestion: at most ``GATEWAY_INGEST_CONCURRENCY`` bodies of ``POST /v1/events``
are ingested at once per process, so ingests waiting on a database lock can never hold every
pooled connection while queries wait. A body that finds no free slot within
``GATEWAY_DB_POOL_TIMEOUT_SECONDS`` is answered 503 with ``Retry-After`` (events are
idempotent on ``id``: sending the body again stores nothing twice).

Example:
    >>> route = Route("/v1/events", bulkheaded(post_events), methods=["POST"])  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import orjson
from prometheus_client import Counter
from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import ErrorCode
from gateway.web.services import services

Endpoint = Callable[[Request], Awaitable[Response]]
RETRY_AFTER_SECONDS = 2

BULKHEAD_REFUSED = Counter(
    "gateway_ingest_bulkhead_refused_total",
    "POST /v1/events bodies answered 503 because every ingest slot stayed busy",
)


def bulkheaded(endpoint: Endpoint) -> Endpoint:
    """``endpoint`` run in one of the app's ingest slots, or 503 when none frees in time."""

    async def guarded(request: Request) -> Response:
        app = services(request.scope)
        slots, wait = app.ingest_slots, app.settings.db_pool_timeout_seconds
        try:
            async with asyncio.timeout(wait):
                await slots.acquire()
        except TimeoutError:
            BULKHEAD_REFUSED.inc()
            return _busy()
        try:
            return await endpoint(request)
        finally:
            slots.release()

    return guarded


def _busy() -> Response:
    body = {
        "error": {
            "code": ErrorCode.SERVICE_UNAVAILABLE.value,
            "message": "the gateway is ingesting as many bodies as it may at once; "
            f"send this one again in {RETRY_AFTER_SECONDS} s",
            "retryAfter": RETRY_AFTER_SECONDS,
        }
    }
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return Response(orjson.dumps(body), 503, headers=headers, media_type="application/json")
