"""What a cached response depends on besides the request: the data's generation.

A response reflects the latest snapshot (metrics) and the catalog as of the newest ingest
batch that wrote catalog records (catalog fields are real time). :class:`GenerationTracker`
keeps both for the process, re-reading them at most every ``poll_seconds`` (one indexed
statement each), so the response cache's lookup costs no database round trip. A response
computed while the tracker was behind is never stored under the older generation: the view
checks that the snapshot it read is the tracker's (see :mod:`gateway.web.response_cache`).

Example:
    >>> tracker = GenerationTracker(engine, poll_seconds=1.0)   # doctest: +SKIP
    >>> (await tracker.current()).token                        # doctest: +SKIP
    's12.c4051'
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.errors import GatewayError
from gateway.store.db_faults import read_retrying
from gateway.store.rollup import NO_SNAPSHOT, Snapshot, read_latest_snapshot
from gateway.store.tables import ingest_batches

logger = logging.getLogger("gateway.store.generation")


@dataclass(frozen=True, slots=True)
class Generation:
    """The latest snapshot and the catalog's version.

    Attributes:
        snapshot: The latest snapshot (:data:`~gateway.store.rollup.NO_SNAPSHOT` before the
            first refresh).
        catalog_version: The newest ingest batch that wrote catalog records (0: none).
    """

    snapshot: Snapshot
    catalog_version: int

    @property
    def token(self) -> str:
        """A short text naming the generation, for cache keys."""
        return f"s{self.snapshot.id}.c{self.catalog_version}"


async def read_generation(engine: AsyncEngine) -> Generation:
    """The generation as the database says now."""
    async with engine.connect() as conn:
        snapshot = await read_latest_snapshot(conn)
        catalog = await conn.scalar(
            select(func.max(ingest_batches.c.id)).where(ingest_batches.c.catalog_stored > 0)
        )
    return Generation(snapshot or NO_SNAPSHOT, int(catalog or 0))


class GenerationTracker:
    """The process's view of :class:`Generation`, at most ``poll_seconds`` old."""

    def __init__(self, engine: AsyncEngine, poll_seconds: float) -> None:
        self.engine = engine
        self.poll_seconds = poll_seconds
        self._current: Generation | None = None
        self._read_at = 0.0
        self._lock = asyncio.Lock()

    async def current(self) -> Generation:
        """The generation, re-read when older than ``poll_seconds`` (one reader at a time).

        While the database cannot be read, the last generation read stays current (cached
        answers keep being served) and the next read is tried ``poll_seconds`` later.

        Raises:
            ServiceUnavailableError: the database cannot be read and no generation was read
                before.
        """
        if self._current is not None and time.monotonic() - self._read_at < self.poll_seconds:
            return self._current
        async with self._lock:
            if self._current is None or time.monotonic() - self._read_at >= self.poll_seconds:
                try:
                    self._current = await read_retrying(lambda: read_generation(self.engine))
                except GatewayError as exc:
                    if self._current is None:
                        raise
                    logger.warning("keeping generation %s: %s", self._current.token, exc)
                self._read_at = time.monotonic()
            return self._current

    @property
    def last(self) -> Generation | None:
        """The generation last read (no I/O), None before the first read."""
        return self._current

    def invalidate(self) -> None:
        """Re-read on the next call (after this process ingested or refreshed)."""
        self._read_at = 0.0
