"""The in-process refresh worker (``GATEWAY_REFRESH_IN_PROCESS``) and the demo's default."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.cli.serve import _fresh_database
from gateway.settings import Settings
from gateway.store.rollup import latest_snapshot
from gateway.web.refresher import refreshing


async def _snapshots_within(engine: AsyncEngine, seconds: float) -> int:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        info = await latest_snapshot(engine)
        if info is not None and info.id >= 2:
            return info.id
        await asyncio.sleep(0.05)
    info = await latest_snapshot(engine)
    return 0 if info is None else info.id


async def test_refreshes_while_running_and_stops_on_exit(
    engine: AsyncEngine, settings: Settings
) -> None:
    on = settings.model_copy(update={"refresh_in_process": True, "refresh_interval_seconds": 1})
    async with refreshing(on, engine):
        # One refresh at startup, the next one interval later.
        assert await _snapshots_within(engine, 5.0) >= 2
    stopped_at = await _snapshots_within(engine, 0.0)
    await asyncio.sleep(1.3)
    assert await _snapshots_within(engine, 0.0) == stopped_at  # cancelled: no more refreshes


async def test_nothing_runs_when_the_setting_is_off(
    engine: AsyncEngine, settings: Settings
) -> None:
    assert not settings.refresh_in_process  # the default
    async with refreshing(settings, engine):
        await asyncio.sleep(0.2)
    assert await latest_snapshot(engine) is None


def test_the_demo_refreshes_in_process_unless_told_not_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GATEWAY_REFRESH_IN_PROCESS", raising=False)
    assert _fresh_database(tmp_path / "demo.db").refresh_in_process
    monkeypatch.setenv("GATEWAY_REFRESH_IN_PROCESS", "false")
    assert not _fresh_database(tmp_path / "demo.db").refresh_in_process
