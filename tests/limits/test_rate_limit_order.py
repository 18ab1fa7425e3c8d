"""Where the rate limit applies: before an API key is looked up in the database (a flood of
bad keys costs no lookup past the limit), on ``POST /v1/events``, and on ``/export``."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

import gateway.authz.authenticate as authenticate_module
from gateway.authz.tokens import mint_token
from gateway.roles import Grant, Role
from gateway.settings import Settings
from gateway.store.apikeys import create_api_key
from tests.limits.conftest import Serve
from tests.limits.support import codes

QUERY = {"query": "{ snapshot { id } }"}


def _limited(cache_url: str | None, burst: int = 3) -> dict[str, object]:
    """Settings overrides: a burst of ``burst``, refilled too slowly to matter in a test."""
    return {"rate_limit_per_second": 0.001, "rate_limit_burst": burst, "redis_url": cache_url}


def _random_key() -> str:
    """A well-formed API key that exists nowhere."""
    return f"gw_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every API key looked up in the database (a spy on authentication's lookup)."""
    seen: list[str] = []
    real: Callable[..., Awaitable[Any]] = authenticate_module.verify_api_key

    async def spy(engine: AsyncEngine, key: str, **kwargs: Any) -> Any:
        seen.append(key)
        return await real(engine, key, **kwargs)

    monkeypatch.setattr(authenticate_module, "verify_api_key", spy)
    return seen


async def test_a_flood_of_bad_api_keys_costs_no_lookup_past_the_limit(
    serve: Serve, cache_url: str | None, lookups: list[str]
) -> None:
    async with serve(**_limited(cache_url)) as http:
        answers = [
            await http.post("/graphql", json=QUERY, headers={"X-API-Key": _random_key()})
            for _ in range(20)
        ]
        malformed = await http.post("/graphql", json=QUERY, headers={"X-API-Key": "x" * 500})
    assert [a.status_code for a in answers] == [401] * 3 + [429] * 17
    assert len(lookups) == 3  # the address's burst, then refused before the database
    assert malformed.status_code == 429
    assert codes(answers[-1]) == ["RATE_LIMITED"]


async def test_a_known_api_key_has_its_own_bucket_before_its_lookup(
    serve: Serve, cache_url: str | None, engine: AsyncEngine, lookups: list[str]
) -> None:
    key = await create_api_key(engine, "partner", [Grant(Role.SUPER_ADMIN)])
    prefix = key.split("_")[1]
    wrong_secret = f"gw_{prefix}_{secrets.token_urlsafe(32)}"
    async with serve(**_limited(cache_url, burst=3)) as http:
        first = await http.post("/graphql", json=QUERY, headers={"X-API-Key": key})
        # The address's bucket (1 taken by the key's first, unknown, request) runs dry ...
        spray = [
            await http.post("/graphql", json=QUERY, headers={"X-API-Key": _random_key()})
            for _ in range(3)
        ]
        # ... while the key, known now, takes from its own bucket, before its lookup; a wrong
        # secret with its (public) prefix takes from the same bucket.
        mine = [await http.post("/graphql", json=QUERY, headers={"X-API-Key": key})]
        mine.append(await http.post("/graphql", json=QUERY, headers={"X-API-Key": wrong_secret}))
        mine += [await http.post("/graphql", json=QUERY, headers={"X-API-Key": key})]
        before = len(lookups)
        mine.append(await http.post("/graphql", json=QUERY, headers={"X-API-Key": key}))
    assert first.status_code == 200
    assert [a.status_code for a in spray] == [401, 401, 429]
    assert [a.status_code for a in mine] == [200, 401, 200, 429]
    assert len(lookups) == before  # the key's bucket is empty: refused before the lookup


def _ingester(settings: Settings) -> dict[str, str]:
    token = mint_token(settings, "ingest-bot", (Grant(Role.INGESTER),), dt.timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


async def test_events_take_a_token_per_request(
    serve: Serve, app_settings: Settings, cache_url: str | None, lookups: list[str]
) -> None:
    body = orjson.dumps([{"kind": "workspace", "id": f"ws-{i}", "name": "W"} for i in range(50)])
    async with serve(**_limited(cache_url, burst=2)) as http:
        answers = [
            await http.post("/v1/events", content=body, headers=_ingester(app_settings))
            for _ in range(3)
        ]
        anonymous = [await http.post("/v1/events", content=body) for _ in range(3)]
        bad_keys = [
            await http.post("/v1/events", content=body, headers={"X-API-Key": _random_key()})
            for _ in range(3)
        ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[2]
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert int(refused.headers["retry-after"]) > 900  # a token every 1,000 s
    # Without credentials the address's bucket applies, before the 401 and any lookup.
    assert [a.status_code for a in anonymous] == [401, 401, 429]
    assert {a.status_code for a in bad_keys} == {429}
    assert lookups == []


async def test_export_takes_a_token(
    serve: Serve, admin: dict[str, str], cache_url: str | None
) -> None:
    export = {"query": "{ snapshot { id } }", "format": "csv"}
    async with serve(**_limited(cache_url, burst=1)) as http:
        answers = [await http.post("/export", json=export, headers=admin) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 429]
    assert codes(answers[1]) == ["RATE_LIMITED"]
