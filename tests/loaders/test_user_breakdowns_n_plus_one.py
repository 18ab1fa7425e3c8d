"""No N+1 in the user breakdowns: 1 vs 20 target apps cost the same statements.

Each app (and the workspace) asks ``usersBySource`` and ``usersByCategory`` under both bases,
with other filters and ranges through aliases; the statement counts must be equal, and small.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

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

STATEMENTS: list[str] = []
NOW = dt.datetime(2026, 11, 14, 10, 0, tzinfo=dt.UTC)

FIELDS = """id
    usersBySource(timeRange: $r) { total items { key count previousCount } }
    active: usersBySource(timeRange: $q, basis: ACTIVE, type: MINI_GAME, category: "food") {
      total }
    usersByCategory(timeRange: $r, basis: ACTIVE) { total items { key count } }
    cumulative: usersByCategory(timeRange: $q, dataType: NON_PRODUCTION) { total }"""

QUERY = f"""query($r: TimeRangeInput!, $q: TimeRangeInput!) {{
  workspace(id: "w") {{ {FIELDS}
    targetApps(first: 100) {{ totalCount nodes {{ {FIELDS} }} }} }} }}"""

VARIABLES = {"r": {"preset": "LAST_7_DAYS"}, "q": {"from": "2026-10-25", "to": "2026-11-10"}}


def _lines(apps: int, rng: random.Random) -> list[bytes]:
    created = "2026-01-01T00:00:00Z"
    records: list[dict[str, Any]] = [{"kind": "workspace", "id": "w", "name": "W"}]
    records += [
        {"kind": "targetApp", "id": f"a{i:02}", "workspaceId": "w", "name": f"A{i}",
         "createdAt": created}
        for i in range(apps)
    ]  # fmt: skip
    for i in range(8):
        records.append({
            "kind": "miniProgram", "id": f"m{i}", "workspaceId": "w", "merchantId": None,
            "name": f"M{i}", "type": ("MINI_PROGRAM", "MINI_GAME")[i % 2],
            "category": ("food", "games", "travel")[i % 3], "source": "wallet",
            "createdAt": created,
        })  # fmt: skip
    records += [{"kind": "user", "guid": f"u{i}", "source": "wallet"} for i in range(0, 30, 3)]
    for n in range(400):
        at = dt.datetime(2026, 10, 20, tzinfo=dt.UTC) + dt.timedelta(hours=rng.randrange(24 * 25))
        records.append({
            "kind": "launch", "id": f"e{n}", "at": at.isoformat(),
            "targetAppId": f"a{rng.randrange(apps):02}", "miniProgramId": f"m{rng.randrange(8)}",
            "userGuid": f"u{rng.randrange(30)}",
            "dataType": rng.choice(["PRODUCTION", "NON_PRODUCTION"]),
        })  # fmt: skip
    return [json.dumps(record).encode() for record in records]


async def _statements(engine: AsyncEngine, settings: Settings, apps: int) -> tuple[int, Any]:
    await clear(engine)
    report = await ingest_lines(engine, _lines(apps, random.Random(5)), source="test")
    assert report.quarantined == 0, report.problems
    await refresh(engine, now=NOW)
    schema = build_schema(limits=RAISED_LIMITS)
    # Warm the pool first: a dialect's first-connect queries are not the query's.
    async with Context.create(engine, settings, now=NOW, principal=ADMIN) as warm:
        await schema.execute("{ workspaces(first: 1) { totalCount } }", context_value=warm)
    async with Context.create(engine, settings, now=NOW, principal=ADMIN) as context:
        with counting_statements(engine) as statements:
            result = await schema.execute(QUERY, variable_values=VARIABLES, context_value=context)
    assert result.errors is None, result.errors
    STATEMENTS[:] = [" ".join(x.split())[:90] for x in statements]
    return len(statements), result.data


async def test_target_apps_do_not_multiply_statements(
    engine: AsyncEngine, settings: Settings
) -> None:
    counts = []
    for apps in (1, 20):
        count, data = await _statements(engine, settings, apps)
        counts.append(count)
        nodes = data["workspace"]["targetApps"]["nodes"]
        assert len(nodes) == apps
        # Real data went through the loaders.
        assert data["workspace"]["usersBySource"]["total"] > 0
        assert sum(node["usersByCategory"]["total"] for node in nodes) > 0
    assert counts[0] == counts[1], f"statements for 1 vs 20 apps: {counts}"
    # Workspace, apps page + count, snapshot (BEGIN + row), then two breakdown batches (the
    # workspace's, then its apps'): cells, active and cumulative bitmaps and users counts (the
    # cumulative by-category keys, no bitmap) each, and the source bitmaps once per request.
    assert counts[0] <= 14, "\n".join(STATEMENTS)
