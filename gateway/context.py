"""The typed per-request context every resolver receives as ``info.context``.

Example:
    >>> context = Context.create(engine, settings, request)  # doctest: +SKIP
    >>> await context.loaders.workspace.load("ws-1")  # doctest: +SKIP

A context may hold an open read transaction (the metrics' snapshot, SPEC §7): close it when the
response is complete, with ``await context.close()`` or ``async with Context.create(...)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.websockets import WebSocket

from gateway.authz.principal import Principal
from gateway.cache.snapshot_cache import SnapshotCache
from gateway.limits.cost_limit import CostAccount
from gateway.loaders import Loaders
from gateway.loaders.snapshot import SnapshotReader
from gateway.settings import Settings
from gateway.store.replicas import ReadRouter


@dataclass(frozen=True, slots=True)
class Context:
    """What one GraphQL request runs with.

    Attributes:
        settings: The process configuration.
        engine: The database engine (loaders open one connection per batch).
        request: The HTTP request (None when a schema is executed directly, e.g. in tests).
        loaders: This request's dataloaders; never shared between requests.
        now: When the request started (UTC). Every "today" of the request derives from it,
            so one response never straddles midnight.
        principal: The authenticated caller, or None (every guarded field then answers
            ``UNAUTHENTICATED``; the HTTP layer answers 401 before executing anything).
        cost: The request's cost account (the cost limit charges its meter and records the
            operation's cost in it); the HTTP layer passes the request's own.
    """

    settings: Settings
    engine: AsyncEngine
    request: Request | WebSocket | None
    loaders: Loaders
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    principal: Principal | None = None
    cost: CostAccount = field(default_factory=CostAccount)

    @property
    def reader(self) -> SnapshotReader:
        """The request's snapshot: one read transaction, opened on first use (SPEC §7)."""
        return self.loaders.snapshot

    async def close(self) -> None:
        """Write the metric results computed by this request to the cache, then end its
        read transaction, if one was opened (idempotent)."""
        try:
            await self.loaders.metric_cache.flush()
        finally:
            await self.loaders.snapshot.close()

    async def __aenter__(self) -> Context:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def max_range_days(self) -> int:
        """The longest time range a request may ask (``GATEWAY_MAX_RANGE_DAYS``)."""
        return self.settings.max_range_days

    @property
    def today(self) -> dt.date:
        """The request's UTC date: "today" of time-range presets and bounds."""
        return self.now.astimezone(dt.UTC).date()

    @classmethod
    def create(
        cls,
        engine: AsyncEngine,
        settings: Settings,
        request: Request | WebSocket | None = None,
        *,
        now: dt.datetime | None = None,
        principal: Principal | None = None,
        cache: SnapshotCache | None = None,
        cost: CostAccount | None = None,
        reads: ReadRouter | None = None,
    ) -> Context:
        """A context with fresh loaders for one request (``now`` defaults to the clock);
        ``cache`` backs the metric results layer (None: no caching); ``reads`` chooses a read
        replica for the snapshot's transaction (None: ``engine``)."""
        return cls(
            settings=settings,
            engine=engine,
            request=request,
            loaders=Loaders.create(
                engine,
                cache,
                refresh_interval=settings.refresh_interval_seconds,
                grace_seconds=settings.cache_grace_seconds,
                router=reads,
            ),
            now=now or dt.datetime.now(dt.UTC),
            principal=principal,
            cost=cost or CostAccount(),
        )
