"""``gateway refresh`` (build a snapshot now) and ``gateway worker`` (one every interval).

Example:
    $ gateway refresh            # fold events new since the last snapshot
    $ gateway refresh --full     # rebuild every rollup from all events
    $ gateway worker --interval-seconds 600
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.cache.announce import announce_snapshot
from gateway.cli.worker_probe import WorkerHealth, start_probe, stop_probe
from gateway.settings import Settings, load_settings
from gateway.store.db import create_engine
from gateway.store.rollup import Snapshot, refresh
from gateway.store.rollup.refresh import publish, tidy
from gateway.store.status import snapshot_intake
from gateway.web.request_log import configure_logging

logger = logging.getLogger("gateway.worker")


def describe(info: Snapshot) -> str:
    """One line about a snapshot: id, events folded in, seconds, and whether it was a rebuild."""
    kind = "full rebuild" if info.full_rebuild else "incremental"
    return (
        f"snapshot {info.id}: {info.events} events folded in {info.seconds:.2f}s "
        f"({kind}, up to batch {info.max_batch_id})"
    )


async def _refresh_once(settings: Settings, *, full: bool) -> Snapshot:
    engine = create_engine(settings)
    try:
        info = await refresh(engine, full=full, retention_days=settings.raw_event_retention_days)
    finally:
        await engine.dispose()
    await announce_snapshot(settings, info.id)  # live subscribers are pushed at once
    return info


def refresh_command(
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Rebuild every rollup: from all events, or, once raw days were dropped, every "
            "coarse cell from the finest ones.",
        ),
    ] = False,
) -> None:
    """Fold the events ingested since the last snapshot into the rollups; print the snapshot."""
    info = asyncio.run(_refresh_once(load_settings(), full=full))
    Console().print(describe(info))


async def run_worker(
    settings: Settings,
    interval: float,
    *,
    limit: int | None = None,
    port: int | None = None,
) -> int:
    """Refresh every ``interval`` seconds (``limit`` rounds, or forever); returns rounds run.

    A failed refresh is logged and retried at the next interval: its transaction rolled back,
    so nothing was half applied. ``/healthz`` and ``/metrics`` are served on ``port``
    (default ``GATEWAY_WORKER_PORT``; 0 = none) while the loop runs.
    """
    health = WorkerHealth(interval)
    port = settings.worker_port if port is None else port
    probe = await start_probe(health, settings.host, port) if port else None
    engine = create_engine(settings)
    rounds = 0
    try:
        while limit is None or rounds < limit:
            await _round(settings, engine, health)
            rounds += 1
            if limit is None or rounds < limit:
                await asyncio.sleep(interval)
    finally:
        await engine.dispose()
        if probe is not None:
            await stop_probe(probe)
    return rounds


async def _round(settings: Settings, engine: AsyncEngine, health: WorkerHealth) -> None:
    started = time.perf_counter()
    try:  # refresh() in two steps, to count what the retention cut dropped
        info = await publish(engine)
        cut = await tidy(engine, info, retention_days=settings.raw_event_retention_days)
    except Exception:
        health.failed(time.perf_counter() - started)
        logger.exception("refresh failed; retrying in %s seconds", health.interval)
        return
    health.succeeded(info, time.perf_counter() - started)
    dropped = 0 if cut is None else cut.dropped
    extra = {"snapshot": info.id, "events": info.events, "raw_events_dropped": dropped}
    logger.info(describe(info), extra=extra)
    try:
        health.folded(await snapshot_intake(engine, info.id, info.max_batch_id), cut)
    except Exception:  # metrics only: the snapshot is made
        logger.exception("reading what snapshot %s folded failed", info.id)
    try:
        await announce_snapshot(settings, info.id)
    except Exception:  # the snapshot is made; subscribers hear of it at their next poll
        logger.exception("announcing snapshot %s failed", info.id)


async def _until_terminated(settings: Settings, interval: float) -> None:
    # SIGTERM cancels the loop: a refresh in progress rolls back (nothing half applied).
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    await run_worker(settings, interval)


def worker(
    interval_seconds: Annotated[
        int | None,
        typer.Option(
            min=1, help="Seconds between refreshes [default: GATEWAY_REFRESH_INTERVAL_SECONDS]."
        ),
    ] = None,
) -> None:
    """Refresh the rollups every interval until SIGTERM or Ctrl-C (both stop cleanly).

    Serves ``/healthz`` and ``/metrics`` on GATEWAY_WORKER_PORT; logs as GATEWAY_LOG_FORMAT.
    """
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    interval = interval_seconds or settings.refresh_interval_seconds
    logger.info("refreshing every %s seconds", interval)
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(_until_terminated(settings, interval))
    logger.info("worker stopped")


def register(app: typer.Typer) -> None:
    """Add ``refresh`` and ``worker`` to the CLI."""
    app.command("refresh")(refresh_command)
    app.command("worker")(worker)
