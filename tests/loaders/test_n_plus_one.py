"""No N+1: the SQL statements of a query do not grow with the number of entities it returns.

Each test runs the same query over a catalog of 1 and of 20 target apps (or workspaces), each
with mini programs, merchants and deployment histories, and counts the statements the engine
executes (``before_cursor_execute``): the counts must be equal.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.context import Context
from gateway.domain import DeploymentStatus
from gateway.schema import build_schema
from gateway.settings import Settings
from gateway.store import tables
from tests.conftest import RAISED_LIMITS
from tests.loaders.statements import counting_statements
from tests.principals import ADMIN

MINI_PROGRAMS_PER_APP = 3
STATUSES = list(DeploymentStatus)


def _catalog(workspaces: int, apps_per_workspace: int) -> dict[Any, list[dict[str, Any]]]:
    at = dt.datetime(2024, 3, 1)
    rows: dict[Any, list[dict[str, Any]]] = {
        t: [] for t in (tables.workspaces, tables.target_apps, tables.merchants)
    }
    rows[tables.mini_programs], rows[tables.deployments] = [], []
    for w in range(workspaces):
        ws = f"ws-{w:02d}"
        rows[tables.workspaces].append({"id": ws, "name": ws})
        merchant = {"id": f"m-{ws}", "workspace_id": ws, "name": "M"}
        rows[tables.merchants].append(merchant | {"merchant_type": "TECHNICAL", "onboarded_at": at})
        for a in range(apps_per_workspace):
            app = f"app-{w:02d}-{a:02d}"
            rows[tables.target_apps].append(
                {"id": app, "workspace_id": ws, "name": app, "created_at": at}
            )
            for m in range(MINI_PROGRAMS_PER_APP):
                mp = f"mp-{app}-{m}"
                rows[tables.mini_programs].append(
                    {
                        "id": mp,
                        "workspace_id": ws,
                        "merchant_id": merchant["id"],
                        "name": mp,
                        "type": "MINI_GAME" if m % 2 else "MINI_PROGRAM",
                        "category": "games",
                        "source": "wallet",
                        "created_at": at,
                    }
                )
                for step in range(2):
                    rows[tables.deployments].append(
                        {
                            "target_app_id": app,
                            "mini_program_id": mp,
                            "status": STATUSES[(a + m + step) % len(STATUSES)].name,
                            "at": at + dt.timedelta(days=step),
                        }
                    )
    return rows


async def _insert(engine: AsyncEngine, rows: dict[Any, list[dict[str, Any]]]) -> None:
    async with engine.begin() as conn:
        for table in (
            tables.workspaces,
            tables.target_apps,
            tables.merchants,
            tables.mini_programs,
            tables.deployments,
        ):
            await conn.execute(table.insert(), rows[table])


MINI_PROGRAM_FIELDS = """totalCount nodes { id name type status
    merchant { name merchantType }
    workspace { name }
    deployment { status statusSince history { status at } }
    deployments { totalCount nodes { status associatedAt targetApp { name }
                                     miniProgram { status } } } }"""

APPS_QUERY = f"""{{ workspace(id: "ws-00") {{ targetApps(first: 100) {{ totalCount nodes {{
    id name createdAt workspace {{ name }}
    miniProgramStatusCounts {{ all fullRelease reviewing inactive }}
    games: miniProgramStatusCounts(type: MINI_GAME) {{ all }}
    availableMiniPrograms
    miniPrograms(first: 10) {{ {MINI_PROGRAM_FIELDS} }} }} }} }} }}"""

WORKSPACES_QUERY = f"""{{ workspaces(first: 100) {{ totalCount nodes {{
    id name availableMiniPrograms
    merchants {{ totalCount nodes {{ name workspace {{ id }}
                                    miniPrograms {{ totalCount nodes {{ id }} }} }} }}
    miniPrograms(type: MINI_GAME) {{ totalCount nodes {{ id merchant {{ id }} }} }}
    targetApps {{ totalCount nodes {{ name miniProgramStatusCounts {{ all }}
        miniPrograms {{ {MINI_PROGRAM_FIELDS} }} }} }} }} }} }}"""


async def _count_statements(
    engine: AsyncEngine, settings: Settings, query: str
) -> tuple[int, dict[str, Any]]:
    schema = build_schema(limits=RAISED_LIMITS)
    # Warm the pool first: a dialect's first-connect queries are not the query's.
    await schema.execute(
        "{ workspaces(first: 1) { totalCount } }",
        context_value=Context.create(engine, settings, principal=ADMIN),
    )
    with counting_statements(engine) as statements:
        result = await schema.execute(
            query, context_value=Context.create(engine, settings, principal=ADMIN)
        )
    assert result.errors is None, result.errors
    assert result.data is not None
    return len(statements), result.data


@pytest.mark.parametrize(
    ("query", "shape"),
    [(APPS_QUERY, (1, 20)), (WORKSPACES_QUERY, (20, 1))],
    ids=["target-apps", "workspaces"],
)
async def test_statement_count_does_not_grow_with_entities(
    engine: AsyncEngine, settings: Settings, query: str, shape: tuple[int, int]
) -> None:
    # ``shape`` says which dimension grows: (workspaces, apps per workspace) = 1 vs 20.
    grows_apps = shape == (1, 20)
    counts = []
    for n in (1, 20):
        await _wipe(engine)
        await _insert(engine, _catalog(1, n) if grows_apps else _catalog(n, 2))
        count, result = await _count_statements(engine, settings, query)
        counts.append(count)
        apps = result["workspace"]["targetApps"] if grows_apps else result["workspaces"]
        assert apps["totalCount"] == n  # the query really returned n entities
    assert counts[0] == counts[1], f"statements for 1 vs 20 entities: {counts}"
    assert counts[0] <= 25, counts  # a constant, and a small one


async def _wipe(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for table in (
            tables.deployments,
            tables.mini_programs,
            tables.merchants,
            tables.target_apps,
            tables.workspaces,
        ):
            await conn.execute(table.delete())
