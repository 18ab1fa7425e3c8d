"""Errors the gateway reports to clients, each with a stable ``extensions.code`` (SPEC §5).

Framework-free on purpose: ``store/``, ``metrics/`` and ``loaders/`` raise these without knowing
about GraphQL. graphql-core copies an exception's ``extensions`` dict onto the error it reports,
so a resolver that lets ``BadUserInputError("first must be at most 100")`` escape answers::

    {"message": "first must be at most 100", "extensions": {"code": "BAD_USER_INPUT"}}

Any other exception is masked by the schema as ``INTERNAL_SERVER_ERROR`` with a request id.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from contextvars import ContextVar
from typing import ClassVar

REQUEST_ID: ContextVar[str | None] = ContextVar("gateway_request_id", default=None)
"""The id of the HTTP request being served (set by the access log middleware), named by its
log lines and by the ``requestId`` of its masked errors."""


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
