"""Migration 0015 adds the portrait to rollups built without it: the next refresh rebuilds them,
from the raw events when it still has them all (then every answer matches the brute force), or
from the cells when raw days were dropped (then the launches folded before the migration count
as ``UNKNOWN``, which is what events stored before revision 0013 carry)."""

from __future__ import annotations

import random

import strawberry
from alembic import command
from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.settings import Settings
from gateway.store.migrate import alembic_config, upgrade
from gateway.store.rollup import refresh
from gateway.store.rollup.retention import apply_retention
from gateway.store.rollup_tables import PORTRAIT_BACKFILL, rollup_pending
from tests.schema import user_breakdowns_data as bf
from tests.schema.test_portrait import _compare
from tests.schema.test_user_breakdowns import ingest


def _downgrade(connection: Connection, revision: str) -> None:
    command.downgrade(alembic_config(connection), revision)


async def _migrated_again(engine: AsyncEngine) -> None:
    """Back to the revision before the portrait, then to the head again."""
    async with engine.begin() as conn:
        await conn.run_sync(_downgrade, "0014")
    await upgrade(engine)
    async with engine.connect() as conn:
        pending = await conn.execute(select(rollup_pending.c.name))
        assert PORTRAIT_BACKFILL in set(pending.scalars())


def _settings(engine: AsyncEngine) -> Settings:
    url = engine.url.render_as_string(hide_password=False)
    return Settings(database_url=url, rate_limit_per_second=0, cost_budget_per_window=0)


async def test_rollups_built_before_get_their_portrait(
    fresh: AsyncEngine, schema: strawberry.Schema
) -> None:
    rng = random.Random(5)
    await upgrade(fresh)
    world, lines = bf.catalog(rng)
    await ingest(fresh, lines + bf.launches(rng, world, 120, devices=True))
    await refresh(fresh, now=bf.NOW)
    await _migrated_again(fresh)
    assert (await refresh(fresh, now=bf.NOW)).full_rebuild
    await _compare(schema, fresh, _settings(fresh), world, rng, rounds=4)


async def test_without_their_raw_days_launches_folded_before_count_as_unknown(
    fresh: AsyncEngine, schema: strawberry.Schema
) -> None:
    rng = random.Random(6)
    await upgrade(fresh)
    world, lines = bf.catalog(rng)
    await ingest(fresh, lines + bf.launches(rng, world, 120, devices=True))
    await refresh(fresh, now=bf.NOW)
    cut = await apply_retention(fresh, days=10, now=bf.NOW)
    assert cut is not None
    assert cut.dropped > 0
    await _migrated_again(fresh)
    assert (await refresh(fresh, now=bf.NOW)).full_rebuild
    window = '(timeRange: {days: 30, endDate: "2026-11-14"})'
    query = f"""{{ workspaces {{ nodes {{ activeUsers{window} {{ value }}
        usersByPlatform{window} {{ total items {{ key count }} }}
        usersByRegion{window} {{ total items {{ key count }} }} }} }} }}"""
    data = await bf.answer(schema, fresh, _settings(fresh), query, {})
    for node in data["workspaces"]["nodes"]:
        users = int(node["activeUsers"]["value"])
        assert users > 0
        for field in ("usersByPlatform", "usersByRegion"):
            assert node[field]["total"] == users
            assert node[field]["items"] == [{"key": "UNKNOWN", "count": users}]
