"""``gateway refresh`` and ``gateway worker``."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
import typer
from typer.testing import CliRunner

from gateway.cli.refresh import register, run_worker
from gateway.settings import Settings
from gateway.store.db import create_engine
from gateway.store.rollup import Snapshot, latest_snapshot
from tests.cli.support import commands
from tests.metrics.engine_support import BASE, Event, MiniProgram, insert_batch, insert_catalog


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """A Typer app with just ``refresh`` and ``worker``, on the test database."""
    monkeypatch.setenv("GATEWAY_DATABASE_URL", settings.database_url)
    return commands(register)


def _seed_and_latest(settings: Settings, *, seed: bool) -> Snapshot | None:
    async def run() -> Snapshot | None:
        engine = create_engine(settings)
        try:
            if seed:
                await insert_catalog(engine, {"m0": MiniProgram("m0", "w0", "MINI_GAME", "games")})
                at = datetime(BASE.year, BASE.month, BASE.day, 10)
                event = Event("e1", "launch", "a0", "m0", 1, "PRODUCTION", at)
                await insert_batch(engine, [event])
            return await latest_snapshot(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_refresh_prints_the_snapshot_and_full_rebuilds_on_request(
    cli: typer.Typer, settings: Settings
) -> None:
    _seed_and_latest(settings, seed=True)
    first = CliRunner().invoke(cli, ["refresh"])
    assert first.exit_code == 0, first.output
    latest = _seed_and_latest(settings, seed=False)
    assert latest is not None
    assert f"snapshot {latest.id}: 1 events" in first.output
    again = CliRunner().invoke(cli, ["refresh"])
    assert "0 events" in again.output
    assert "incremental" in again.output
    full = CliRunner().invoke(cli, ["refresh", "--full"])
    assert "1 events" in full.output
    assert "full rebuild" in full.output


async def test_worker_refreshes_every_interval(settings: Settings) -> None:
    assert await run_worker(settings, 0.01, limit=3) == 3
    engine = create_engine(settings)
    try:
        latest = await latest_snapshot(engine)
    finally:
        await engine.dispose()
    assert latest is not None
    assert (latest.id, latest.events) == (3, 0)  # a fresh database: three rounds, three snapshots
