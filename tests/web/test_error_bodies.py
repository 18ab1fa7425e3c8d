"""The error answers of the web layer, byte for byte: status, headers and body of each.

The bodies are compared as bytes (key order included), so a refactor of how they are built
cannot change what clients receive.
"""

from __future__ import annotations

import pytest
from starlette.responses import Response
from starlette.types import Message

from gateway.cache.budgets import MemoryBudgets, Spent
from gateway.errors import ServiceUnavailableError
from gateway.web.budget import CostBudget
from gateway.web.error_responses import unauthenticated
from gateway.web.faults import send_internal_error, send_unavailable, unavailable_body
from gateway.web.graphql import body_too_large
from gateway.web.negotiation import GRAPHQL_RESPONSE, JSON
from gateway.web.params import bad_request, content_type_refusal
from gateway.web.ratelimit import rate_limited
from gateway.web.request_state import STATE_KEY, RequestState
from gateway.web.timeout import timeout_body

TIMEOUT = b'{"message":"the request took too long and was stopped","extensions":{"code":"TIMEOUT"}}'


def test_rate_limited_is_429_with_the_precise_wait() -> None:
    response = rate_limited(0.0201, GRAPHQL_RESPONSE)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.body == (
        b'{"errors":[{"message":"rate limit exceeded: retry in 1 s",'
        b'"extensions":{"code":"RATE_LIMITED","retryAfter":0.021}}]}'
    )


def test_timeout_body_follows_the_media_type() -> None:
    assert timeout_body(GRAPHQL_RESPONSE) == b'{"errors":[' + TIMEOUT + b"]}"
    assert timeout_body(JSON) == b'{"data":null,"errors":[' + TIMEOUT + b"]}"


def test_unavailable_body_on_graphql_and_on_events() -> None:
    error = ServiceUnavailableError("the database is unavailable", retry_after=7)
    assert unavailable_body("/graphql", error) == (
        b'{"errors":[{"message":"the database is unavailable",'
        b'"extensions":{"retryAfter":7,"code":"SERVICE_UNAVAILABLE"}}]}',
        "",
    )
    assert unavailable_body("/v1/events", error) == (
        b'{"error":{"code":"SERVICE_UNAVAILABLE","message":"the database is unavailable",'
        b'"retryAfter":7}}',
        "application/json",
    )


async def _sent(
    path: str, answer: str, error: ServiceUnavailableError | None = None
) -> list[Message]:
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    scope = {"type": "http", "path": path, STATE_KEY: RequestState(media_type=GRAPHQL_RESPONSE)}
    if error is not None:
        await send_unavailable(scope, send, error)
    else:
        await send_internal_error(scope, send, answer)
    return messages


async def test_unavailable_is_503_with_retry_after() -> None:
    start, body = await _sent("/graphql", "", ServiceUnavailableError("down", retry_after=3))
    assert start["status"] == 503
    assert (b"retry-after", b"3") in start["headers"]
    assert (b"content-type", GRAPHQL_RESPONSE.encode()) in start["headers"]
    assert body["body"] == (
        b'{"errors":[{"message":"down","extensions":{"retryAfter":3,"code":"SERVICE_UNAVAILABLE"}}]}'
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/graphql",
            b'{"errors":[{"message":"internal server error",'
            b'"extensions":{"code":"INTERNAL_SERVER_ERROR","requestId":"rid-1"}}]}',
        ),
        (
            "/v1/events",
            b'{"error":{"message":"internal server error",'
            b'"code":"INTERNAL_SERVER_ERROR","requestId":"rid-1"}}',
        ),
    ],
)
async def test_internal_error_is_500_masked_with_the_request_id(path: str, expected: bytes) -> None:
    start, body = await _sent(path, "rid-1")
    assert start["status"] == 500
    assert body["body"] == expected


def _plain(message: str, code: str) -> bytes:
    return b'{"errors":[{"message":"%s","extensions":{"code":"%s"}}]}' % (
        message.encode(),
        code.encode(),
    )


@pytest.mark.parametrize(
    ("response", "status", "code", "message"),
    [
        (
            unauthenticated(None, "authentication required"),
            401,
            "UNAUTHENTICATED",
            "authentication required",
        ),
        (body_too_large(10), 413, "QUERY_TOO_COMPLEX", None),
        (bad_request("bad").response(JSON), 400, "BAD_USER_INPUT", "bad"),
    ],
)
def test_plain_refusals(response: Response, status: int, code: str, message: str | None) -> None:
    assert response.status_code == status
    if message is not None:
        assert response.body == _plain(message, code)
    assert response.body.endswith(b'"extensions":{"code":"%s"}}]}' % code.encode())


def test_bad_request_and_415_under_every_media_type() -> None:
    refused = bad_request("the request body is not valid JSON")
    for media in (JSON, GRAPHQL_RESPONSE):
        response = refused.response(media)
        assert response.status_code == 400
        assert response.headers["content-type"] == media
        assert response.body == _plain("the request body is not valid JSON", "BAD_USER_INPUT")
    unsupported = content_type_refusal("POST", "text/plain")
    assert unsupported is not None
    assert unsupported.response(JSON).status_code == 415


def test_body_too_large_is_413() -> None:
    response = body_too_large(1024)
    assert response.status_code == 413
    assert response.headers["content-type"] == JSON
    assert response.body == _plain(
        "request body larger than 1024 bytes (GATEWAY_MAX_QUERY_BYTES)", "QUERY_TOO_COMPLEX"
    )


def test_cost_budget_refusal_is_429_with_its_window() -> None:
    budget = CostBudget(MemoryBudgets(), 5000, 3600.0, clock=lambda: 1000.0)
    window = Spent(granted=False, used=4970, reset_at=2234.5, at=1000.0)
    response = budget.refused(window, 120, JSON)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1235"
    assert response.headers["x-ratelimit-remaining"] == "30"
    assert response.body == (
        b'{"errors":[{"message":"cost budget spent: the operation needs 120 points, 30 of 5000 '
        b'are left until 1970-01-01T00:37:15Z","extensions":{"retryAfter":1234.5,"cost":120,'
        b'"limit":5000,"remaining":30,"resetAt":"1970-01-01T00:37:15Z","code":"RATE_LIMITED"}}]}'
    )
