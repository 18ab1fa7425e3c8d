"""Errors the gateway reports to clients, each with a stable ``extensions.code`` (SPEC §5).

Framework-free on purpose: ``store/``, ``metrics/`` and ``loaders/`` raise these without knowing
about GraphQL. graphql-core copies an exception's ``extensions`` dict onto the error it reports,
so a resolver that lets ``BadUserInputError("first must be at most 100")`` escape answers::

    {"message": "first must be at most 100", "extensions": {"code": "BAD_USER_INPUT"}}

Any other exception is masked by the schema as ``INTERNAL_SERVER_ERROR`` with a request id.

Each code carries the HTTP status of a response refused with it (:data:`HTTP_STATUS`) and
renders the GraphQL-shaped body of such a response (:meth:`ErrorCode.body`); the web layer only
serialises them::

    >>> ErrorCode.RATE_LIMITED.status
    429
    >>> ErrorCode.RATE_LIMITED.body("slow", {"retryAfter": 1})
    {'errors': [{'message': 'slow', 'extensions': {'code': 'RATE_LIMITED', 'retryAfter': 1}}]}
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from contextvars import ContextVar
from typing import ClassVar, TypeAlias

REQUEST_ID: ContextVar[str | None] = ContextVar("gateway_request_id", default=None)
"""The id of the HTTP request being served (set by the access log middleware), named by its
log lines and by the ``requestId`` of its masked errors."""

ErrorBody: TypeAlias = dict[str, list[dict[str, object]]]
"""A GraphQL-shaped error response body: ``{"errors": [{"message", "extensions"}]}``."""


class ErrorCode(enum.StrEnum):
    """The ``extensions.code`` values a client may see."""

    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    """An automatic persisted query's hash the gateway does not know: send the query too."""
    PERSISTED_QUERY_NOT_ALLOWED = "PERSISTED_QUERY_NOT_ALLOWED"
    """Trusted-documents mode: the operation is not in the manifest."""
    QUERY_TIMEOUT = "QUERY_TIMEOUT"
    """A database statement ran past ``GATEWAY_DB_STATEMENT_TIMEOUT_MS``."""
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    """The database cannot be reached now; ``extensions.retryAfter`` says when to try again."""
    TIMEOUT = "TIMEOUT"
    """The operation ran longer than ``GATEWAY_REQUEST_TIMEOUT_SECONDS`` and was stopped."""
    RATE_LIMITED = "RATE_LIMITED"
    """The caller sent more requests than its rate limit allows: retry after
    ``extensions.retryAfter`` seconds."""

    @property
    def status(self) -> int:
        """The HTTP status of a response refused with this code (:data:`HTTP_STATUS`)."""
        return HTTP_STATUS[self]

    def body(self, message: str, extensions: Mapping[str, object] | None = None) -> ErrorBody:
        """The error response body for ``message``: ``extensions`` holds the code first, then
        ``extensions`` in their order."""
        return error_body(message, {"code": self.value, **(extensions or {})})


HTTP_STATUS: Mapping[ErrorCode, int] = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.BAD_USER_INPUT: 400,
    ErrorCode.QUERY_TOO_COMPLEX: 400,
    ErrorCode.INTERNAL_SERVER_ERROR: 500,
    ErrorCode.PERSISTED_QUERY_NOT_FOUND: 404,
    ErrorCode.PERSISTED_QUERY_NOT_ALLOWED: 403,
    ErrorCode.QUERY_TIMEOUT: 504,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.TIMEOUT: 504,
    ErrorCode.RATE_LIMITED: 429,
}
"""Error code -> the HTTP status of a response refused with it, on every route.

A request that passes a query limit (depth, aliases, tokens, cost, an export's rows) is
``QUERY_TOO_COMPLEX`` and 400, from ``/graphql`` and ``/export`` alike. A few answers keep an
HTTP status of their own for a request refused before GraphQL reads it: a body over
``GATEWAY_MAX_QUERY_BYTES`` is 413 (``QUERY_TOO_COMPLEX``), a body that is not JSON 415, a
mutation sent by GET 405 and an ``Accept`` allowing no response type 406 (``BAD_USER_INPUT``).
Under ``application/json`` a GraphQL request error answers 200 instead
(:mod:`gateway.web.negotiation`).
"""


def error_body(message: str, extensions: Mapping[str, object]) -> ErrorBody:
    """``{"errors": [{"message": message, "extensions": extensions}]}``, ``extensions`` as given
    (they hold the code)."""
    return {"errors": [{"message": message, "extensions": dict(extensions)}]}


class GatewayError(Exception):
    """Base of every error whose message is safe to show to the client.

    Args:
        message: The client-facing message (no internals, no stack trace).
        extensions: Extra entries for the error's ``extensions`` (``code`` is always set).
    """

    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL_SERVER_ERROR

    def __init__(self, message: str, *, extensions: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, object] = {**(extensions or {}), "code": self.code.value}

    @property
    def status(self) -> int:
        """The HTTP status of a response refused with this error (its code's)."""
        return self.code.status

    def body(self) -> ErrorBody:
        """The error response body carrying this error: its message and ``extensions`` (the
        code after the other entries, as graphql-core reports them)."""
        return error_body(self.message, self.extensions)


class BadUserInputError(GatewayError):
    """An argument is out of bounds or malformed (e.g. ``first: 500``, a bad cursor)."""

    code = ErrorCode.BAD_USER_INPUT


class NotFoundError(GatewayError):
    """The entity does not exist or is outside the caller's scope."""

    code = ErrorCode.NOT_FOUND


class ForbiddenError(GatewayError):
    """The caller is authenticated but its roles may not read this field."""

    code = ErrorCode.FORBIDDEN


class UnauthenticatedError(GatewayError):
    """No valid credentials were presented."""

    code = ErrorCode.UNAUTHENTICATED


class RateLimitedError(GatewayError):
    """The caller's token bucket is empty; ``extensions.retryAfter`` says when to retry."""

    code = ErrorCode.RATE_LIMITED


class QueryTimeoutError(GatewayError):
    """A database statement ran past the configured statement timeout."""

    code = ErrorCode.QUERY_TIMEOUT


class ServiceUnavailableError(GatewayError):
    """The database cannot be reached; the client should retry after ``retry_after`` seconds.

    Args:
        message: The client-facing message.
        retry_after: Seconds the client should wait, also sent as ``extensions.retryAfter``.
    """

    code = ErrorCode.SERVICE_UNAVAILABLE

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message, extensions={"retryAfter": retry_after})
        self.retry_after = retry_after
