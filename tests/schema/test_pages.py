"""``MiniProgram.pages`` (SPEC §4 "Audience") against a brute force over the raw page views.

Random worlds (:mod:`tests.schema.user_breakdowns_data`'s catalog) get random page views (a few
paths, some without a page, late ones in later batches); every mini program's report, across its
apps and through each app, is compared for random ranges, data types and orderings with
:func:`expected`, which follows SPEC §4's words over the page views, walking every page of the
connection with ``after`` cursors. Then late page views (an incremental refresh), a retention cut
of the raw log and a full rebuild: the answers still match.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass
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

PATHS = ("/home", "/cart", "pages/item?id=7", "/ünïcode/页面", "/" + "x" * 900)
ORDER_FIELDS = ("PAGE_VIEWS", "VISITORS", "TOTAL_TIME", "PATH")
NODE = "path pageViews visitors totalTimeSeconds averageTimePerVisitor"
ARGS = "timeRange: $r, dataType: $dt, orderBy: $o, first: $first, after: $after"
QUERY = f"""query($r: TimeRangeInput!, $dt: DataType, $o: PageOrder, $first: Int, $after: String) {{
  workspaces {{ nodes {{
    miniPrograms {{ nodes {{ id pages({ARGS}) {{ totalCount nodes {{ {NODE} }}
      pageInfo {{ hasNextPage endCursor }} }} }} }}
    targetApps {{ nodes {{ id miniPrograms {{ nodes {{ id pages({ARGS}) {{ totalCount
      nodes {{ {NODE} }} pageInfo {{ hasNextPage endCursor }} }} }} }} }} }} }} }} }}"""


@dataclass(frozen=True)
class View:
    app: str
    mp: str
    guid: str
    data_type: str
    day: dt.date
    page: str | None
    duration_ms: int


LATER_PATHS = ("/only-in-a-later-batch", "/another/new?page=2")
"""Paths no page view has before the incremental refresh: it meets them unnumbered."""


def page_views(
    rng: random.Random,
    world: bf.World,
    views: list[View],
    count: int,
    paths: tuple[str, ...] = PATHS,
) -> list[bytes]:
    """``count`` random page views (any day of the window: later batches hold late ones)."""
    lines = []
    for _ in range(count):
        mp = rng.choice(sorted(world.mps))
        app = rng.choice(sorted(a for a, w in bf.APPS.items() if w == world.mps[mp][0]))
        day = bf.BASE + dt.timedelta(days=rng.randrange(bf.DAYS))
        view = View(app, mp, rng.choice(bf.GUIDS[:6]), rng.choice(bf.DATA_TYPES), day,
                    rng.choice([None, *paths]), rng.choice([0, 1, 1500, 86_400_000]))  # fmt: skip
        at = dt.datetime.combine(day, dt.time(rng.randrange(24), rng.randrange(60)), dt.UTC)
        record: dict[str, Any] = {
            "kind": "pageView", "id": f"p{len(views)}", "at": at.isoformat(),
            "targetAppId": app, "miniProgramId": mp, "userGuid": view.guid,
            "dataType": view.data_type, "durationMs": view.duration_ms,
        }  # fmt: skip
        if view.page is not None:
            record["page"] = view.page
        views.append(view)
        lines.append(json.dumps(record).encode())
    return lines


def expected(views: list[View], mp: str, via: str | None, v: dict[str, Any]) -> list[dict]:
    """Every page of the report, in the asked order."""
    first, last = (dt.date.fromisoformat(v["r"][k]) for k in ("from", "to"))
    found: dict[str, list[View]] = {}
    for view in views:
        if (
            view.mp == mp
            and via in (None, view.app)
            and view.data_type == (v["dt"] or "PRODUCTION")
            and first <= view.day <= last
        ):
            found.setdefault(view.page or "(not set)", []).append(view)
    rows = []
    for path, mine in found.items():
        seconds = sum(view.duration_ms for view in mine) / 1000
        visitors = len({view.guid for view in mine})
        rows.append({
            "path": path, "pageViews": len(mine), "visitors": visitors,
            "totalTimeSeconds": seconds, "averageTimePerVisitor": seconds / visitors,
        })  # fmt: skip
    order = v["o"] or {"field": "PAGE_VIEWS"}
    key = {"PAGE_VIEWS": "pageViews", "VISITORS": "visitors", "TOTAL_TIME": "totalTimeSeconds",
           "PATH": "path"}[order["field"]]  # fmt: skip
    descending = order.get("direction", "DESC") == "DESC"
    rows.sort(key=lambda row: row["path"])
    if key == "path":
        return rows[::-1] if descending else rows
    return sorted(rows, key=lambda row: row[key], reverse=descending)


async def _query(schema: strawberry.Schema, engine: AsyncEngine, settings: Settings,
                 v: dict[str, Any]) -> Any:  # fmt: skip
    async with Context.create(engine, settings, now=bf.NOW, principal=ADMIN) as context:
        result = await schema.execute(QUERY, variable_values=v, context_value=context)
    assert result.errors is None, result.errors
    return result.data


def _reports(data: Any) -> dict[tuple[str, str | None], dict[str, Any]]:
    out = {}
    for ws in data["workspaces"]["nodes"]:
        for mp in ws["miniPrograms"]["nodes"]:
            out[mp["id"], None] = mp["pages"]
        for app in ws["targetApps"]["nodes"]:
            for mp in app["miniPrograms"]["nodes"]:
                out[mp["id"], app["id"]] = mp["pages"]
    return out


SEEN: dict[str, int] = {}


async def _compare(schema: strawberry.Schema, engine: AsyncEngine, settings: Settings,
                   views: list[View], rng: random.Random, rounds: int) -> None:  # fmt: skip
    for _ in range(rounds):
        end = bf.NOW.date() - dt.timedelta(days=rng.randrange(0, 12))
        start = end - dt.timedelta(days=rng.randrange(0, 20))
        field = rng.choice([None, *ORDER_FIELDS])
        order = None if field is None else {"field": field}
        if order is not None and rng.random() < 0.5:
            order["direction"] = rng.choice(["ASC", "DESC"])
        v = {
            "r": {"from": start.isoformat(), "to": end.isoformat()},
            "dt": rng.choice([None, *bf.DATA_TYPES]),
            "o": order,
            "first": 2,
            "after": None,
        }
        walked: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        totals: dict[tuple[str, str | None], int] = {}
        data = await _query(schema, engine, settings, v)
        pending = _reports(data)
        while pending:
            after: list[tuple[str, tuple[str, str | None]]] = []
            for key, report in pending.items():
                walked.setdefault(key, []).extend(report["nodes"])
                totals[key] = report["totalCount"]
                if report["pageInfo"]["hasNextPage"]:
                    after.append((report["pageInfo"]["endCursor"], key))
            pending = {}
            for cursor, key in after:  # one cursor at a time: cursors are per field
                page = _reports(await _query(schema, engine, settings, {**v, "after": cursor}))
                pending[key] = page[key]
        for (mp, via), nodes in walked.items():
            want = expected(views, mp, via, v)
            assert nodes == [{k: pytest.approx(x) if isinstance(x, float) else x
                              for k, x in row.items()} for row in want], (mp, via, v)  # fmt: skip
            assert totals[mp, via] == len(want)
            SEEN["pages"] = SEEN.get("pages", 0) + bool(want)
            SEEN["paged"] = SEEN.get("paged", 0) + (len(want) > 2)
            SEEN["not_set"] = SEEN.get("not_set", 0) + any(r["path"] == "(not set)" for r in want)
            SEEN["shared"] = SEEN.get("shared", 0) + any(
                r["visitors"] < r["pageViews"] for r in want
            )


@pytest.mark.parametrize("seed", [1, 2])
async def test_pages_match_brute_force(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings, seed: int
) -> None:
    rng = random.Random(seed)
    SEEN.clear()
    world, lines = bf.catalog(rng)
    views: list[View] = []
    await ingest(engine, lines + page_views(rng, world, views, 150))
    assert (await refresh(engine, now=bf.NOW)).full_rebuild
    await _compare(schema, engine, settings, views, rng, rounds=5)

    # Many late, some with paths never seen: the incremental refresh numbers them.
    await ingest(engine, page_views(rng, world, views, 60, PATHS + LATER_PATHS))
    assert not (await refresh(engine, now=bf.NOW)).full_rebuild
    assert any(view.page in LATER_PATHS for view in views)
    await _compare(schema, engine, settings, views, rng, rounds=4)

    assert (await apply_retention(engine, days=10, now=bf.NOW)).dropped > 0
    await refresh(engine, full=True, now=bf.NOW)  # the dropped days' pages are kept
    await _compare(schema, engine, settings, views, rng, rounds=3)
    assert min(SEEN.values()) > 0, SEEN


async def test_a_cursor_of_another_ordering_is_bad_input(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings
) -> None:
    rng = random.Random(5)
    world, lines = bf.catalog(rng)
    views: list[View] = []
    await ingest(engine, lines + page_views(rng, world, views, 80))
    await refresh(engine, now=bf.NOW)
    v = {"r": {"from": bf.BASE.isoformat(), "to": bf.NOW.date().isoformat()}, "dt": None,
         "o": None, "first": 1, "after": None}  # fmt: skip
    reports = _reports(await _query(schema, engine, settings, v))
    cursor = next(r["pageInfo"]["endCursor"] for r in reports.values() if r["totalCount"] > 1)
    async with Context.create(engine, settings, now=bf.NOW, principal=ADMIN) as context:
        other = {**v, "o": {"field": "PATH"}, "after": cursor}
        result = await schema.execute(QUERY, variable_values=other, context_value=context)
    assert result.errors
    assert result.errors[0].extensions == {"code": "BAD_USER_INPUT"}
    assert "another orderBy or timeRange" in result.errors[0].message
