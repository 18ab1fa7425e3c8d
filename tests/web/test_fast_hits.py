"""The fast path of cached answers (gateway/web/fast_hits.py) never bypasses authentication."""

from __future__ import annotations

import datetime as dt

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.authz.principal import Grant, Role
from gateway.authz.tokens import mint_token
from gateway.settings import Settings
from gateway.store import tables
from gateway.store.apikeys import create_api_key, revoke_api_key
from gateway.web.response_cache import ResponseCache

QUERY = {"query": "{ workspaces { totalCount nodes { id name } } }"}


async def _ask(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/graphql", content=orjson.dumps(QUERY), headers={
        "Content-Type": "application/json", **headers})  # fmt: skip


async def _workspaces(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            tables.workspaces.insert(), [{"id": "ws-1", "name": "A"}, {"id": "ws-2", "name": "B"}]
        )


async def test_a_repeated_request_is_a_hit_served_in_front_of_the_view(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _workspaces(engine)
    first = await _ask(client, admin)

    async def not_reached(*args: object) -> str:
        raise AssertionError("the hit went down the full path")

    monkeypatch.setattr(ResponseCache, "handle", not_reached)
    second = await _ask(client, admin)
    assert first.status_code == second.status_code == 200
    assert orjson.loads(first.content)["extensions"]["cache"]["hit"] is False
    assert orjson.loads(second.content)["extensions"]["cache"]["hit"] is True
    assert orjson.loads(second.content)["data"] == orjson.loads(first.content)["data"]
    assert orjson.loads(second.content)["data"]["workspaces"]["totalCount"] == 2


async def test_a_cached_body_never_answers_a_bad_or_other_credential(
    client: httpx.AsyncClient, admin: dict[str, str], app_settings: Settings, engine: AsyncEngine
) -> None:
    await _workspaces(engine)
    await _ask(client, admin)
    await _ask(client, admin)  # cached, and known to the fast path
    token = admin["Authorization"].removeprefix("Bearer ")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for headers in ({"Authorization": f"Bearer {tampered}"}, {"Authorization": "Bearer x"}, {}):
        assert (await _ask(client, headers)).status_code == 401
    expired = mint_token(
        app_settings,
        "test-admin",
        [Grant(Role.SUPER_ADMIN)],
        dt.timedelta(minutes=1),
        now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    assert (await _ask(client, {"Authorization": f"Bearer {expired}"})).status_code == 401
    # Other grants: their own answer, never the cached one.
    scoped = mint_token(
        app_settings, "op", [Grant(Role.SUPERAPP_OPERATOR, "ws-2")], dt.timedelta(minutes=5)
    )
    other = orjson.loads((await _ask(client, {"Authorization": f"Bearer {scoped}"})).content)
    assert other["data"]["workspaces"] == {"totalCount": 1, "nodes": [{"id": "ws-2", "name": "B"}]}


async def test_a_revoked_api_key_is_refused_even_for_a_cached_answer(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    await _workspaces(engine)
    key = await create_api_key(engine, "partner", [Grant(Role.SUPER_ADMIN)])
    headers = {"X-API-Key": key}
    assert (await _ask(client, headers)).status_code == 200
    cached = await _ask(client, headers)
    assert orjson.loads(cached.content)["extensions"]["cache"]["hit"] is True
    await revoke_api_key(engine, "partner")
    assert (await _ask(client, headers)).status_code == 401
