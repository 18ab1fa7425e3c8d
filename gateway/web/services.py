"""The services one gateway process answers with, in one typed object, and the configuration
they are built from.

:func:`gateway.app.create_app` settles the configuration (:class:`AppConfig`, on
``app.state.config``); the app's lifespan builds the services from it, once per process: the
database engine, the snapshot cache, the rate limiter and cost budget (None when off), the
persisted queries and the response cache, the ingest slots. They live on
``app.state.services``; handlers reach them with :func:`services`. A test mounting one route
builds the ones it needs; the others stay None.

Example:
    >>> services(request.scope).settings.max_query_bytes  # doctest: +SKIP
    1048576
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import Scope

from gateway.cache.snapshot_cache import SnapshotCache
from gateway.schema import GatewaySchema
from gateway.settings import Settings
from gateway.store.replicas import ReadRouter
from gateway.web.budget import CostBudget
from gateway.web.live.hub import LiveHub
from gateway.web.persisted import PersistedQueries
from gateway.web.ratelimit import RateLimiter
from gateway.web.response_cache import ResponseCache
from gateway.web.tracing import Tracing
from gateway.web.trusted import TrustedDocuments


@dataclass(frozen=True, slots=True)
class AppConfig:
    """What :func:`create_app` settles before the lifespan builds the services: the settings,
    the executable schema (live evaluations run it), the versions of the role matrix and
    query limits (response cache keys include them) and
    the trusted documents (None: any document may run) and the tracing (None: off)."""

    settings: Settings
    schema: GatewaySchema
    matrix_version: str
    limits_version: str
    trusted: TrustedDocuments | None
    tracing: Tracing | None = None


@dataclass(slots=True, kw_only=True)
class Services:
    """What the process answers with (see the module docstring).

    Attributes:
        settings: The process configuration.
        engine: The database engine (one pool per process).
        cache: The snapshot cache behind metric results, persisted queries and responses.
        ingest_slots: The ``POST /v1/events`` bodies that may be ingested at once (the
            bulkhead), ``GATEWAY_INGEST_CONCURRENCY`` of them.
        rate_limiter: Per-caller request buckets; None when ``GATEWAY_RATE_LIMIT`` is 0.
        cost_budget: Per-caller cost windows; None when ``GATEWAY_COST_BUDGET`` is 0.
        persisted: Automatic persisted queries and trusted documents.
        responses: The response cache of ``/graphql``; None answers every request in full.
        live: The live subscriptions' hub (WebSocket at ``/graphql``); None refuses them.
        reads: Chooses a read replica for each ``/graphql`` request's snapshot transaction;
            None without ``GATEWAY_DATABASE_REPLICA_URLS``.
    """

    settings: Settings
    engine: AsyncEngine
    cache: SnapshotCache | None = None
    ingest_slots: asyncio.Semaphore = field(init=False)
    rate_limiter: RateLimiter | None = None
    cost_budget: CostBudget | None = None
    persisted: PersistedQueries | None = None
    responses: ResponseCache | None = None
    live: LiveHub | None = None
    reads: ReadRouter | None = None

    def __post_init__(self) -> None:
        self.ingest_slots = asyncio.Semaphore(self.settings.ingest_concurrency)


def services(scope: Scope) -> Services:
    """The services of the app serving ``scope`` (set by its lifespan)."""
    found: Services = scope["app"].state.services
    return found
