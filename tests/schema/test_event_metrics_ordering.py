"""``Workspace.targetApps(orderBy, timeRange)``: the target-app ranking and its cursors.

Seven apps with deliberate ties: the order must be the values' order with ties by id, equal to
each app's own ``activeUsers`` / ``miniProgramCount`` fields and to counts from the generated
data; paging with ``first: 2`` must walk the same order exactly once; cursors of another
ordering and a missing range are BAD_USER_INPUT.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.settings import Settings
from gateway.store.rollup import refresh
from tests.schema import event_metrics_support as sup

APPS = {"a0": "Kilo", "a1": "alpha", "a2": "Bravo", "a3": "Echo", "a4": "Delta", "a5": "Echo",
        "a6": "Zulu"}  # fmt: skip
USERS = {"a0": 3, "a1": 5, "a2": 0, "a3": 5, "a4": 1, "a5": 3, "a6": 2}
"""Distinct users launching in each app on 2026-11-05 (ties: a1/a3, a0/a5)."""
MINI_PROGRAMS = {"a0": 2, "a1": 0, "a2": 4, "a3": 2, "a4": 1, "a5": 4, "a6": 2}
"""Mini programs deployed in each app before 2026-11-01 (more come after the range)."""

RANGE = {"from": "2026-11-01", "to": "2026-11-07"}

PAGE = """query($order: TargetAppOrder, $r: TimeRangeInput, $after: String) {
  workspace(id: "w") { targetApps(first: 2, after: $after, orderBy: $order, timeRange: $r) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id name activeUsers(timeRange: {from: "2026-11-01", to: "2026-11-07"}) { value }
      miniProgramCount(timeRange: {from: "2026-11-01", to: "2026-11-07"}) { value } } } } }"""


def _lines() -> list[bytes]:
    created = "2026-01-01T00:00:00+00:00"
    out: list[dict[str, Any]] = [{"kind": "workspace", "id": "w", "name": "W"}]
    for m in range(6):
        out.append({
            "kind": "miniProgram", "id": f"m{m}", "workspaceId": "w", "merchantId": None,
            "name": f"M{m}", "type": "MINI_PROGRAM", "category": "food", "source": "wallet",
            "createdAt": created,
        })  # fmt: skip
    number = 0
    for app, name in APPS.items():
        out.append(
            {"kind": "targetApp", "id": app, "workspaceId": "w", "name": name, "createdAt": created}
        )
        for m in range(6):
            at = "2026-10-15" if m < MINI_PROGRAMS[app] else "2026-11-09"  # after the range
            out.append({
                "kind": "deployment", "targetAppId": app, "miniProgramId": f"m{m}",
                "status": "FULL_RELEASE", "at": f"{at}T00:00:00+00:00",
            })  # fmt: skip
        for user in range(USERS[app]):
            for _ in range(2):  # the same user twice: counted once
                number += 1
                out.append({
                    "kind": "launch", "id": f"e{number}", "targetAppId": app,
                    "miniProgramId": "m5", "userGuid": f"u{user}",
                    "at": "2026-11-05T10:00:00+00:00",
                })  # fmt: skip
    return [orjson.dumps(record) for record in out]


@pytest.fixture
async def ranked(engine: AsyncEngine) -> AsyncEngine:
    await sup.ingest(engine, _lines())
    await refresh(engine)
    return engine


async def _walk(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings, order: Any, r: Any
) -> tuple[list[dict[str, Any]], list[str]]:
    nodes: list[dict[str, Any]] = []
    cursors: list[str] = []
    after = None
    for _ in range(10):
        variables = {"order": order, "r": r, "after": after}
        result = await sup.execute(schema, engine, settings, PAGE, variables)
        assert result.errors is None, result.errors
        apps = result.data["workspace"]["targetApps"]
        assert apps["totalCount"] == len(APPS)
        nodes += apps["nodes"]
        after = apps["pageInfo"]["endCursor"]
        cursors.append(after)
        if not apps["pageInfo"]["hasNextPage"]:
            return nodes, cursors
    raise AssertionError("paging did not end")


def _expected(values: dict[str, Any], descending: bool) -> list[str]:
    by_id = sorted(values)
    return sorted(by_id, key=lambda app: values[app], reverse=descending)


@pytest.mark.parametrize(
    ("field", "values"),
    [("USER_COUNT", USERS), ("MINI_PROGRAM_COUNT", MINI_PROGRAMS), ("NAME", APPS)],
)
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_orderings_page_through_in_order(
    schema: strawberry.Schema, ranked: AsyncEngine, settings: Settings, field: str,
    values: dict[str, Any], direction: str,
) -> None:  # fmt: skip
    order = {"field": field, "direction": direction}
    nodes, _ = await _walk(schema, ranked, settings, order, RANGE)
    ids = [node["id"] for node in nodes]
    assert ids == _expected(values, direction == "DESC")
    metric = {"USER_COUNT": "activeUsers", "MINI_PROGRAM_COUNT": "miniProgramCount"}.get(field)
    if metric is not None:  # the ranking agrees with the apps' own fields
        shown = [node[metric]["value"] for node in nodes]
        assert shown == sorted(shown, reverse=direction == "DESC")


async def test_default_direction_is_desc_and_no_order_is_by_id(
    schema: strawberry.Schema, ranked: AsyncEngine, settings: Settings
) -> None:
    nodes, _ = await _walk(schema, ranked, settings, {"field": "USER_COUNT"}, RANGE)
    assert [n["id"] for n in nodes] == _expected(USERS, descending=True)
    nodes, _ = await _walk(schema, ranked, settings, None, None)
    assert [n["id"] for n in nodes] == sorted(APPS)


async def test_bad_orderings_and_cursors_are_bad_user_input(
    schema: strawberry.Schema, ranked: AsyncEngine, settings: Settings
) -> None:
    by_users = {"field": "USER_COUNT", "direction": "DESC"}
    _, user_cursors = await _walk(schema, ranked, settings, by_users, RANGE)
    _, id_cursors = await _walk(schema, ranked, settings, None, None)
    other_range = {"preset": "LAST_7_DAYS"}
    cases = [
        (by_users, None, None, "orderBy USER_COUNT needs a timeRange"),
        ({"field": "MINI_PROGRAM_COUNT"}, None, None, "needs a timeRange"),
        (by_users, {"from": "2026-11-01", "to": "2026-12-01"}, None, "after today"),
        (None, {"days": 0, "endDate": "2026-11-01"}, None, "between 1 and"),
        (by_users, other_range, user_cursors[0], "belongs to ordering USER_COUNT:DESC:"),
        ({"field": "NAME"}, None, user_cursors[0], "not NAME:DESC"),
        (by_users, RANGE, id_cursors[0], "belongs to another ordering"),
        (None, None, user_cursors[0], "belongs to the targetApps ordering USER_COUNT:DESC:"),
        (by_users, RANGE, "djI6bm90IGpzb24=", "malformed cursor"),
    ]
    for order, time_range, after, message in cases:
        variables = {"order": order, "r": time_range, "after": after}
        result = await sup.execute(schema, ranked, settings, PAGE, variables)
        assert result.errors is not None, variables
        assert result.errors[0].extensions == {"code": "BAD_USER_INPUT"}, variables
        assert message in result.errors[0].message, (message, result.errors[0].message)
