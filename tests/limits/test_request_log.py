"""Structured logs: one access line per request (request id, principal, operation, cost, cache
status, duration, status), internal errors logged with the request id and their traceback but
answered without them, and the JSON and text formats."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from gateway.web.request_log import HANDLER_NAME, configure_logging
from tests.limits.conftest import Serve
from tests.limits.support import codes, errors
from tests.principals import ADMIN

QUERY = {"query": "query Snap { snapshot { id } }", "operationName": "Snap"}


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The access lines logged, as their fields."""
    names = ("request_id", "method", "path", "status", "duration_ms")
    names += ("principal", "operation", "cost", "cache")
    return [
        {name: getattr(r, name) for name in names}
        for r in caplog.records
        if r.name == "gateway.access"
    ]


async def test_every_request_has_one_access_line_with_its_fields(
    serve: Serve, admin: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.access")
    async with serve() as http:
        miss = await http.post("/graphql", json=QUERY, headers=admin)
        hit = await http.post("/graphql", json=QUERY, headers=admin)  # the fast path
        anonymous = await http.post("/graphql", json=QUERY)
        health = await http.get("/healthz")
    lines = access_lines(caplog)
    assert [line["request_id"] for line in lines] == [
        r.headers["x-request-id"] for r in (miss, hit, anonymous, health)
    ]
    assert len({line["request_id"] for line in lines}) == 4
    principal = f"jwt:{ADMIN.subject}"
    common = {"method": "POST", "path": "/graphql", "operation": "Snap", "cost": 1}
    assert lines[0] | common | {"principal": principal, "status": 200, "cache": "miss"} == lines[0]
    assert lines[1] | common | {"principal": principal, "status": 200, "cache": "hit"} == lines[1]
    assert lines[2]["status"] == 401
    assert (lines[2]["principal"], lines[2]["cost"], lines[2]["cache"]) == (None, None, None)
    assert lines[3]["path"] == "/healthz"
    assert all(isinstance(line["duration_ms"], float) for line in lines)


async def test_a_callers_request_id_is_kept_when_it_is_a_short_token(
    serve: Serve, admin: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.access")
    async with serve() as http:
        kept = await http.get("/healthz", headers={"X-Request-Id": "abc-123"})
        replaced = await http.get("/healthz", headers={"X-Request-Id": "a b\nforged=1"})
    assert kept.headers["x-request-id"] == "abc-123"
    assert replaced.headers["x-request-id"] not in ("a b\nforged=1", "")
    assert [line["request_id"] for line in access_lines(caplog)] == [
        "abc-123",
        replaced.headers["x-request-id"],
    ]


async def test_an_internal_error_is_logged_with_the_request_id_and_traceback_only(
    serve: Serve,
    admin: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(context: object) -> object:
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr("gateway.schema.snapshot.snapshot", broken)
    caplog.set_level(logging.INFO)
    async with serve() as http:
        response = await http.post("/graphql", json=QUERY, headers=admin)
    request_id = response.headers["x-request-id"]
    assert codes(response) == ["INTERNAL_SERVER_ERROR"]
    assert errors(response)[0]["extensions"]["requestId"] == request_id
    assert "secret detail" not in response.text
    assert "Traceback" not in response.text
    logged = [r for r in caplog.records if r.name == "gateway.errors"]
    assert len(logged) == 1
    assert request_id in logged[0].getMessage()
    assert logged[0].exc_info is not None
    assert "secret detail" in str(logged[0].exc_info[1])
    assert access_lines(caplog)[0]["request_id"] == request_id


def _format(log_format: str, record: logging.LogRecord) -> str:
    configure_logging(log_format, "info")
    root = logging.getLogger()
    try:
        (handler,) = [h for h in root.handlers if h.get_name() == HANDLER_NAME]
        return handler.format(record)
    finally:
        configure_logging("text", "warning")


def _record() -> logging.LogRecord:
    record = logging.LogRecord(
        "gateway.access", logging.INFO, __file__, 1, "POST /graphql %d", (200,), None
    )
    fields = {"request_id": "r1", "principal": "jwt:a", "operation": None, "cost": 7}
    record.__dict__.update(fields | {"cache": "miss", "status": 200, "duration_ms": 1.5})
    return record


def test_json_lines_carry_the_fields() -> None:
    line = json.loads(_format("json", _record()))
    assert line["level"] == "INFO"
    assert line["logger"] == "gateway.access"
    assert line["message"] == "POST /graphql 200"
    assert (line["request_id"], line["principal"], line["cost"], line["cache"]) == (
        "r1",
        "jwt:a",
        7,
        "miss",
    )
    assert "time" in line


def test_text_lines_end_with_the_fields() -> None:
    line = _format("text", _record())
    assert line.endswith(
        "POST /graphql 200 request_id=r1 principal=jwt:a operation=None cost=7 cache=miss"
    )


def test_configuring_twice_keeps_one_handler() -> None:
    configure_logging("json", "info")
    configure_logging("text", "warning")
    root = logging.getLogger()
    assert len([h for h in root.handlers if h.get_name() == HANDLER_NAME]) == 1
