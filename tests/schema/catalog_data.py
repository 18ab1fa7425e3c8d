"""A small hand-made catalog, inserted with SQLAlchemy Core, and helpers to query it.

Times are naive UTC, as stored. Expected answers in the tests are derived from these literals
(plus the status-group table), never from the code under test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.types import ExecutionResult

from gateway.domain import DeploymentStatus as S
from gateway.settings import Settings
from gateway.store import tables
from tests.principals import ADMIN, run_as


def t(day: int, hour: int = 0) -> dt.datetime:
    """A stored (naive UTC) instant in March 2024."""
    return dt.datetime(2024, 3, day, hour)


WORKSPACES: list[dict[str, Any]] = [{"id": "ws-1", "name": "Alpha"}, {"id": "ws-2", "name": "Beta"}]
TARGET_APPS: list[dict[str, Any]] = [
    {"id": "app-1", "workspace_id": "ws-1", "name": "Wallet", "created_at": t(1, 8)},
    {"id": "app-2", "workspace_id": "ws-1", "name": "Travel", "created_at": t(2, 9)},
    {"id": "app-3", "workspace_id": "ws-2", "name": "Gamma", "created_at": t(3, 10)},
]
MERCHANTS: list[dict[str, Any]] = [
    {
        "id": "m-1",
        "workspace_id": "ws-1",
        "name": "Noodle Bar",
        "merchant_type": "TECHNICAL",
        "onboarded_at": t(1, 12),
    },
    {
        "id": "m-2",
        "workspace_id": "ws-1",
        "name": "Corner Shop",
        "merchant_type": "NON_TECHNICAL",
        "onboarded_at": None,
    },
]


def _mp(
    mp_id: str, ws: str, merchant: str | None, type_: str, category: str, source: str
) -> dict[str, Any]:
    return {
        "id": mp_id,
        "workspace_id": ws,
        "merchant_id": merchant,
        "name": f"Mini {mp_id}",
        "type": type_,
        "category": category,
        "source": source,
        "created_at": t(1, int(mp_id[-1])),
    }


MINI_PROGRAMS: list[dict[str, Any]] = [
    _mp("mp-1", "ws-1", "m-1", "MINI_PROGRAM", "food_beverage", "wallet"),
    _mp("mp-2", "ws-1", "m-1", "MINI_GAME", "games", "merchant"),
    _mp("mp-3", "ws-1", "m-2", "MINI_PROGRAM", "food_beverage", "alipay_plus"),
    _mp("mp-4", "ws-1", None, "MINI_PROGRAM", "travel", "wallet"),
    _mp("mp-5", "ws-2", None, "MINI_GAME", "games", "wallet"),
]
HISTORY: dict[tuple[str, str], list[tuple[S, dt.datetime]]] = {
    ("app-1", "mp-1"): [(S.DEVELOPING, t(1)), (S.REVIEWING, t(5)), (S.FULL_RELEASE, t(10))],
    ("app-1", "mp-2"): [(S.DEVELOPING, t(2)), (S.GRAYSCALE_RELEASE, t(12))],
    ("app-1", "mp-3"): [(S.REVIEWING, t(3)), (S.PILOT_TESTING, t(8))],
    ("app-1", "mp-4"): [(S.FULL_RELEASE, t(4)), (S.OFFLINE, t(20))],
    ("app-2", "mp-1"): [(S.GRAYSCALE_RELEASE, t(15))],
    ("app-2", "mp-3"): [(S.DEVELOPING, t(1))],
    ("app-3", "mp-5"): [(S.FULL_RELEASE, t(1))],
}
"""(target app, mini program) -> status history, oldest first."""


def deployment_rows() -> list[dict[str, Any]]:
    """The ``deployments`` rows of :data:`HISTORY`, newest first (insert order must not matter)."""
    rows = [
        {"target_app_id": app, "mini_program_id": mp, "status": status.name, "at": at}
        for (app, mp), changes in HISTORY.items()
        for status, at in changes
    ]
    return rows[::-1]


async def insert_catalog(engine: AsyncEngine) -> None:
    """Insert the whole catalog above."""
    async with engine.begin() as conn:
        await conn.execute(tables.workspaces.insert(), WORKSPACES)
        await conn.execute(tables.target_apps.insert(), TARGET_APPS)
        await conn.execute(tables.merchants.insert(), MERCHANTS)
        await conn.execute(tables.mini_programs.insert(), MINI_PROGRAMS)
        await conn.execute(tables.deployments.insert(), deployment_rows())


def iso(value: dt.datetime) -> str:
    """How the API prints a stored instant: ISO-8601 in UTC with its offset."""
    return value.replace(tzinfo=dt.UTC).isoformat()


async def run(
    schema: strawberry.Schema,
    engine: AsyncEngine,
    settings: Settings,
    query: str,
    variables: dict[str, Any] | None = None,
) -> ExecutionResult:
    """Execute ``query`` as the administrator (:func:`tests.principals.run_as`)."""
    return await run_as(schema, engine, settings, ADMIN, query, variables)


async def data(
    schema: strawberry.Schema,
    engine: AsyncEngine,
    settings: Settings,
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``data`` of a query that must succeed."""
    result = await run(schema, engine, settings, query, variables)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data
