"""No N+1 in the catalog metrics: the statements of a query do not grow with its entities.

1 vs 20 target apps each asking ``miniProgramCount`` and both breakdowns (twice, with other
filters and ranges), and 1 vs 6 workspaces asking ``createdMiniPrograms``,
``merchantOnboarding`` and both breakdowns: the statement counts must be equal.
"""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.context import Context
from gateway.schema import build_schema
from gateway.settings import Settings
from tests.conftest import RAISED_LIMITS
from tests.loaders.statements import counting_statements
from tests.principals import ADMIN
from tests.schema import catalog_metrics_data as bf

APP_FIELDS = """id
    miniProgramCount(timeRange: $r) { value series(granularity: WEEK) { value } }
    games: miniProgramCount(timeRange: $q, type: MINI_GAME, category: "games") { value }
    miniProgramsBySource(timeRange: $r) { total items { key count } }
    miniProgramsByCategory(timeRange: $q, type: MINI_PROGRAM) { total items { key share } }"""

APPS_QUERY = f"""query($r: TimeRangeInput!, $q: TimeRangeInput!) {{
  workspace(id: "ws-0") {{ targetApps(first: 100) {{ totalCount nodes {{ {APP_FIELDS} }} }} }} }}"""

WORKSPACES_QUERY = f"""query($r: TimeRangeInput!, $q: TimeRangeInput!) {{
  workspaces(first: 100) {{ totalCount nodes {{ id
    createdMiniPrograms(timeRange: $r) {{ value previousValue series {{ value }} }}
    games: createdMiniPrograms(timeRange: $q, type: MINI_GAME) {{ value }}
    merchantOnboarding(timeRange: $r) {{
      newMerchants {{ all {{ value }} technical {{ change }} }}
      totalMerchants {{ nonTechnical {{ value series(granularity: MONTH) {{ value }} }} }}
      series {{ date cumulativeTechnical }} }}
    miniProgramsBySource(timeRange: $r, type: MINI_GAME) {{ total }}
    miniProgramsByCategory(timeRange: $q) {{ items {{ key previousCount }} }}
    targetApps {{ nodes {{ {APP_FIELDS} }} }} }} }} }}"""

VARIABLES = {"r": {"preset": "LAST_30_DAYS"}, "q": {"from": "2026-03-01", "to": "2026-05-15"}}


async def _statements(engine: AsyncEngine, settings: Settings, query: str) -> tuple[int, Any]:
    schema = build_schema(limits=RAISED_LIMITS)
    # Warm the pool first: a dialect's first-connect queries are not the query's.
    warm = Context.create(engine, settings, now=bf.NOW, principal=ADMIN)
    await schema.execute("{ workspaces(first: 1) { totalCount } }", context_value=warm)
    context = Context.create(engine, settings, now=bf.NOW, principal=ADMIN)
    with counting_statements(engine) as statements:
        result = await schema.execute(query, variable_values=VARIABLES, context_value=context)
    assert result.errors is None, result.errors
    return len(statements), result.data


async def _run_with(
    engine: AsyncEngine, settings: Settings, query: str, shape: tuple[int, int]
) -> tuple[int, Any]:
    workspaces, apps = shape
    await bf.wipe(engine)
    await bf.insert(engine, bf.random_catalog(random.Random(7), workspaces, apps, mini_programs=30))
    return await _statements(engine, settings, query)


async def test_target_apps_do_not_multiply_statements(
    engine: AsyncEngine, settings: Settings
) -> None:
    counts = []
    for n in (1, 20):
        count, data = await _run_with(engine, settings, APPS_QUERY, (1, n))
        counts.append(count)
        apps = data["workspace"]["targetApps"]
        assert apps["totalCount"] == len(apps["nodes"]) == n
        # Real data went through the loaders (a mini program is deployed somewhere).
        assert sum(app["miniProgramsBySource"]["total"] for app in apps["nodes"]) > 0
    assert counts[0] == counts[1], f"statements for 1 vs 20 apps: {counts}"
    assert counts[0] <= 4, counts  # workspace, apps page + count, one association load


async def test_workspaces_do_not_multiply_statements(
    engine: AsyncEngine, settings: Settings
) -> None:
    counts = []
    for n in (1, 6):
        count, data = await _run_with(engine, settings, WORKSPACES_QUERY, (n, 2))
        counts.append(count)
        workspaces = data["workspaces"]
        assert workspaces["totalCount"] == len(workspaces["nodes"]) == n
        assert sum(ws["createdMiniPrograms"]["value"] for ws in workspaces["nodes"]) > 0
    assert counts[0] == counts[1], f"statements for 1 vs 6 workspaces: {counts}"
    # Pages (2 + 2) and one load each: created, onboarding, associations by workspace and app.
    assert counts[0] <= 8, counts
