"""``POST /v1/events`` on a tiny app holding just the route (independent of the schema)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.routing import Route

from gateway.authz.tokens import mint_token
from gateway.roles import Grant, Role
from gateway.settings import Settings
from gateway.store import tables as t
from gateway.store.apikeys import create_api_key, revoke_api_key
from gateway.web.events import post_events
from gateway.web.services import Services
from tests.store.ingest_support import catalog, count, launch, lines

SECRET = "events-test-secret-of-32-characters"


def _app(settings: Settings, engine: AsyncEngine) -> Starlette:
    app = Starlette(routes=[Route("/v1/events", post_events, methods=["POST"])])
    app.state.services = Services(settings=settings, engine=engine)
    return app


@pytest.fixture
def auth_settings(settings: Settings) -> Settings:
    """The test database with a JWT secret and a 4 KiB body limit."""
    secret = Settings(jwt_secret=SECRET).jwt_secret
    return settings.model_copy(update={"jwt_secret": secret, "max_request_bytes": 4096})


@pytest.fixture
async def client(auth_settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the route."""
    transport = httpx.ASGITransport(app=_app(auth_settings, engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        yield http


@pytest.fixture
async def key(engine: AsyncEngine) -> str:
    """An API key with the INGESTER role."""
    return await create_api_key(engine, "ingest-bot", [Grant(Role.INGESTER)])


@pytest.fixture
def auth(key: str) -> dict[str, str]:
    """Headers carrying the INGESTER API key."""
    return {"X-API-Key": key}


def _bearer(settings: Settings, *grants: Grant) -> dict[str, str]:
    token = mint_token(settings, "svc", grants, timedelta(minutes=5))
    return {"Authorization": f"Bearer {token}"}


async def test_json_array_body(
    client: httpx.AsyncClient, engine: AsyncEngine, auth: dict[str, str]
) -> None:
    body = orjson.dumps([*catalog(), launch("e1"), launch("e2")])
    response = await client.post("/v1/events", content=body, headers=auth)
    assert response.status_code == 200
    assert response.json() == {
        "records": 7,
        "stored": 7,
        "duplicates": 0,
        "quarantined": 0,
        "quarantinedByReason": {},
        "problems": [],
        "problemsTruncated": False,
    }
    assert await count(engine, t.launches) == 2


async def test_jsonl_body_with_problems_is_207(
    client: httpx.AsyncClient, engine: AsyncEngine, auth: dict[str, str]
) -> None:
    body = b"".join(lines([*catalog(), launch("e1"), launch("e2", aid="nope"), launch("e1")]))
    response = await client.post("/v1/events", content=body, headers=auth)
    assert response.status_code == 207
    result = response.json()
    assert (result["stored"], result["duplicates"], result["quarantined"]) == (6, 1, 1)
    assert result["quarantinedByReason"] == {"unknown targetApp": 1}
    assert result["problems"] == [
        {
            "line": 7,
            "kind": "launch",
            "reason": "unknown targetApp 'nope'",
            "reasonClass": "unknown targetApp",
        }
    ]


async def test_array_elements_are_numbered_by_position(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = b'[{"kind":"workspace","id":"w","name":"W"}, 42, {"kind":"nope"}]'
    response = await client.post("/v1/events", content=body, headers=auth)
    assert response.status_code == 207
    assert [p["line"] for p in response.json()["problems"]] == [2, 3]


@pytest.mark.parametrize("body", [b"", b"  \n", b"[{broken", b'[{"kind":"workspace"} trailing'])
async def test_unparsable_body_is_400(
    client: httpx.AsyncClient, auth: dict[str, str], body: bytes
) -> None:
    response = await client.post("/v1/events", content=body, headers=auth)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"


async def _rejected(
    client: httpx.AsyncClient, engine: AsyncEngine, headers: dict[str, str], status: int
) -> dict[str, str]:
    """Post a catalog with ``headers``; assert ``status`` and that nothing was stored."""
    response = await client.post("/v1/events", content=orjson.dumps(catalog()), headers=headers)
    assert response.status_code == status, response.text
    assert await count(engine, t.workspaces) == 0
    error: dict[str, str] = response.json()["error"]
    if status == 401:
        assert error["code"] == "UNAUTHENTICATED"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    return error


async def test_no_credential_is_401(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    error = await _rejected(client, engine, {}, 401)
    assert "INGESTER" in error["message"]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": ""},
        {"X-API-Key": "wrong"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic aW5nZXN0OnNlY3JldA=="},
        # The interim shared ingest key is gone: its header authenticates nothing.
        {"X-Ingest-Key": "s3cret-ingest-key"},
    ],
)
async def test_invalid_credentials_are_401(
    client: httpx.AsyncClient, engine: AsyncEngine, headers: dict[str, str]
) -> None:
    await _rejected(client, engine, headers, 401)


async def test_hostile_token_header_still_gets_a_clean_401(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    header = base64.urlsafe_b64encode(orjson.dumps({"alg": "\u2603\r\n" * 50})).rstrip(b"=")
    token = f"{header.decode()}.e30.c2ln"
    error = await _rejected(client, engine, {"Authorization": f"Bearer {token}"}, 401)
    assert "not allowed" in error["message"]


async def test_key_with_one_character_changed_is_401(
    client: httpx.AsyncClient, engine: AsyncEngine, key: str
) -> None:
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    await _rejected(client, engine, {"X-API-Key": tampered}, 401)


async def test_expired_token_is_401(
    client: httpx.AsyncClient, engine: AsyncEngine, auth_settings: Settings
) -> None:
    token = mint_token(
        auth_settings, "svc", [Grant(Role.INGESTER)], timedelta(seconds=1), now=_long_ago()
    )
    error = await _rejected(client, engine, {"Authorization": f"Bearer {token}"}, 401)
    assert error["message"] == "token expired"


def _long_ago() -> datetime:
    return datetime.now(UTC) - timedelta(days=1)


async def test_authenticated_without_ingester_is_403(
    client: httpx.AsyncClient, engine: AsyncEngine, auth_settings: Settings
) -> None:
    admin = _bearer(auth_settings, Grant(Role.PLATFORM_ADMIN))
    error = await _rejected(client, engine, admin, 403)
    assert error["code"] == "FORBIDDEN"
    operator = await create_api_key(engine, "ops", [Grant(Role.SUPERAPP_OPERATOR, "ws_1")])
    assert (await _rejected(client, engine, {"X-API-Key": operator}, 403))["code"] == "FORBIDDEN"


async def test_ingester_token_may_ingest(
    client: httpx.AsyncClient, engine: AsyncEngine, auth_settings: Settings
) -> None:
    headers = _bearer(auth_settings, Grant(Role.PLATFORM_ADMIN), Grant(Role.INGESTER))
    response = await client.post("/v1/events", content=orjson.dumps(catalog()), headers=headers)
    assert response.status_code == 200, response.text
    assert await count(engine, t.workspaces) == 1


async def test_revoked_key_is_refused_on_the_next_request(
    client: httpx.AsyncClient, engine: AsyncEngine, auth: dict[str, str]
) -> None:
    first = await client.post("/v1/events", content=orjson.dumps(catalog()), headers=auth)
    assert first.status_code == 200
    await revoke_api_key(engine, "ingest-bot")
    second = await client.post("/v1/events", content=b"[]", headers=auth)
    assert second.status_code == 401
    assert second.json()["error"]["message"] == "unknown or revoked API key"


async def test_body_over_the_limit_is_413(
    client: httpx.AsyncClient, engine: AsyncEngine, auth: dict[str, str]
) -> None:
    body = b"".join(lines([*catalog(), *(launch(f"e{i}") for i in range(40))]))
    assert len(body) > 4096
    response = await client.post("/v1/events", content=body, headers=auth)
    assert response.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while streaming
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    streamed = await client.post("/v1/events", content=chunks(), headers=auth)
    assert streamed.status_code == 413
    assert await count(engine, t.launches) == 0
