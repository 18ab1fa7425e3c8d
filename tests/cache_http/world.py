"""The data of the cache tests over HTTP: the access tests' two tenants, with events.

The catalog is :mod:`tests.access.conftest`'s (ws-1 {app-1, app-2, m-1 (mp-1, mp-2), m-2 (mp-3),
mp-4}, ws-2 {app-3, m-3 (mp-6), mp-5}); events are seeded random launches, page views and ad
impressions of every deployed (app, mini program) pair in March 2024, ingested through the real
ingester and folded into a snapshot by the real refresh. Where each entity lives is restated
from the catalog literals, so scope checks never ask the code under test.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.authz.principal import Principal
from gateway.settings import Settings
from gateway.store import tables
from gateway.store.db import create_engine
from gateway.store.ingest import ingest_lines
from gateway.store.migrate import upgrade
from gateway.store.rollup import refresh
from tests.access.conftest import M3, MP6, MP6_DEPLOYMENT
from tests.access.support import Where, sees
from tests.schema.catalog_data import (
    HISTORY,
    MERCHANTS,
    MINI_PROGRAMS,
    TARGET_APPS,
    insert_catalog,
    t,
)
from tests.schema.catalog_data import WORKSPACES as WORKSPACE_ROWS

PAIRS: tuple[tuple[str, str], ...] = (*HISTORY, ("app-3", "mp-6"))
"""Every deployed (target app, mini program) pair: where events happen."""

RANGE: dict[str, str] = {"from": "2024-03-01", "to": "2024-03-14"}
"""A custom range holding most events (its previous period, February, has none)."""

WORKSPACES = ("ws-1", "ws-2")
MERCHANT_IDS = ("m-1", "m-2", "m-3")


def _where() -> dict[str, Where]:
    where = {row["id"]: Where(row["id"]) for row in WORKSPACE_ROWS}
    where |= {row["id"]: Where(row["workspace_id"]) for row in TARGET_APPS}
    for row in [*MERCHANTS, M3]:
        where[row["id"]] = Where(row["workspace_id"], row["id"])
    for row in [*MINI_PROGRAMS, MP6]:
        where[row["id"]] = Where(row["workspace_id"], row["merchant_id"])
    return where


WHERE: dict[str, Where] = _where()
"""Entity id -> where it lives (workspace, and the merchant of merchants and mini programs)."""


def visible(who: Principal, entity_id: str) -> bool:
    """Whether any grant of ``who`` sees ``entity_id`` (SPEC §6, restated in tests.access)."""
    where = WHERE[entity_id]
    return any(sees(g.role, where, g.workspace_id or "", g.merchant_id or "") for g in who.grants)


def event_lines(seed: int, count: int, first_id: int, days: range = range(1, 21)) -> list[bytes]:
    """``count`` random events (ids ``e<first_id>``...) over ``days`` of March 2024."""
    rng = random.Random(seed)
    lines = []
    for n in range(first_id, first_id + count):
        app, mp = rng.choice(PAIRS)
        at = dt.datetime(2024, 3, rng.choice(days), rng.randrange(24), tzinfo=dt.UTC)
        kind = rng.choice(("launch", "launch", "pageView", "adImpression"))
        record: dict[str, Any] = {
            "kind": kind,
            "id": f"e{n}",
            "at": at.isoformat(),
            "targetAppId": app,
            "miniProgramId": mp,
            "userGuid": f"u{rng.randrange(40)}",
            "dataType": "PRODUCTION" if rng.random() < 0.9 else "NON_PRODUCTION",
        }
        if kind == "pageView":
            record["durationMs"] = rng.randrange(100, 60_000)
        elif kind == "adImpression":
            record["valid"] = rng.random() < 0.7
            record["revenue"] = f"{rng.randrange(1, 500) / 100:.2f}"
        lines.append(orjson.dumps(record))
    return lines


async def ingest(engine: AsyncEngine, lines: list[bytes]) -> None:
    """Ingest ``lines``; every one must be stored."""
    report = await ingest_lines(engine, lines, source="cache-http-test")
    assert report.quarantined == 0, report


async def build_world(engine: AsyncEngine) -> None:
    """The catalog, 600 events and a first snapshot."""
    await insert_catalog(engine)
    async with engine.begin() as conn:
        await conn.execute(tables.merchants.insert(), [M3])
        await conn.execute(tables.mini_programs.insert(), [MP6])
        await conn.execute(tables.deployments.insert(), [{**MP6_DEPLOYMENT, "at": t(4)}])
    await ingest(engine, event_lines(seed=1, count=600, first_id=0))
    await refresh(engine)


async def build_world_in(settings: Settings) -> None:
    """Migrate the (empty) database of ``settings`` and :func:`build_world` in it."""
    engine = create_engine(settings)
    try:
        await upgrade(engine)
        await build_world(engine)
    finally:
        await engine.dispose()


async def more_events(engine: AsyncEngine, seed: int = 2, count: int = 200) -> None:
    """Launches of new users on every pair within :data:`RANGE`, then a new snapshot."""
    lines = []
    for n in range(count):
        app, mp = PAIRS[n % len(PAIRS)]
        record = {
            "kind": "launch",
            "id": f"late-{seed}-{n}",
            "at": f"2024-03-0{1 + n % 9}T12:00:00+00:00",
            "targetAppId": app,
            "miniProgramId": mp,
            "userGuid": f"new-{seed}-{n}",
        }
        lines.append(orjson.dumps(record))
    await ingest(engine, lines)
    await refresh(engine)
