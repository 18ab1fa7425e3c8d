"""``usersByPlatform`` / ``usersByRegion`` (SPEC §4 "Audience") against a brute force over the
raw launches, on both backends.

Random worlds (:mod:`tests.schema.user_breakdowns_data`) whose users launch mostly from their own
platform and region, sometimes from another or from none, are ingested and refreshed; every
workspace's, app's and mini program's (across apps and through each app) two breakdowns are
compared, for random ranges and filters, with :func:`expected`, which follows SPEC §4's words over
the launches (no cells, no bitmaps, no gateway code). Then late launches arrive (an incremental
refresh), mini programs change category and type (a catalog change, corrected from the stored
cells), old raw days are dropped and everything is rebuilt from the cells: the answers still
match.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict
from typing import Any

import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.settings import Settings
from gateway.store.rollup import refresh
from gateway.store.rollup.retention import apply_retention
from tests.schema import user_breakdowns_data as bf
from tests.schema.test_retention import _matches
from tests.schema.test_user_breakdowns import ingest

ARGS = "timeRange: $r, dataType: $dt, type: $type, category: $cat"
ITEMS = "{ total previousTotal items { key count share previousCount previousShare countChange "
ITEMS += "shareChange } }"
FIELDS = f"usersByPlatform({ARGS}) {ITEMS} usersByRegion({ARGS}) {ITEMS}"
QUERY = f"""query($r: TimeRangeInput!, $dt: DataType, $type: MiniProgramTypeFilter,
    $cat: String) {{
  workspaces {{ nodes {{ id {FIELDS}
    miniPrograms {{ nodes {{ id {FIELDS} }} }}
    targetApps {{ nodes {{ id {FIELDS}
      miniPrograms {{ nodes {{ id {FIELDS} }} }} }} }} }} }} }}"""
TODAY = bf.NOW.date()


def _counts(
    world: bf.World,
    scope: tuple[str, ...],
    v: dict[str, Any],
    days: tuple[dt.date, dt.date],
    by: str,
) -> tuple[dict[str, int], int]:
    users: dict[str, set[str]] = defaultdict(set)
    for e in world.launches:
        if days[0] <= e.day <= days[1] and _matches(e, world, scope, v):
            users[getattr(e, by)].add(e.guid)
    everyone = set().union(*users.values())
    return {key: len(found) for key, found in users.items()}, len(everyone)


def expected(world: bf.World, scope: tuple[str, ...], v: dict[str, Any], by: str) -> dict[str, Any]:
    """The ``Breakdown`` answer of ``usersByPlatform`` (``by="platform"``) or ``usersByRegion``
    (``by="region"``) for ``scope`` ((level, id) or ("mp", id, via app)) and ``v``."""
    start, end = (dt.date.fromisoformat(v["r"][key]) for key in ("from", "to"))
    length = (end - start).days + 1
    previous = (start - dt.timedelta(days=length), start - dt.timedelta(days=1))
    now, total = _counts(world, scope, v, (start, end), by)
    before, previous_total = _counts(world, scope, v, previous, by)
    bases = sum(now.values()), sum(before.values())
    items = []
    for key in set(now) | set(before):
        c, p = now.get(key, 0), before.get(key, 0)
        share = c / bases[0] if bases[0] else 0.0
        previous_share = p / bases[1] if bases[1] else 0.0
        items.append({
            "key": key, "count": c, "share": pytest.approx(share), "previousCount": p,
            "previousShare": pytest.approx(previous_share), "countChange": c - p,
            "shareChange": pytest.approx(share - previous_share),
        })  # fmt: skip
    items.sort(key=lambda item: (-item["count"], item["key"]))
    return {"total": total, "previousTotal": previous_total, "items": items}


SEEN: dict[str, int] = defaultdict(int)
"""What the comparisons exercised (checked at the end: a test must not pass vacuously)."""


def _note(answer: dict[str, Any]) -> None:
    items = answer["items"]
    SEEN["users"] += answer["total"] > 0
    SEEN["several_values"] += sum(i["count"] for i in items) > answer["total"]
    SEEN["unknown"] += any(i["key"] == "UNKNOWN" and i["count"] for i in items)
    SEEN["previous"] += answer["previousTotal"] > 0


def _variables(rng: random.Random) -> dict[str, Any]:
    end = TODAY - dt.timedelta(days=rng.randrange(0, 12))
    start = end - dt.timedelta(days=rng.randrange(0, 20))
    return {
        "r": {"from": start.isoformat(), "to": end.isoformat()},
        "dt": rng.choice([None, *bf.DATA_TYPES]),
        "type": rng.choice([None, "ALL", *bf.TYPES]),
        "cat": rng.choice([None, None, *bf.CATEGORIES]),
    }


async def _compare(
    schema: strawberry.Schema,
    engine: AsyncEngine,
    settings: Settings,
    world: bf.World,
    rng: random.Random,
    rounds: int,
) -> None:
    for _ in range(rounds):
        v = _variables(rng)
        data = await bf.answer(schema, engine, settings, QUERY, v)
        for scope, node in bf.scoped_nodes(data):
            query = {**v, "dt": v["dt"] or "PRODUCTION"}
            for field, by in (("usersByPlatform", "platform"), ("usersByRegion", "region")):
                assert node[field] == expected(world, scope, query, by), (scope, field, v)
                _note(node[field])


def _moved(rng: random.Random, world: bf.World) -> list[bytes]:
    """Two mini programs change category, one of them type too (catalog upserts)."""
    lines = []
    for mp in rng.sample(sorted(world.mps), 2):
        ws, type_, category = world.mps[mp]
        others = [c for c in bf.CATEGORIES if c != category]
        world.mps[mp] = (ws, type_ if lines else bf.TYPES[bf.TYPES.index(type_) - 1],
                         rng.choice(others))  # fmt: skip
        lines.append(json.dumps({
            "kind": "miniProgram", "id": mp, "workspaceId": ws, "merchantId": None, "name": mp,
            "type": world.mps[mp][1], "category": world.mps[mp][2], "source": "wallet",
            "createdAt": "2026-01-01T00:00:00+00:00",
        }).encode())  # fmt: skip
    return lines


@pytest.mark.parametrize("seed", [1, 2])
async def test_portrait_matches_brute_force(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings, seed: int
) -> None:
    rng = random.Random(seed)
    SEEN.clear()
    world, lines = bf.catalog(rng)
    await ingest(engine, lines + bf.launches(rng, world, 150, devices=True))
    assert (await refresh(engine, now=bf.NOW)).full_rebuild
    await _compare(schema, engine, settings, world, rng, rounds=6)

    await ingest(engine, bf.launches(rng, world, 60, devices=True))  # many of them late
    assert not (await refresh(engine, now=bf.NOW)).full_rebuild
    await _compare(schema, engine, settings, world, rng, rounds=5)

    await ingest(engine, _moved(rng, world) + bf.launches(rng, world, 20, devices=True))
    assert not (await refresh(engine, now=bf.NOW)).full_rebuild
    await _compare(schema, engine, settings, world, rng, rounds=5)

    cut = await apply_retention(engine, days=10, now=bf.NOW)  # the raw log's older days go
    assert cut is not None
    assert cut.dropped > 0
    await refresh(engine, full=True, now=bf.NOW)  # rebuilt from the cells it cannot read again
    await _compare(schema, engine, settings, world, rng, rounds=4)
    assert len(SEEN) == 4, SEEN
    assert min(SEEN.values()) > 0, SEEN
