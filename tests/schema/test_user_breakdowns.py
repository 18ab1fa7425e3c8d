"""``usersBySource`` / ``usersByCategory`` (SPEC §4) against a brute force, on both backends.

Random worlds are ingested as JSON lines (catalog, ``user`` records, launches), refreshed, and
every workspace's and app's breakdowns are compared, for random ranges, filters and bases, with
:func:`tests.schema.user_breakdowns_data.expected`. Then more launches (many of them late) and
more ``user`` records (new ones and source changes of known users) arrive: after an incremental
refresh, and after a full rebuild, the answers still match.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from typing import Any

import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.context import Context
from gateway.settings import Settings
from gateway.store.ingest import ingest_lines
from gateway.store.rollup import refresh
from tests.principals import ADMIN
from tests.schema import user_breakdowns_data as bf

BREAKDOWN = """fragment B on Breakdown { total previousTotal items {
    key count share previousCount previousShare countChange shareChange } }"""

QUERY = (
    """query($r: TimeRangeInput!, $type: MiniProgramTypeFilter, $dt: DataType, $cat: String,
         $basis: UserBasis) {
  workspaces { nodes { id
    usersBySource(timeRange: $r, type: $type, dataType: $dt, category: $cat, basis: $basis) {
      ...B }
    usersByCategory(timeRange: $r, type: $type, dataType: $dt, basis: $basis) { ...B }
    targetApps { nodes { id
      usersBySource(timeRange: $r, type: $type, dataType: $dt, category: $cat, basis: $basis) {
        ...B }
      usersByCategory(timeRange: $r, type: $type, dataType: $dt, basis: $basis) { ...B } } } } } }
"""
    + BREAKDOWN
)


async def ingest(engine: AsyncEngine, lines: list[bytes]) -> None:
    """Ingest ``lines``; every record must be stored."""
    report = await ingest_lines(engine, lines, source="test")
    assert report.quarantined == 0, report.problems


async def run(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings, variables: dict[str, Any]
) -> Any:
    """Execute :data:`QUERY` at the fixed ``now``; the data of a successful answer."""
    async with Context.create(engine, settings, now=bf.NOW, principal=ADMIN) as context:
        result = await schema.execute(QUERY, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    return result.data


def _approx(value: dict[str, Any]) -> dict[str, Any]:
    items = [
        {k: pytest.approx(v) if isinstance(v, float) else v for k, v in item.items()}
        for item in value["items"]
    ]
    return {**value, "items": items}


def _random_variables(rng: random.Random) -> dict[str, Any]:
    today = bf.NOW.date()
    end = today - dt.timedelta(days=rng.randrange(0, 20))
    start = end - dt.timedelta(days=rng.randrange(0, 12))
    return {
        "r": {"from": start.isoformat(), "to": end.isoformat()},
        "type": rng.choice([None, "ALL", *bf.TYPES]),
        "dt": rng.choice([None, *bf.DATA_TYPES]),
        "cat": rng.choice([None, None, *bf.CATEGORIES]),
        "basis": rng.choice([None, "CUMULATIVE", "ACTIVE"]),
    }


def _asks(variables: dict[str, Any], level: str, scope_id: str) -> bf.Ask:
    type_ = variables["type"]
    return bf.Ask(
        level=level,
        scope_id=scope_id,
        type=None if type_ in (None, "ALL") else type_,
        data_type=variables["dt"] or "PRODUCTION",
        category=variables["cat"],
        basis=variables["basis"] or "CUMULATIVE",
        start=dt.date.fromisoformat(variables["r"]["from"]),
        end=dt.date.fromisoformat(variables["r"]["to"]),
    )


SEEN: dict[str, int] = {}
"""What the compared answers exercised (checked at the end: a test must not pass vacuously)."""


def _note(node: dict[str, Any]) -> None:
    source, category = node["usersBySource"], node["usersByCategory"]
    facts = {
        "unknown": any(i["key"] == "unknown" and i["count"] for i in source["items"]),
        "known": any(i["key"] != "unknown" and i["count"] for i in source["items"]),
        "previous_only": any(not i["count"] and i["previousCount"] for i in source["items"]),
        "multi_category": sum(i["count"] for i in category["items"]) > category["total"],
    }
    for fact, holds in facts.items():
        SEEN[fact] = SEEN.get(fact, 0) + holds


def _check(data: Any, world: bf.World, variables: dict[str, Any]) -> int:
    """Compare every breakdown of the answer; returns how many were compared."""
    compared = 0
    for ws in data["workspaces"]["nodes"]:
        entities = [("ws", ws)] + [("app", app) for app in ws["targetApps"]["nodes"]]
        for level, node in entities:
            ask = _asks(variables, level, node["id"])
            assert node["usersBySource"] == _approx(bf.expected(world, ask, "source")), ask
            # usersByCategory takes no category argument.
            every_category = dataclasses.replace(ask, category=None)
            expected = bf.expected(world, every_category, "category")
            assert node["usersByCategory"] == _approx(expected), ask
            compared += 2
            _note(node)
    return compared


async def _compare(
    schema: strawberry.Schema,
    engine: AsyncEngine,
    settings: Settings,
    world: bf.World,
    rng: random.Random,
    rounds: int,
) -> None:
    for _ in range(rounds):
        variables = _random_variables(rng)
        data = await run(schema, engine, settings, variables)
        assert _check(data, world, variables) == 2 * (2 + len(bf.APPS))


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_breakdowns_match_brute_force(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings, seed: int
) -> None:
    rng = random.Random(seed)
    SEEN.clear()
    world, lines = bf.catalog(rng)
    await ingest(engine, lines + bf.users(rng, world, 5) + bf.launches(rng, world, 90))
    assert (await refresh(engine, now=bf.NOW)).full_rebuild
    await _compare(schema, engine, settings, world, rng, rounds=12)

    # Late launches and late or changed user records, folded in incrementally.
    await ingest(engine, bf.launches(rng, world, 40) + bf.users(rng, world, 6))
    info = await refresh(engine, now=bf.NOW)
    assert not info.full_rebuild
    assert info.events == 40
    await _compare(schema, engine, settings, world, rng, rounds=12)

    await refresh(engine, full=True, now=bf.NOW)
    await _compare(schema, engine, settings, world, rng, rounds=4)
    assert min(SEEN.values()) > 0, SEEN
