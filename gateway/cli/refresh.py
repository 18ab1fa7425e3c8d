"""``gateway refresh`` (build a snapshot now) and ``gateway worker`` (one every interval).

Example:
    $ gateway refresh            # fold events new since the last snapshot
    $ gateway refresh --full     # rebuild every rollup from all events
    $ gateway worker --interval-seconds 600
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer
from rich.console import Console

from gateway.cache.announce import announce_snapshot
from gateway.settings import Settings, load_settings
from gateway.store.db import create_engine
from gateway.store.rollup import Snapshot, refresh

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


async def run_worker(settings: Settings, interval: float, *, limit: int | None = None) -> int:
    """Refresh every ``interval`` seconds (``limit`` rounds, or forever); returns rounds run.

    A failed refresh is logged and retried at the next interval: its transaction rolled back,
    so nothing was half applied.
    """
    engine = create_engine(settings)
    rounds = 0
    try:
        while limit is None or rounds < limit:
            try:
                days = settings.raw_event_retention_days
                info = await refresh(engine, retention_days=days)
                logger.info(describe(info))
                await announce_snapshot(settings, info.id)
            except Exception:
                logger.exception("refresh failed; retrying in %s seconds", interval)
            rounds += 1
            if limit is None or rounds < limit:
                await asyncio.sleep(interval)
    finally:
        await engine.dispose()
    return rounds


def worker(
    interval_seconds: Annotated[
        int | None,
        typer.Option(
            min=1, help="Seconds between refreshes [default: GATEWAY_REFRESH_INTERVAL_SECONDS]."
        ),
    ] = None,
) -> None:
    """Refresh the rollups every interval until interrupted (Ctrl-C stops cleanly)."""
    settings = load_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(message)s")
    interval = interval_seconds or settings.refresh_interval_seconds
    console = Console()
    console.print(f"refreshing every {interval} seconds; Ctrl-C stops")
    try:
        asyncio.run(run_worker(settings, interval))
    except KeyboardInterrupt:
        console.print("worker stopped")


def register(app: typer.Typer) -> None:
    """Add ``refresh`` and ``worker`` to the CLI."""
    app.command("refresh")(refresh_command)
    app.command("worker")(worker)
