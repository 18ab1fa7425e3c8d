"""Read replicas: which database a request's snapshot transaction reads from.

``GATEWAY_DATABASE_REPLICA_URLS`` names PostgreSQL streaming replicas of the primary
(``GATEWAY_DATABASE_URL``). A request's :class:`~gateway.loaders.snapshot.SnapshotReader`
asks :meth:`ReadRouter.choose` for an engine when it opens its read transaction; everything
else (ingest, refreshes, API keys and their ``last_used_at``, the catalog, the generation
tracker) stays on the primary. The catalog stays there because it is real time: the response
cache keys it by the newest catalog batch the primary holds, and a lagging replica would store
an older catalog under that key.

A replica is chosen when it has replayed at least the snapshot the process tracks (the
:class:`~gateway.store.generation.GenerationTracker`'s, read on the primary): each replica's
newest snapshot id is read with one indexed statement at most every ``poll_seconds`` and
cached. A replica behind it (replay paused or lagging) is passed over and the primary answers,
so a response is never older than what the process already announced. The read transaction
then reads the newest snapshot *of the chosen database*, so one response never mixes
snapshots. A replica whose connection fails, or that does not answer within ``open_seconds``
(behind pgbouncer a dead server is no refused connection: the statement waits in pgbouncer's
queue), is skipped for ``down_seconds``; the reader retries on the primary, so the request
does not fail.

``/metrics`` shows where reads go: ``gateway_db_read_transactions_total{database}`` (``primary``
or a replica's ``host:port/name``), ``gateway_db_replica_skipped_total{replica, reason}``
(``behind``: it has not replayed the tracked snapshot; ``down``: its connection failed
recently) and ``gateway_db_replica_snapshot{replica}`` (the newest snapshot id it replayed, -1
while down).

Example:
    >>> router = ReadRouter(primary, [replica], lambda: 12, poll_seconds=1,
    ...                     down_seconds=10)                       # doctest: +SKIP
    >>> await router.choose() is replica  # it replayed snapshot 12  # doctest: +SKIP
    True
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client import Counter, Gauge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.settings import Settings
from gateway.store.db import create_engine
from gateway.store.rollup_tables import snapshots

logger = logging.getLogger("gateway.store.replicas")
T = TypeVar("T")

READS = Counter(
    "gateway_db_read_transactions_total",
    "Snapshot read transactions opened, by database: primary, or a replica's host:port/name.",
    ["database"],
)
SKIPPED = Counter(
    "gateway_db_replica_skipped_total",
    "Times a read replica was passed over: behind (it has not replayed the snapshot the "
    "process serves) or down (its connection failed recently).",
    ["replica", "reason"],
)
REPLAYED = Gauge(
    "gateway_db_replica_snapshot",
    "Newest snapshot id a read replica has replayed, as last checked (-1: down).",
    ["replica"],
    multiprocess_mode="livemax",
)


def database_label(engine: AsyncEngine) -> str:
    """``host:port/database`` of ``engine`` (no user or password): a metric label."""
    url = engine.url
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


@dataclass(slots=True)
class _Replica:
    engine: AsyncEngine
    name: str
    """The replica's metric label (:func:`database_label`)."""
    replayed: int = -1
    """The newest snapshot id the replica holds (-1: not read yet)."""
    read_at: float = float("-inf")
    down_until: float = float("-inf")
    checking: bool = False
    """A read of ``replayed`` is under way: other requests use the last value meanwhile."""


class ReadRouter:
    """Chooses the database of each request's read transaction (see the module doc).

    Attributes:
        primary: The primary's engine (writes, and reads no replica can serve).
    """

    def __init__(
        self,
        primary: AsyncEngine,
        replicas: Sequence[AsyncEngine],
        tracked: Callable[[], int | None],
        *,
        poll_seconds: float,
        down_seconds: float,
        open_seconds: float = 5.0,
    ) -> None:
        self.primary = primary
        self._replicas = [_Replica(engine, database_label(engine)) for engine in replicas]
        self._turn = itertools.count()
        self._tracked = tracked
        self.poll_seconds = poll_seconds
        self.down_seconds = down_seconds
        self.open_seconds = open_seconds
        """Longest wait for a replica's connection and first answer
        (``GATEWAY_DB_CONNECT_TIMEOUT_SECONDS``)."""

    @classmethod
    def create(
        cls, settings: Settings, primary: AsyncEngine, tracked: Callable[[], int | None]
    ) -> ReadRouter | None:
        """The router of ``settings`` (None without replicas); its replica engines are
        bounded like the primary's (``GATEWAY_DB_POOL_SIZE`` each, statement timeout)."""
        if not settings.replica_urls:
            return None
        replicas = [create_engine(settings, bounded=True, url=url) for url in settings.replica_urls]
        return cls(
            primary,
            replicas,
            tracked,
            poll_seconds=settings.cache_poll_seconds,
            down_seconds=settings.database_replica_down_seconds,
            open_seconds=settings.db_connect_timeout_seconds,
        )

    @property
    def replicas(self) -> list[AsyncEngine]:
        """The replicas' engines, in configuration order."""
        return [replica.engine for replica in self._replicas]

    async def choose(self) -> AsyncEngine:
        """A healthy replica that has replayed the tracked snapshot (round robin), else the
        primary (also while the process has read no snapshot yet)."""
        wanted = self._tracked()
        if wanted is not None and self._replicas:
            start = next(self._turn)
            for offset in range(len(self._replicas)):
                replica = self._replicas[(start + offset) % len(self._replicas)]
                replayed = await self._replayed(replica)
                if replayed >= wanted:
                    READS.labels(replica.name).inc()
                    return replica.engine
                SKIPPED.labels(replica.name, "down" if replayed < 0 else "behind").inc()
        READS.labels("primary").inc()
        return self.primary

    def mark_down(self, engine: AsyncEngine) -> None:
        """Skip ``engine`` (a replica whose connection failed) for ``down_seconds``."""
        for replica in self._replicas:
            if replica.engine is engine:
                logger.warning(
                    "read replica %s is down; skipping it for %ss",
                    engine.url.render_as_string(hide_password=True),
                    self.down_seconds,
                )
                replica.down_until = time.monotonic() + self.down_seconds
                replica.replayed, replica.read_at = -1, float("-inf")
                REPLAYED.labels(replica.name).set(-1)

    def open_bound(self, engine: AsyncEngine) -> float | None:
        """How long opening a read on ``engine`` may take: :attr:`open_seconds` for a
        replica (past it, it counts as down), None for the primary (its own timeouts)."""
        return self.open_seconds if self.is_replica(engine) else None

    def is_replica(self, engine: AsyncEngine) -> bool:
        """True when ``engine`` is one of the replicas (not the primary)."""
        return any(replica.engine is engine for replica in self._replicas)

    async def dispose(self) -> None:
        """Close the replicas' pools (the primary's is its owner's)."""
        for replica in self._replicas:
            await replica.engine.dispose()

    async def _replayed(self, replica: _Replica) -> int:
        """The replica's newest snapshot id, re-read every ``poll_seconds`` (-1: down)."""
        now = time.monotonic()
        if now < replica.down_until:
            return -1
        if now - replica.read_at < self.poll_seconds or replica.checking:
            # One check at a time: a slow replica delays one request, not all of them.
            return replica.replayed
        replica.checking = True
        try:
            async with asyncio.timeout(self.open_seconds), replica.engine.connect() as conn:
                newest = await conn.scalar(select(func.max(snapshots.c.id)))
        except Exception as exc:  # any failure, or no answer in time: not usable now
            logger.info("read replica check failed (%s)", type(exc).__name__)
            self.mark_down(replica.engine)
            return -1
        finally:
            replica.checking = False
        replica.replayed, replica.read_at = int(newest or 0), time.monotonic()
        REPLAYED.labels(replica.name).set(replica.replayed)
        return replica.replayed


async def bounded(work: Awaitable[T], seconds: float | None) -> T:
    """``await work``, within ``seconds`` when given; past them a :class:`ConnectionError`
    (the database counts as unreachable: :func:`~gateway.store.db_faults.is_unavailable`)."""
    if seconds is None:
        return await work
    try:
        async with asyncio.timeout(seconds):
            return await work
    except TimeoutError as exc:
        raise ConnectionError(f"the database did not answer within {seconds} s") from exc
