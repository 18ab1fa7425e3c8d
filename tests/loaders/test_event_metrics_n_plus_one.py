"""No N+1 in the event metrics: a query's statements do not grow with its entities.

1 vs 20 target apps, and 1 vs 50 mini programs of one app, each asking several metrics with
their previous period, DAY and WEEK series, other filters and ``monthlyActiveUsers``: the
statement counts must be equal (and small), on both backends.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.context import Context
from gateway.schema import build_schema
from gateway.settings import Settings
from gateway.store.ingest import ingest_lines
from gateway.store.rollup import refresh
from tests.conftest import RAISED_LIMITS
from tests.loaders.statements import counting_statements
from tests.metrics.engine_support import clear
from tests.principals import ADMIN

NOW = dt.datetime(2026, 11, 12, 9, 0, tzinfo=dt.UTC)

METRICS = """
    activeUsers(timeRange: $r) { value previousValue changeRate
      series { date value } weekly: series(granularity: WEEK) { value } }
    newUsers(timeRange: $r) { value series { value } }
    launches(timeRange: $r, dataType: NON_PRODUCTION) { value series(granularity: WEEK) { value } }
    averageTimePerUser(timeRange: $q) { value previousValue }
    lifetimeUsers(timeRange: $r, type: MINI_GAME) { value series { value } }
    estimatedAdRevenue(timeRange: $q) { value }
    monthlyActiveUsers(from: "2026-09", to: "2026-11") { month value }"""

APPS_QUERY = f"""query($r: TimeRangeInput!, $q: TimeRangeInput!) {{
  snapshot {{ id }}
  workspace(id: "w") {{ {METRICS}
    targetApps(first: 100) {{ totalCount nodes {{ id {METRICS} }} }} }} }}"""

RANKED_APPS_QUERY = f"""query($r: TimeRangeInput!, $q: TimeRangeInput!) {{
  workspace(id: "w") {{
    byMiniPrograms: targetApps(orderBy: {{field: MINI_PROGRAM_COUNT, direction: ASC}},
      timeRange: $q) {{ nodes {{ id }} }}
    targetApps(first: 100, orderBy: {{field: USER_COUNT}}, timeRange: $r) {{
      totalCount nodes {{ id {METRICS} }} }} }} }}"""

MINI_PROGRAMS_QUERY = f"""query($r: TimeRangeInput!, $q: TimeRangeInput!) {{
  targetApp(id: "a0") {{ {METRICS}
    miniPrograms(first: 100) {{ totalCount nodes {{ id {METRICS} }} }} }} }}"""

VARIABLES = {"r": {"preset": "LAST_30_DAYS"}, "q": {"days": 7, "endDate": "2026-11-05"}}


def _line(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record)


def _lines(apps: int, mini_programs: int) -> list[bytes]:
    created = "2026-01-01T00:00:00+00:00"
    out = [_line({"kind": "workspace", "id": "w", "name": "W"})]
    for a in range(apps):
        out.append(_line({"kind": "targetApp", "id": f"a{a}", "workspaceId": "w",
                          "name": f"A{a}", "createdAt": created}))  # fmt: skip
    for m in range(mini_programs):
        out.append(_line({
            "kind": "miniProgram", "id": f"m{m}", "workspaceId": "w", "merchantId": None,
            "name": f"M{m}", "type": "MINI_GAME" if m % 2 else "MINI_PROGRAM",
            "category": "games", "source": "wallet", "createdAt": created,
        }))  # fmt: skip
        for a in range(apps):
            out.append(_line({"kind": "deployment", "targetAppId": f"a{a}",
                              "miniProgramId": f"m{m}", "status": "FULL_RELEASE",
                              "at": created}))  # fmt: skip
    number = 0
    for a in range(apps):
        for m in range(mini_programs):
            for day in range(0, 40, 3):
                number += 1
                at = dt.datetime(2026, 10, 1, 10, tzinfo=dt.UTC) + dt.timedelta(days=day)
                out.append(_line({
                    "kind": "launch" if number % 4 else "pageView", "id": f"e{number}",
                    "at": at.isoformat(), "targetAppId": f"a{a}", "miniProgramId": f"m{m}",
                    "userGuid": f"u{number % 13}", "durationMs": 1000,
                    "dataType": "NON_PRODUCTION" if number % 5 == 0 else "PRODUCTION",
                }))  # fmt: skip
    return out


async def _run(
    engine: AsyncEngine, settings: Settings, query: str, apps: int, mini_programs: int
) -> tuple[int, Any]:
    await clear(engine)
    report = await ingest_lines(engine, _lines(apps, mini_programs), source="test")
    assert report.quarantined == 0, report
    await refresh(engine)
    schema = build_schema(limits=RAISED_LIMITS)
    # Warm the pool first: a dialect's first-connect queries are not the query's.
    async with Context.create(engine, settings, now=NOW, principal=ADMIN) as warm:
        await schema.execute("{ snapshot { id } }", context_value=warm)
    async with Context.create(engine, settings, now=NOW, principal=ADMIN) as context:
        with counting_statements(engine) as statements:
            result = await schema.execute(query, variable_values=VARIABLES, context_value=context)
            await context.close()  # counted too: ending the read transaction
    assert result.errors is None, result.errors
    return len(statements), result.data


@pytest.mark.parametrize("query", [APPS_QUERY, RANKED_APPS_QUERY], ids=["by-id", "ranked"])
async def test_target_apps_do_not_multiply_statements(
    engine: AsyncEngine, settings: Settings, query: str
) -> None:
    counts = []
    for n in (1, 20):
        count, data = await _run(engine, settings, query, n, 2)
        counts.append(count)
        nodes = data["workspace"]["targetApps"]["nodes"]
        assert len(nodes) == n
        assert all(app["activeUsers"]["value"] > 0 for app in nodes)  # real data was read
        assert all(app["launches"]["value"] > 0 for app in nodes)
    assert counts[0] == counts[1], f"statements for 1 vs 20 apps: {counts}"
    print("statements per request (1 / 20 apps):", counts)
    assert counts[0] <= 16, counts


async def test_mini_programs_do_not_multiply_statements(
    engine: AsyncEngine, settings: Settings
) -> None:
    counts = []
    for n in (1, 50):
        count, data = await _run(engine, settings, MINI_PROGRAMS_QUERY, 1, n)
        counts.append(count)
        nodes = data["targetApp"]["miniPrograms"]["nodes"]
        assert len(nodes) == n
        assert all(mp["activeUsers"]["value"] > 0 for mp in nodes)
        assert all(len(mp["monthlyActiveUsers"]) == 3 for mp in nodes)
    assert counts[0] == counts[1], f"statements for 1 vs 50 mini programs: {counts}"
    print("statements per request (1 / 50 mini programs):", counts)
    assert counts[0] <= 16, counts
