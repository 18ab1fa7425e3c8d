"""The error code table (:data:`gateway.errors.HTTP_STATUS`): every code has a status, and a
code or a gateway error renders the GraphQL-shaped body the web layer serialises."""

from __future__ import annotations

import orjson
import pytest

from gateway.errors import (
    HTTP_STATUS,
    BadUserInputError,
    ErrorCode,
    ForbiddenError,
    GatewayError,
    NotFoundError,
    QueryTimeoutError,
    RateLimitedError,
    ServiceUnavailableError,
    UnauthenticatedError,
)


def test_every_code_has_an_error_status() -> None:
    assert set(HTTP_STATUS) == set(ErrorCode)
    for code in ErrorCode:
        assert 400 <= code.status < 600, code


def test_client_and_server_faults_are_told_apart() -> None:
    server = {code for code in ErrorCode if code.status >= 500}
    assert server == {
        ErrorCode.INTERNAL_SERVER_ERROR,
        ErrorCode.SERVICE_UNAVAILABLE,
        ErrorCode.QUERY_TIMEOUT,
        ErrorCode.TIMEOUT,
    }


@pytest.mark.parametrize("code", list(ErrorCode))
def test_a_code_renders_its_body(code: ErrorCode) -> None:
    assert code.body("no") == {"errors": [{"message": "no", "extensions": {"code": code.value}}]}


def test_extensions_follow_the_code_in_their_order() -> None:
    body = ErrorCode.RATE_LIMITED.body("wait", {"retryAfter": 0.25, "cost": 3})
    assert orjson.dumps(body) == (
        b'{"errors":[{"message":"wait",'
        b'"extensions":{"code":"RATE_LIMITED","retryAfter":0.25,"cost":3}}]}'
    )


@pytest.mark.parametrize(
    "error",
    [
        BadUserInputError("bad"),
        NotFoundError("gone"),
        ForbiddenError("no"),
        UnauthenticatedError("who"),
        RateLimitedError("wait", extensions={"retryAfter": 1}),
        QueryTimeoutError("slow"),
        ServiceUnavailableError("down", retry_after=3),
    ],
)
def test_a_gateway_error_renders_its_code_and_status(error: GatewayError) -> None:
    assert error.status == error.code.status
    [rendered] = error.body()["errors"]
    assert rendered == {"message": error.message, "extensions": error.extensions}
    # graphql-core reports the same extensions: the code last, after the error's own entries.
    assert list(error.extensions)[-1] == "code"
    assert error.extensions["code"] == error.code.value


def test_an_unavailable_body_keeps_its_bytes() -> None:
    body = ServiceUnavailableError("down", retry_after=3).body()
    assert orjson.dumps(body) == (
        b'{"errors":[{"message":"down","extensions":{"retryAfter":3,"code":"SERVICE_UNAVAILABLE"}}]}'
    )


def test_every_error_class_has_a_code_of_the_table() -> None:
    for cls in GatewayError.__subclasses__():
        assert cls.code in HTTP_STATUS, cls
