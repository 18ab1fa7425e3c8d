"""The ASGI application: :func:`create_app` wires settings, the database and the routes.

Routes:

======================  ========  ==========================================================
``/graphql``            GET/POST  GraphQL over HTTP; GraphiQL for browsers (offline assets)
``/graphql``            WebSocket subscriptions (graphql-transport-ws; :mod:`gateway.web.live`)
``/export``             POST      a query's result as an xlsx workbook or a zip of CSV files
``/schema.graphql``     GET       the printed SDL, directives included (text/plain)
``/v1/events``          POST      ingest a JSON array or JSON Lines body
``/healthz``            GET       liveness: 200 while the process runs, no I/O
``/readyz``             GET       readiness: 200 when the database answers, else 503
``/metrics``            GET       Prometheus metrics (the default registry)
``/dashboard``          GET       the reference dashboard (static page using ``/graphql``)
``/static/...``         GET       GraphiQL's and the dashboard's assets, cacheable for a year
======================  ========  ==========================================================

Example:
    $ uvicorn --factory gateway.app:create_app
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from gateway.authz.matrix_file import configured_matrix
from gateway.authz.tokens import check_jwt_settings
from gateway.cache.snapshot_cache import SnapshotCache
from gateway.resolvers.sealing import install_cursor_secret
from gateway.schema import QueryLimits, build_schema
from gateway.settings import Settings, load_settings
from gateway.store.db import create_engine
from gateway.store.generation import GenerationTracker
from gateway.store.ingest import configure_ingest
from gateway.store.replicas import ReadRouter
from gateway.web.budget import CostBudget
from gateway.web.bulkhead import bulkheaded
from gateway.web.cache_fast_path import FastHits
from gateway.web.connection_guard import guarded_protocol
from gateway.web.cors import cors_middleware
from gateway.web.dashboard import dashboard_page
from gateway.web.events import post_events
from gateway.web.export.route import ExportEndpoint
from gateway.web.graphql import STATIC_DIR, STATIC_PREFIX, GatewayGraphQL
from gateway.web.health import healthz, metrics, readyz
from gateway.web.live.evaluation import Evaluator
from gateway.web.live.hub import LiveHub
from gateway.web.metrics_registry import process_exiting
from gateway.web.observability import watch_snapshot
from gateway.web.persisted import PersistedQueries
from gateway.web.ratelimit import RateLimiter
from gateway.web.refresher import refreshing
from gateway.web.request_log import RequestLog, configure_logging
from gateway.web.response_cache import ResponseCache
from gateway.web.services import AppConfig, Services
from gateway.web.tracing import Tracing
from gateway.web.trusted import TrustedDocuments

STATIC_CACHE_CONTROL = "public, max-age=31536000, immutable"
"""Asset URLs carry a content hash (``?v=``), so a browser may keep them for a year."""


class CachedStaticFiles(StaticFiles):
    """:class:`StaticFiles` whose successful responses are cacheable for a year."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        """Serve ``path`` and mark successful answers immutable."""
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = STATIC_CACHE_CONTROL
        return response


def _schema_endpoint(sdl: str) -> Route:
    body = sdl.encode()

    async def schema_graphql(request: Request) -> Response:
        del request
        return PlainTextResponse(body)

    return Route("/schema.graphql", schema_graphql, methods=["GET"])


@asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    # The engine is created here, not in create_app, so each worker process (and each test
    # client) opens its own pool inside its own event loop.
    config: AppConfig = app.state.config
    settings = config.settings
    engine = create_engine(settings, bounded=True)  # GATEWAY_DB_STATEMENT_TIMEOUT_MS
    cache = SnapshotCache.create(settings)
    tracker = GenerationTracker(engine, settings.cache_poll_seconds)
    watch_snapshot(lambda: tracker.last.snapshot.taken_at if tracker.last else None)
    reads = ReadRouter.create(
        settings, engine, lambda: tracker.last.snapshot.id if tracker.last else None
    )
    if config.tracing is not None:  # a span per SQL statement, on the primary or a replica
        for database in (engine, *(reads.replicas if reads is not None else ())):
            config.tracing.instrument(database)
    limiter, budget = RateLimiter.create(settings), CostBudget.create(settings)
    persisted = PersistedQueries(
        cache,
        settings.persisted_query_ttl_seconds,
        config.trusted,
        settings.persisted_queries_per_principal,
    )
    responses = ResponseCache(
        cache,
        tracker,
        matrix_version=config.matrix_version,
        refresh_interval=settings.refresh_interval_seconds,
        grace_seconds=settings.cache_grace_seconds,
        limits_version=config.limits_version,
        documents=persisted.known,
    )
    evaluator = Evaluator(
        config.schema,
        engine,
        settings,
        cache,
        refresh_interval=settings.refresh_interval_seconds,
        grace_seconds=settings.cache_grace_seconds,
        reads=reads,
    )
    live = LiveHub(evaluator, tracker, settings, engine)
    app.state.services = Services(
        settings=settings,
        engine=engine,
        cache=cache,
        rate_limiter=limiter,
        cost_budget=budget,
        persisted=persisted,
        responses=responses,
        live=live,
        reads=reads,
    )
    # Start-up built a large, long-lived heap (schema, SQLAlchemy, strawberry). Freezing it
    # keeps the cyclic collector's full passes off it: measured under load, they stalled every
    # request in flight for 60-78 ms a dozen times in 16 s (the p99 of a cache hit).
    gc.collect()
    gc.freeze()
    # Young collections every 20,000 net allocations instead of 700, older ones rarer too: a
    # cached hit allocates little that lives, and fewer passes cut the hit's p99
    # (bench cached: 10.3-12.1 -> 7.6-10.3 ms on the same host, docs/benchmarks.md).
    gc.set_threshold(20_000, 50, 100)
    try:
        async with refreshing(settings, engine), live.running():
            yield
    finally:
        if limiter is not None:
            await limiter.close()
        if budget is not None:
            await budget.close()
        await cache.close()
        if reads is not None:
            await reads.dispose()
        await engine.dispose()
        if config.tracing is not None:
            config.tracing.shutdown()  # exports what is still queued
        process_exiting()  # a stopped worker's live gauges leave the multiprocess sums


def _seal_cursors(settings: Settings) -> None:
    """Install the key that seals cursors: every process of a deployment must share it."""
    secret = settings.cursor_secret or settings.jwt_secret
    if secret is None:
        logging.getLogger("gateway").warning(
            "neither GATEWAY_CURSOR_SECRET nor GATEWAY_JWT_SECRET is set: cursors are sealed "
            "with a key of this process only (set GATEWAY_CURSOR_SECRET to page across processes)"
        )
        return
    install_cursor_secret(secret.get_secret_value().encode())


def create_app(
    settings: Settings | None = None, *, graphiql_headers: Mapping[str, str] | None = None
) -> Starlette:
    """Build the gateway's ASGI application.

    Args:
        settings: The configuration; None reads it from ``GATEWAY_*`` environment variables
            (what ``uvicorn --factory gateway.app:create_app`` does in each worker).
        graphiql_headers: Request headers pre-filled in GraphiQL's headers editor (the demo
            passes a development token); None leaves the editor empty.

    Raises:
        AuthConfigError: ``GATEWAY_JWT_PUBLIC_KEY_FILE`` cannot be read or is not a usable key.
        MatrixError: ``GATEWAY_ROLE_MATRIX_FILE`` cannot be read, or names an unknown role,
            type, field or argument.
        ManifestError: ``GATEWAY_TRUSTED_DOCUMENTS_FILE`` cannot be read or is not a valid
            manifest.

    Returns:
        A Starlette app holding its configuration in ``app.state.config``
        (:class:`AppConfig`), whose lifespan builds the services
        (:class:`~gateway.web.services.Services`, ``app.state.services``: the database engine,
        caches, limiters) and closes them on shutdown.
    """
    settings = settings if settings is not None else load_settings()
    check_jwt_settings(settings)  # a bad key file stops the start (AuthConfigError)
    _seal_cursors(settings)
    guarded_protocol(settings)  # this process's connection bounds (a worker's own settings)
    configure_ingest(settings)
    # GATEWAY_ROLE_MATRIX_FILE is validated here: a bad file stops the start (MatrixError).
    limits = QueryLimits(
        depth=settings.max_query_depth,
        aliases=settings.max_query_aliases,
        tokens=settings.max_query_tokens,
        directives=settings.max_query_directives,
        cost=settings.max_query_cost,
        allow_batching=settings.allow_batching,
    )
    schema = build_schema(configured_matrix(settings.role_matrix_file), limits)
    # Printed once: the SDL (with the matrix's directives) is static for the process's life.
    sdl = schema.as_str() + "\n"
    graphql = GatewayGraphQL(
        schema,
        graphiql_headers=graphiql_headers,
        # The WebSocket handshake is not covered by CORS: strawberry checks its Origin against
        # the same allowlist (same-origin pages and non-browser clients are always let in).
        allowed_origins=settings.cors_allowed_origins,
    )
    # Only the static mount is compressed: GraphiQL's bundle shrinks 3.5 MB -> ~1 MB, while
    # GraphQL responses stay on the fast path (no extra buffering or CPU per request).
    static = GZipMiddleware(CachedStaticFiles(directory=STATIC_DIR), compresslevel=6)
    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"], name="graphql"),
        WebSocketRoute("/graphql", graphql, name="graphql_ws"),
        Route("/export", ExportEndpoint(graphql, schema), methods=["POST"], name="export"),
        _schema_endpoint(sdl),
        Route("/v1/events", bulkheaded(post_events), methods=["POST"], name="events"),
        Route("/healthz", healthz, methods=["GET"], name="healthz"),
        Route("/readyz", readyz, methods=["GET"], name="readyz"),
        Route("/metrics", metrics, methods=["GET"], name="metrics"),
        Route("/dashboard", dashboard_page, methods=["GET"], name="dashboard"),
        Mount(STATIC_PREFIX, app=static, name="static"),
    ]
    configure_logging(settings.log_format, settings.log_level)
    # GATEWAY_OTEL_ENABLED: the request span wraps everything, fast hits included.
    tracing = Tracing.configured(settings)
    middleware = [
        *(tracing.middleware() if tracing is not None else ()),
        Middleware(RequestLog),
        *cors_middleware(settings),
        Middleware(FastHits),
    ]
    app = Starlette(routes=routes, lifespan=_lifespan, middleware=middleware)
    app.state.config = AppConfig(
        settings=settings,
        schema=schema,
        matrix_version=schema.authz.matrix.version,
        limits_version=limits.version,
        # A bad trusted-documents manifest stops the start (ManifestError).
        trusted=TrustedDocuments.configured(
            settings.trusted_documents_file, settings.trusted_documents_for
        ),
        tracing=tracing,
    )
    return app
