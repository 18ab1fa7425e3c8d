"""``POST /v1/events`` on a tiny app holding just the route (independent of the schema)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.routing import Route

from gateway.settings import Settings
from gateway.store import tables as t
from gateway.web.events import post_events
from tests.store.ingest_support import catalog, count, launch, lines

KEY = "s3cret-ingest-key"


def _app(settings: Settings, engine: AsyncEngine) -> Starlette:
    app = Starlette(routes=[Route("/v1/events", post_events, methods=["POST"])])
    app.state.settings = settings
    app.state.engine = engine
    return app


@pytest.fixture
async def client(settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the route with an ingest key and a 4 KiB body limit."""
    keyed = settings.model_copy(update={"ingest_key": SecretStr(KEY), "max_request_bytes": 4096})
    transport = httpx.ASGITransport(app=_app(keyed, engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        yield http


async def test_json_array_body(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    body = orjson.dumps([*catalog(), launch("e1"), launch("e2")])
    response = await client.post("/v1/events", content=body, headers={"X-Ingest-Key": KEY})
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
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    body = b"".join(lines([*catalog(), launch("e1"), launch("e2", aid="nope"), launch("e1")]))
    response = await client.post("/v1/events", content=body, headers={"X-Ingest-Key": KEY})
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


async def test_array_elements_are_numbered_by_position(client: httpx.AsyncClient) -> None:
    body = b'[{"kind":"workspace","id":"w","name":"W"}, 42, {"kind":"nope"}]'
    response = await client.post("/v1/events", content=body, headers={"X-Ingest-Key": KEY})
    assert response.status_code == 207
    assert [p["line"] for p in response.json()["problems"]] == [2, 3]


@pytest.mark.parametrize("body", [b"", b"  \n", b"[{broken", b'[{"kind":"workspace"} trailing'])
async def test_unparsable_body_is_400(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post("/v1/events", content=body, headers={"X-Ingest-Key": KEY})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("key", [None, "", "wrong", KEY + "x"])
async def test_missing_or_wrong_key_is_401(
    client: httpx.AsyncClient, engine: AsyncEngine, key: str | None
) -> None:
    headers = {} if key is None else {"X-Ingest-Key": key}
    body = orjson.dumps(catalog())
    response = await client.post("/v1/events", content=body, headers=headers)
    assert response.status_code == 401
    assert await count(engine, t.workspaces) == 0


async def test_endpoint_is_disabled_without_a_key(settings: Settings, engine: AsyncEngine) -> None:
    transport = httpx.ASGITransport(app=_app(settings, engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        response = await http.post("/v1/events", content=b"[]", headers={"X-Ingest-Key": ""})
    assert response.status_code == 403
    assert "GATEWAY_INGEST_KEY" in response.json()["error"]["message"]


async def test_body_over_the_limit_is_413(client: httpx.AsyncClient, engine: AsyncEngine) -> None:
    body = b"".join(lines([*catalog(), *(launch(f"e{i}") for i in range(40))]))
    assert len(body) > 4096
    response = await client.post("/v1/events", content=body, headers={"X-Ingest-Key": KEY})
    assert response.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while streaming
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    streamed = await client.post("/v1/events", content=chunks(), headers={"X-Ingest-Key": KEY})
    assert streamed.status_code == 413
    assert await count(engine, t.launches) == 0
