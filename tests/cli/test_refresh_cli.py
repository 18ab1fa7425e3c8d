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
from gateway.store.ingest import ingest_lines
from gateway.store.rollup import Snapshot, latest_snapshot
from tests.cli.support import commands
from tests.metrics.engine_support import BASE, Event, MiniProgram, insert_batch, insert_catalog
from tests.store.ingest_support import (
    deployment,
    launch,
    line,
    mini_program,
    target_app,
    workspace,
)


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
        assert "gateway_worker_ingested_records_total" in body
        assert "gateway_worker_raw_events_dropped_total" in body
        assert "gateway_worker_snapshot_age_seconds" in body
        assert await running == 2
    with pytest.raises(httpx.TransportError):  # the probe stops with the loop
        await httpx.AsyncClient().get(f"{base}/healthz")


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_worker_counts_what_was_ingested_and_what_retention_dropped(
    settings: Settings,
) -> None:
    # Two events (2024: far past a 400-day window), a duplicate and a malformed record,
    # ingested as any gateway process would: the worker counts them from the batches its
    # snapshot folded, then counts the two events its retention cut drops.
    records = [workspace(), target_app(), mini_program(), deployment()]
    records += [launch("e1"), launch("e2", guid="u2"), launch("e1")]
    engine = create_engine(settings)
    try:
        report = await ingest_lines(engine, [*map(line, records), b"{not json\n"], source="t")
    finally:
        await engine.dispose()
    # Stored: the four catalog records and the two events.
    assert (report.stored, report.duplicates, report.quarantined) == (6, 1, 1)
    names = ("stored", "duplicate", "quarantined")
    before = [_sample("gateway_worker_ingested_records_total", outcome=n) for n in names]
    dropped = _sample("gateway_worker_raw_events_dropped_total")
    kept = settings.model_copy(update={"raw_event_retention_days": 400})
    assert await run_worker(kept, 0.01, limit=2, port=0) == 2  # the second folds nothing
    after = [_sample("gateway_worker_ingested_records_total", outcome=n) for n in names]
    assert [a - b for a, b in zip(after, before, strict=True)] == [6, 1, 1]
    assert _sample("gateway_worker_raw_events_dropped_total") - dropped == 2
