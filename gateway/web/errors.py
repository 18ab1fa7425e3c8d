"""HTTP error responses shared by the routes, shaped as GraphQL responses.

Example:
    >>> unauthenticated(None, "authentication required").status_code
    401
"""

from __future__ import annotations

import orjson
from starlette.responses import Response

from gateway.authz.authenticate import www_authenticate
from gateway.authz.errors import AuthenticationError
from gateway.errors import ErrorCode


def graphql_error(
    status_code: int,
    code: ErrorCode,
    message: str,
    media_type: str = "application/json",
    **headers: str,
) -> Response:
    """``{"errors": [{"message", "extensions": {"code"}}]}`` with ``status_code``."""
    body = {"errors": [{"message": message, "extensions": {"code": code.value}}]}
    return Response(orjson.dumps(body), status_code, headers=headers, media_type=media_type)


def unauthenticated(error: AuthenticationError | None, message: str) -> Response:
    """HTTP 401 with ``UNAUTHENTICATED`` and a ``WWW-Authenticate: Bearer`` challenge (RFC
    6750) saying what failed; ``error`` is None when no credential was sent."""
    challenge = www_authenticate(error)
    return graphql_error(401, ErrorCode.UNAUTHENTICATED, message, **{"WWW-Authenticate": challenge})
