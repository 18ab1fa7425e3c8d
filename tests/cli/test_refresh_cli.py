"""``gateway refresh`` and ``gateway worker``."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from datetime import datetime

import httpx
import pytest
import typer
from prometheus_client import REGISTRY
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
    assert await run_worker(settings, 0.01, limit=3, port=0) == 3
    engine = create_engine(settings)
    try:
        latest = await latest_snapshot(engine)
    finally:
        await engine.dispose()
    assert latest is not None
    assert (latest.id, latest.events) == (3, 0)  # a fresh database: three rounds, three snapshots


async def test_worker_serves_health_and_metrics_that_move(settings: Settings) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    ok = REGISTRY.get_sample_value("gateway_worker_refreshes_total", {"outcome": "ok"}) or 0.0
    timed = REGISTRY.get_sample_value("gateway_worker_refresh_duration_seconds_count") or 0.0
    running = asyncio.create_task(run_worker(settings, 0.5, limit=2, port=port))
    async with httpx.AsyncClient() as client:
        body = ""
        for _ in range(100):  # until the probe listens and the first refresh is recorded
            await asyncio.sleep(0.05)
            with contextlib.suppress(httpx.TransportError):
                body = (await client.get(f"{base}/metrics")).text
            if f'gateway_worker_refreshes_total{{outcome="ok"}} {ok + 1}' in body:
                break
        else:
            pytest.fail(body)
        health = await client.get(f"{base}/healthz")
        assert health.status_code == 200, health.text
        assert f"gateway_worker_refresh_duration_seconds_count {timed + 1}" in body
        assert "gateway_worker_events_folded_total" in body
        assert "gateway_worker_snapshot_age_seconds" in body
        assert await running == 2
    with pytest.raises(httpx.TransportError):  # the probe stops with the loop
        await httpx.AsyncClient().get(f"{base}/healthz")
