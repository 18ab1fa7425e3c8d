"""The refresh worker inside the server process (``GATEWAY_REFRESH_IN_PROCESS``).

``gateway worker`` is the production way to build snapshots; for the demo (and a single-process
server) the app's lifespan can run the same loop as a background task instead: a refresh at
startup, then one every ``GATEWAY_REFRESH_INTERVAL_SECONDS``, cancelled on shutdown. Refreshes
are serialized by the database (an advisory lock on PostgreSQL, the write lock on SQLite), so
several processes doing this are safe, only redundant.

Example:
    >>> async with refreshing(settings, engine):   # doctest: +SKIP
    ...     await serve_requests()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.cache.announce import announce_snapshot
from gateway.settings import Settings
from gateway.store.rollup import refresh

logger = logging.getLogger("gateway.refresher")


async def refresh_forever(
    engine: AsyncEngine,
    interval: float,
    retention_days: int = 0,
    settings: Settings | None = None,
) -> None:
    """Refresh now and then every ``interval`` seconds, applying the raw events' retention
    and announcing each snapshot (with ``settings``' Redis); a failure is logged and
    retried."""
    while True:
        try:
            info = await refresh(engine, retention_days=retention_days)
            logger.info("snapshot %d: %d new events", info.id, info.events)
            if settings is not None:
                await announce_snapshot(settings, info.id)
        except Exception:
            logger.exception("in-process refresh failed; retrying in %s seconds", interval)
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def refreshing(settings: Settings, engine: AsyncEngine) -> AsyncIterator[None]:
    """Run :func:`refresh_forever` while the block runs, when the settings ask for it."""
    if not settings.refresh_in_process:
        yield
        return
    task = asyncio.create_task(
        refresh_forever(
            engine,
            settings.refresh_interval_seconds,
            settings.raw_event_retention_days,
            settings,
        ),
        name="gateway-refresh",
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
