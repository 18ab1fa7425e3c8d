"""HTTP error responses shared by the routes, shaped as GraphQL responses.

Example:
    >>> unauthenticated(None, "authentication required").status_code
    401
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response

from gateway.authz.authenticate import www_authenticate
from gateway.authz.authentication_errors import AuthenticationError
from gateway.errors import ErrorCode


def graphql_error(
    code: ErrorCode,
    message: str,
    media_type: str = "application/json",
    *,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """``code``'s body for ``message`` (:meth:`ErrorCode.body`) with ``code``'s HTTP status, or
    ``status`` for an answer the table leaves to HTTP (413, 415...); ``headers`` are added."""
    body = orjson.dumps(code.body(message))
    return Response(body, status or code.status, headers=headers, media_type=media_type)


def unauthenticated(error: AuthenticationError | None, message: str) -> Response:
    """HTTP 401 with ``UNAUTHENTICATED`` and a ``WWW-Authenticate: Bearer`` challenge (RFC
    6750) saying what failed; ``error`` is None when no credential was sent."""
    challenge = www_authenticate(error)
    return graphql_error(
        ErrorCode.UNAUTHENTICATED, message, headers={"WWW-Authenticate": challenge}
    )
