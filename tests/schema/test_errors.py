"""Error masking: our errors keep their message and code; anything else is masked."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest

import gateway.resolvers.catalog
from gateway.errors import NotFoundError

SECRET = "password=hunter2 in /srv/gateway/store.py"


async def _explode(*args: object) -> object:
    raise RuntimeError(SECRET)


async def test_internal_error_is_masked_with_a_request_id(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(gateway.resolvers.catalog, "workspace", _explode)
    caplog.set_level(logging.ERROR, logger="gateway.errors")
    response = await client.post(
        "/graphql", json={"query": '{ workspace(id: "ws-1") { id } workspaces { totalCount } }'}
    )
    assert response.status_code == 200
    body = response.json()
    # The rest of the response still arrives.
    assert body["data"] == {"workspace": None, "workspaces": {"totalCount": 0}}
    [error] = body["errors"]
    assert error["message"] == "Internal server error"
    assert error["path"] == ["workspace"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    request_id = error["extensions"]["requestId"]
    assert uuid.UUID(request_id).version == 4
    for leak in (SECRET, "hunter2", "Traceback", "RuntimeError", ".py"):
        assert leak not in response.text
    # The real exception is logged, with its traceback, under the same id.
    [record] = [r for r in caplog.records if request_id in r.getMessage()]
    assert record.exc_info is not None
    assert SECRET in str(record.exc_info[1])


async def test_gateway_errors_keep_message_and_code(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def not_found(*args: object) -> object:
        raise NotFoundError("no such workspace")

    monkeypatch.setattr(gateway.resolvers.catalog, "workspace", not_found)
    response = await client.post("/graphql", json={"query": '{ workspace(id: "x") { id } }'})
    [error] = response.json()["errors"]
    assert error["message"] == "no such workspace"
    assert error["extensions"] == {"code": "NOT_FOUND"}


async def test_validation_errors_are_not_masked(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ workspaces { nope } }"})
    [error] = response.json()["errors"]
    assert "nope" in error["message"]
    assert error["message"] != "Internal server error"


async def test_bad_variable_is_not_masked(client: httpx.AsyncClient) -> None:
    query = 'query($at: DateTime!) { miniProgram(id: "x") { deployment { statusAt(at: $at) } } }'
    response = await client.post("/graphql", json={"query": query, "variables": {"at": "soon"}})
    [error] = response.json()["errors"]
    assert "$at" in error["message"]
    assert error["message"] != "Internal server error"
