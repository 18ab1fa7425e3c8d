"""The cached answers' fast path (gateway/web/cache_fast_path.py) never bypasses authentication."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from types import SimpleNamespace
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.authz.tokens import mint_token
from gateway.loaders.snapshot import Snapshot
from gateway.roles import Grant, Role
from gateway.settings import Settings
from gateway.store import tables
from gateway.store.apikeys import create_api_key, revoke_api_key
from gateway.store.generation import Generation
from gateway.web import cache_fast_path
from gateway.web.response_cache import Located, ResponseCache

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


async def test_a_remembered_request_is_refused_once_its_token_expires(
    client: httpx.AsyncClient, app_settings: Settings, engine: AsyncEngine
) -> None:
    await _workspaces(engine)
    # Accepted (expiry + 30 s of clock skew) for about 3 more seconds.
    minted = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=87)
    token = mint_token(app_settings, "short", [Grant(Role.SUPER_ADMIN)], dt.timedelta(minutes=1),
                       now=minted)  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    await _ask(client, headers)
    remembered = await _ask(client, headers)  # the fast path now knows this request's key
    assert orjson.loads(remembered.content)["extensions"]["cache"]["hit"] is True
    accepted_until = minted.replace(microsecond=0) + dt.timedelta(seconds=60 + 30)
    await asyncio.sleep((accepted_until - dt.datetime.now(dt.UTC)).total_seconds() + 0.5)
    refused = await _ask(client, headers)
    assert refused.status_code == 401
    assert orjson.loads(refused.content)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def _known(
    day: int, generation: Generation, valid_until: float, keys: int = 0
) -> cache_fast_path._Known:
    return cache_fast_path._Known(
        Located("k", generation, day), 0.0, valid_until, "jwt:someone", "jwt:someone", keys
    )


async def test_a_remembered_key_holds_only_for_its_day_generation_and_token() -> None:
    generation = Generation(Snapshot(3, dt.datetime(2026, 1, 1, tzinfo=dt.UTC)), 7)

    class Tracker:
        async def current(self) -> Generation:
            return generation

    responses: Any = SimpleNamespace(tracker=Tracker())
    settings = Settings()  # no key set: its generation is 0
    today = dt.datetime.now(dt.UTC).date().toordinal()
    later = time.time() + 60
    assert await cache_fast_path._holds(_known(today, generation, later), responses, settings)
    assert not await cache_fast_path._holds(
        _known(today - 1, generation, later), responses, settings
    )
    assert not await cache_fast_path._holds(
        _known(today, generation, time.time() - 1), responses, settings
    )
    newer = Generation(Snapshot(4, generation.snapshot.taken_at), 7)
    assert not await cache_fast_path._holds(_known(today, newer, later), responses, settings)
    # A key withdrawn from the JWT key set since: the token is verified again.
    withdrawn = _known(today, generation, later, keys=1)
    assert not await cache_fast_path._holds(withdrawn, responses, settings)


def _answered(status: str) -> float:
    labels = {"path": "/graphql", "method": "POST", "status": status}
    return REGISTRY.get_sample_value("gateway_http_requests_total", labels) or 0.0


async def test_every_answer_counts_once_in_the_http_metrics_with_its_request_id(
    client: httpx.AsyncClient, admin: dict[str, str], engine: AsyncEngine
) -> None:
    await _workspaces(engine)
    before = _answered("200")
    miss = await _ask(client, admin)
    hit = await _ask(client, admin)  # answered by the fast path
    refused = await _ask(client, {})
    assert orjson.loads(hit.content)["extensions"]["cache"]["hit"] is True
    assert _answered("200") - before == 2
    assert refused.status_code == 401
    ids = {r.headers["x-request-id"] for r in (miss, hit, refused)}
    assert len(ids) == 3
