"""Record builders and table readers shared by the ingestion tests."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

T0 = "2024-05-01T10:00:00+00:00"


def line(record: dict[str, Any]) -> bytes:
    """One JSON line with its newline."""
    return orjson.dumps(record) + b"\n"


def workspace(wid: str = "ws1", name: str = "Workspace") -> dict[str, Any]:
    return {"kind": "workspace", "id": wid, "name": name}


def target_app(aid: str = "app1", wid: str = "ws1", name: str = "App") -> dict[str, Any]:
    return {"kind": "targetApp", "id": aid, "workspaceId": wid, "name": name, "createdAt": T0}


def merchant(mid: str = "m1", wid: str = "ws1", name: str = "Merchant") -> dict[str, Any]:
    return {
        "kind": "merchant",
        "id": mid,
        "workspaceId": wid,
        "name": name,
        "merchantType": "TECHNICAL",
        "onboardedAt": T0,
    }


def mini_program(
    pid: str = "mp1", wid: str = "ws1", merchant_id: str | None = None, name: str = "Mini"
) -> dict[str, Any]:
    return {
        "kind": "miniProgram",
        "id": pid,
        "workspaceId": wid,
        "merchantId": merchant_id,
        "name": name,
        "type": "MINI_PROGRAM",
        "category": "food_beverage",
        "source": "wallet",
        "createdAt": T0,
    }


def deployment(
    aid: str = "app1", pid: str = "mp1", status: str = "FULL_RELEASE", at: str = T0
) -> dict[str, Any]:
    return {
        "kind": "deployment",
        "targetAppId": aid,
        "miniProgramId": pid,
        "status": status,
        "at": at,
    }


def user(guid: str, source: str = "wallet") -> dict[str, Any]:
    return {"kind": "user", "guid": guid, "source": source, "createdAt": T0}


def launch(
    eid: str, guid: str = "u1", aid: str = "app1", pid: str = "mp1", at: str = T0
) -> dict[str, Any]:
    return {
        "kind": "launch",
        "id": eid,
        "at": at,
        "targetAppId": aid,
        "miniProgramId": pid,
        "userGuid": guid,
    }


def page_view(eid: str, guid: str = "u1", duration: int = 1500) -> dict[str, Any]:
    return {**launch(eid, guid), "kind": "pageView", "page": "/home", "durationMs": duration}


def ad_impression(eid: str, guid: str = "u1", revenue: str = "0.25") -> dict[str, Any]:
    return {**launch(eid, guid), "kind": "adImpression", "valid": True, "revenue": revenue}


def catalog() -> list[dict[str, Any]]:
    """A consistent little catalog: one workspace, app, merchant, mini program, deployment."""
    return [
        workspace(),
        target_app(),
        merchant(),
        mini_program(merchant_id="m1"),
        deployment(),
    ]


def lines(records: list[dict[str, Any]]) -> list[bytes]:
    return [line(r) for r in records]


async def count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def rows(engine: AsyncEngine, table: Table, *order: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        stmt = select(table).order_by(*(table.c[name] for name in order))
        return [dict(r._mapping) for r in await conn.execute(stmt)]
