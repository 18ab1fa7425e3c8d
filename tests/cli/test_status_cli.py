"""``gateway status``: what the store holds, as a table or ``--json``; and ``gateway refresh``
applying the raw events' retention, so that one command does both."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
import typer
from typer.testing import CliRunner

from gateway.cli import refresh, status
from gateway.settings import Settings
from gateway.store.db import create_engine
from gateway.store.migrate import head_revision
from tests.cli.support import commands
from tests.metrics.engine_support import BASE, Event, MiniProgram, insert_batch, insert_catalog


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """A Typer app with ``status`` and ``refresh``, on the test database."""
    monkeypatch.setenv("GATEWAY_DATABASE_URL", settings.database_url)
    return commands(status.register, refresh.register)


def _seed(settings: Settings, days: list[int]) -> None:
    async def run() -> None:
        engine = create_engine(settings)
        try:
            await insert_catalog(engine, {"m0": MiniProgram("m0", "w0", "MINI_GAME", "games")})
            events = [
                Event(f"e{n}", "launch", "a0", "m0", n, "PRODUCTION",
                      datetime.combine(BASE + timedelta(days=day), datetime.min.time()))
                for n, day in enumerate(days)
            ]  # fmt: skip
            await insert_batch(engine, events)
        finally:
            await engine.dispose()

    asyncio.run(run())


def _json(cli: typer.Typer) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["status", "--json"])
    assert result.exit_code == 0, result.output
    found: dict[str, object] = json.loads(result.output)
    return found


def test_an_empty_store(cli: typer.Typer) -> None:
    found = _json(cli)
    assert found["rawEvents"] == {
        "count": 0, "oldestDay": None, "newestDay": None, "keptFrom": None,
        "byKind": {"launch": 0, "pageView": 0, "adImpression": 0},
    }  # fmt: skip
    assert found["snapshot"] == {"id": None, "takenAt": None, "maxBatchId": None}
    assert found["quarantine"] == {"count": 0}
    table = CliRunner().invoke(cli, ["status"])
    assert table.exit_code == 0
    assert "raw events" in table.output


def test_raw_days_snapshot_and_rollups(cli: typer.Typer, settings: Settings) -> None:
    _seed(settings, [0, 2, 5])
    assert CliRunner().invoke(cli, ["refresh"]).exit_code == 0
    found = _json(cli)
    raw = found["rawEvents"]
    assert isinstance(raw, dict)
    assert (raw["count"], raw["oldestDay"], raw["newestDay"]) == (
        3,
        BASE.isoformat(),
        (BASE + timedelta(days=5)).isoformat(),
    )
    snapshot = found["snapshot"]
    assert isinstance(snapshot, dict)
    assert snapshot["id"] is not None
    rollups = found["rollups"]
    assert isinstance(rollups, dict)
    assert rollups["cells"] == 10  # one event combination: ten cells
    assert isinstance(rollups["bytes"], int)
    assert rollups["bytes"] > 0


def test_refresh_applies_the_retention(
    cli: typer.Typer, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(settings, [0, 2, 5])
    monkeypatch.setenv("GATEWAY_RAW_EVENT_RETENTION_DAYS", "30")  # every seeded day is older
    assert CliRunner().invoke(cli, ["refresh"]).exit_code == 0
    raw = _json(cli)["rawEvents"]
    assert isinstance(raw, dict)
    first_kept = datetime.now(UTC).date() - timedelta(days=29)
    assert (raw["count"], raw["keptFrom"]) == (0, first_kept.isoformat())


def test_a_database_at_another_revision_is_refused_clearly(
    cli: typer.Typer, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("GATEWAY_DATABASE_URL", f"sqlite:///{tmp_path}/empty.db")
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 1
    assert "gateway migrate" in result.output
    assert head_revision() in result.output
