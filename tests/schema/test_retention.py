"""``retention`` (SPEC §4 "Audience") against a brute force over the raw launches, both backends.

Random worlds (:mod:`tests.schema.user_breakdowns_data`) are ingested and refreshed; every
workspace's, app's and mini program's (across apps and through each app) retention table is
compared, for random cohort ranges (starting any weekday, ending today or earlier), granularities,
period counts, cohort kinds and filters, with :func:`expected`, which follows SPEC §4's words over
the launches (no cells, no bitmaps, no gateway code). Then late launches arrive (an incremental
refresh), old raw days are dropped (retention of the raw log) and everything is rebuilt: the
answers still match. The facts the comparisons exercised are checked at the end (week and month
boundaries, ranges starting mid-week, a period containing today, future periods, empty cohorts).
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from typing import Any

import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.context import Context
from gateway.settings import Settings
from gateway.store.rollup import refresh
from gateway.store.rollup.retention import apply_retention
from tests.principals import ADMIN
from tests.schema import user_breakdowns_data as bf
from tests.schema.test_user_breakdowns import ingest

ARGS = "cohorts: $c, granularity: $g, periods: $p, cohort: $k, dataType: $dt"
FILTERED = f"{ARGS}, type: $type, category: $cat"
TABLE = (
    "{ granularity cohortKind cohorts { start size periods { offset start users rate complete } } }"
)
QUERY = f"""query($c: TimeRangeInput!, $g: Granularity, $p: Int, $k: RetentionCohortKind,
    $dt: DataType, $type: MiniProgramTypeFilter, $cat: String) {{
  workspaces {{ nodes {{ id retention({FILTERED}) {TABLE}
    miniPrograms {{ nodes {{ id retention({FILTERED}) {TABLE} }} }}
    targetApps {{ nodes {{ id retention({FILTERED}) {TABLE}
      miniPrograms {{ nodes {{ id retention({FILTERED}) {TABLE} }} }} }} }} }} }} }}"""
TODAY = bf.NOW.date()


def _bucket(day: dt.date, granularity: str) -> tuple[dt.date, dt.date]:
    """The calendar bucket holding ``day``: (first day, last day)."""
    if granularity == "DAY":
        return day, day
    if granularity == "WEEK":
        monday = day - dt.timedelta(days=day.weekday())
        return monday, monday + dt.timedelta(days=6)
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def _later(start: dt.date, granularity: str, k: int) -> dt.date:
    if granularity == "DAY":
        return start + dt.timedelta(days=k)
    if granularity == "WEEK":
        return start + dt.timedelta(days=7 * k)
    month = start.month - 1 + k
    return dt.date(start.year + month // 12, month % 12 + 1, 1)


def _matches(e: bf.Launch, world: bf.World, scope: tuple[str, ...], v: dict[str, Any]) -> bool:
    level, ident, *via = scope
    _, type_, category = world.mps[e.mp]
    where = {"ws": bf.APPS[e.app], "app": e.app, "mp": e.mp}[level]
    return (
        where == ident
        and (not via or e.app == via[0])
        and e.data_type == (v["dt"] or "PRODUCTION")
        and v["type"] in (None, "ALL", type_)
        and v["cat"] in (None, category)
    )


def expected(world: bf.World, scope: tuple[str, ...], v: dict[str, Any]) -> dict[str, Any]:
    """The ``Retention`` answer for ``scope`` ((level, id) or ("mp", id, via app)) and ``v``."""
    granularity, kind = v["g"] or "DAY", v["k"] or "NEW_USERS"
    periods = 7 if v["p"] is None else v["p"]
    days: dict[str, set[dt.date]] = {}
    for e in world.launches:
        if _matches(e, world, scope, v):
            days.setdefault(e.guid, set()).add(e.day)
    first, last = (dt.date.fromisoformat(v["c"][key]) for key in ("from", "to"))
    cohorts, start = [], first
    while start <= last:
        own, end = _bucket(start, granularity)
        end = min(end, last)

        def inside(guid: str, a: dt.date, b: dt.date) -> bool:
            return any(a <= d <= b for d in days[guid])

        if kind == "NEW_USERS":
            members = {g for g in days if start <= min(days[g]) <= end}
        else:
            members = {g for g in days if inside(g, start, end)}
        row = []
        for k in range(1, periods + 1):
            p_start = _later(own, granularity, k)
            p_end = _bucket(p_start, granularity)[1]
            if p_start > TODAY:
                row.append({"offset": k, "start": p_start.isoformat(), "users": None,
                            "rate": None, "complete": False})  # fmt: skip
                continue
            users = sum(inside(g, p_start, p_end) for g in members)
            row.append({
                "offset": k, "start": p_start.isoformat(), "users": users,
                "rate": pytest.approx(users / len(members)) if members else None,
                "complete": p_end < TODAY,
            })  # fmt: skip
        cohorts.append({"start": start.isoformat(), "size": len(members), "periods": row})
        start = end + dt.timedelta(days=1)
    return {"granularity": granularity, "cohortKind": kind, "cohorts": cohorts}


SEEN: dict[str, int] = {}
"""What the comparisons exercised (checked at the end: a test must not pass vacuously)."""


def _note(table: dict[str, Any], v: dict[str, Any]) -> None:
    cells = [p for c in table["cohorts"] for p in c["periods"]]
    first = dt.date.fromisoformat(v["c"]["from"])
    facts = {
        "returning": any(p["users"] for p in cells),
        "empty_cohort": any(c["size"] == 0 for c in table["cohorts"]),
        "future": any(p["users"] is None for p in cells),
        "today_partial": any(
            p["users"] is not None and not p["complete"] and p["start"] <= TODAY.isoformat()
            for p in cells
        ),
        "mid_week": table["granularity"] == "WEEK" and first.weekday() != 0,
        "month": table["granularity"] == "MONTH" and any(c["size"] for c in table["cohorts"]),
        "active": table["cohortKind"] == "ACTIVE_USERS" and any(p["users"] for p in cells),
    }
    for fact, holds in facts.items():
        SEEN[fact] = SEEN.get(fact, 0) + holds


def _variables(rng: random.Random) -> dict[str, Any]:
    granularity = rng.choice([None, "DAY", "WEEK", "MONTH"])
    most = 30 if granularity in (None, "DAY") else 12
    end = TODAY - dt.timedelta(days=rng.randrange(0, 12))
    start = end - dt.timedelta(days=rng.randrange(0, 24))
    return {
        "c": {"from": start.isoformat(), "to": end.isoformat()},
        "g": granularity,
        "p": rng.choice([None, 1, rng.randrange(1, most + 1), most]),
        "k": rng.choice([None, "NEW_USERS", "ACTIVE_USERS"]),
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
        compared = 0
        for scope, node in bf.scoped_nodes(data):
            assert node["retention"] == expected(world, scope, v), (scope, v)
            _note(node["retention"], v)
            compared += 1
        assert compared >= 2 + len(bf.APPS) + len(world.mps)


@pytest.mark.parametrize("seed", [1, 2])
async def test_retention_matches_brute_force(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings, seed: int
) -> None:
    rng = random.Random(seed)
    SEEN.clear()
    world, lines = bf.catalog(rng)
    await ingest(engine, lines + bf.launches(rng, world, 120))
    assert (await refresh(engine, now=bf.NOW)).full_rebuild
    await _compare(schema, engine, settings, world, rng, rounds=10)

    await ingest(engine, bf.launches(rng, world, 50))  # many of them late
    assert not (await refresh(engine, now=bf.NOW)).full_rebuild
    await _compare(schema, engine, settings, world, rng, rounds=8)

    cut = await apply_retention(engine, days=10, now=bf.NOW)  # the raw log's older days go
    assert cut.dropped > 0
    await refresh(engine, full=True, now=bf.NOW)  # rebuilt from the cells it cannot read again
    await _compare(schema, engine, settings, world, rng, rounds=6)
    assert min(SEEN.values()) > 0, SEEN


async def test_periods_out_of_bounds_are_bad_input(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings
) -> None:
    query = """query($p: Int, $g: Granularity) { workspaces { nodes {
        retention(cohorts: {days: 7}, granularity: $g, periods: $p) { granularity } } } }"""
    world, lines = bf.catalog(random.Random(0))
    await ingest(engine, lines)
    for periods, granularity in ((0, "DAY"), (31, "DAY"), (13, "WEEK"), (13, "MONTH"), (-1, None)):
        async with Context.create(engine, settings, now=bf.NOW, principal=ADMIN) as context:
            result = await schema.execute(
                query, variable_values={"p": periods, "g": granularity}, context_value=context
            )
        assert result.errors, (periods, granularity)
        error = result.errors[0]
        assert error.extensions == {"code": "BAD_USER_INPUT"}
        assert "periods must be between 1 and" in error.message
    del world
