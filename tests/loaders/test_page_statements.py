"""A page asking an app's metrics and user breakdowns reads the app's cells once, and a
cumulative ``usersBySource`` reads no source bitmap (stored counts, SPEC §4 at any scale)."""

from __future__ import annotations

import random

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.context import Context
from gateway.schema import build_schema
from gateway.settings import Settings
from gateway.store.ingest import ingest_lines
from gateway.store.rollup import refresh
from tests.conftest import RAISED_LIMITS
from tests.loaders.statements import counting_statements
from tests.loaders.test_user_breakdowns_n_plus_one import NOW, _lines
from tests.principals import ADMIN

PAGE = """query($r: TimeRangeInput!) { targetApp(id: "a00") {
  activeUsers(timeRange: $r) { value previousValue }
  lifetimeUsers(timeRange: $r) { value previousValue }
  usersBySource(timeRange: $r) { total previousTotal items { key count previousCount } }
  usersByCategory(timeRange: $r) { total items { key count previousCount } } } }"""
ACTIVE = """query($r: TimeRangeInput!) { targetApp(id: "a00") {
  usersBySource(timeRange: $r, basis: ACTIVE) { total items { key count } } } }"""
RANGE = {"r": {"from": "2026-10-28", "to": "2026-11-05"}}


async def _run(engine: AsyncEngine, settings: Settings, query: str) -> tuple[list[str], object]:
    schema = build_schema(limits=RAISED_LIMITS)
    async with Context.create(engine, settings, now=NOW, principal=ADMIN) as context:
        with counting_statements(engine) as statements:
            result = await schema.execute(query, variable_values=RANGE, context_value=context)
    assert result.errors is None, result.errors
    return [" ".join(s.split()) for s in statements], result.data


async def test_one_read_of_the_cells_and_no_source_bitmap(
    engine: AsyncEngine, settings: Settings
) -> None:
    report = await ingest_lines(engine, _lines(3, random.Random(9)), source="test")
    assert report.quarantined == 0, report.problems
    await refresh(engine, now=NOW)
    statements, data = await _run(engine, settings, PAGE)
    by_scope = [s for s in statements if "FROM rollup_cells WHERE rollup_cells.scope IN" in s]
    assert len(by_scope) == 1, statements
    assert not [s for s in statements if "rollup_user_sources" in s], statements
    node = data["targetApp"]  # type: ignore[index]
    assert node["usersBySource"]["total"] == node["lifetimeUsers"]["value"] > 0
    # The active basis intersects bitmaps: it does read the sources.
    statements, _ = await _run(engine, settings, ACTIVE)
    assert [s for s in statements if "rollup_user_sources" in s], statements
