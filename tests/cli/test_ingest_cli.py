"""``gateway ingest``: files, gzip, stdin, exit codes, quarantine listing and replay."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pytest
import typer
from sqlalchemy import Table
from typer.testing import CliRunner

from gateway.cli.ingest import register
from gateway.settings import Settings
from gateway.store import tables as t
from gateway.store.db import create_engine
from tests.cli.support import commands
from tests.store.ingest_support import catalog, count, launch, lines, target_app, workspace


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """A Typer app with just ``ingest``, on the test database."""
    monkeypatch.setenv("GATEWAY_DATABASE_URL", settings.database_url)
    return commands(register)


def _count(settings: Settings, table: Table) -> int:
    async def run() -> int:
        engine = create_engine(settings)
        try:
            return await count(engine, table)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _write(path: Path, data: list[bytes], *, compress: bool = False) -> Path:
    body = b"".join(data)
    path.write_bytes(gzip.compress(body) if compress else body)
    return path


def test_files_plain_and_gzip_detected_by_content(
    cli: typer.Typer, settings: Settings, tmp_path: Path
) -> None:
    plain = _write(tmp_path / "catalog.jsonl", lines(catalog()))
    # Named without .gz on purpose: gzip is recognised by its magic bytes.
    packed = _write(tmp_path / "events.jsonl", lines([launch("e1"), launch("e2")]), compress=True)
    result = CliRunner().invoke(cli, ["ingest", str(plain), str(packed)])
    assert result.exit_code == 0, result.output
    assert "stored" in result.output
    assert _count(settings, t.launches) == 2
    assert _count(settings, t.deployments) == 1


def test_stdin_and_exit_code_1_when_quarantined(cli: typer.Typer, settings: Settings) -> None:
    data = b"".join(lines([workspace(), target_app(), launch("e1", aid="nope")]))
    result = CliRunner().invoke(cli, ["ingest", "-"], input=data)
    assert result.exit_code == 1, result.output
    assert "-:3" in result.output
    assert "unknown targetApp" in result.output
    assert _count(settings, t.target_apps) == 1
    assert _count(settings, t.quarantine) == 1


def test_missing_file_is_exit_code_2(cli: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "absent.jsonl")])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_no_file_and_no_option_is_a_usage_error(cli: typer.Typer) -> None:
    assert CliRunner().invoke(cli, ["ingest"]).exit_code == 2


def test_list_then_replay_the_quarantine(
    cli: typer.Typer, settings: Settings, tmp_path: Path
) -> None:
    runner = CliRunner()
    early = _write(tmp_path / "early.jsonl", lines([launch("e1"), launch("e2")]))
    assert runner.invoke(cli, ["ingest", str(early)]).exit_code == 1

    listed = runner.invoke(cli, ["ingest", "--list-quarantine", "--limit", "1"])
    assert listed.exit_code == 0
    assert "early.jsonl:1" in listed.output
    assert "early.jsonl:2" not in listed.output

    assert runner.invoke(cli, ["ingest", "--replay-quarantine"]).exit_code == 1
    fix = _write(tmp_path / "catalog.jsonl", lines(catalog()))
    assert runner.invoke(cli, ["ingest", str(fix)]).exit_code == 0
    replayed = runner.invoke(cli, ["ingest", "--replay-quarantine"])
    assert replayed.exit_code == 0, replayed.output
    assert _count(settings, t.launches) == 2
    assert _count(settings, t.quarantine) == 0
    empty = runner.invoke(cli, ["ingest", "--list-quarantine"])
    assert "the quarantine is empty" in empty.output
