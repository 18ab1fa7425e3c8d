"""Errors of the authentication layer (framework-free: no strawberry, no starlette).

The web layer turns an :class:`AuthenticationError` into HTTP 401 with the GraphQL error code
``UNAUTHENTICATED``; its message is written for the caller and reveals no secret.

Example:
    >>> str(AuthenticationError("token expired"))
    'token expired'
"""

from __future__ import annotations


class AuthenticationError(Exception):
    """Credentials were sent but are not valid (bad, expired, revoked, unreadable).

    Args:
        message: A human explanation safe to show to the caller.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuthConfigError(ValueError):
    """The gateway's own authentication settings cannot work (e.g. an unreadable key file).

    Raised at start-up or by ``gateway token``, never for a caller's request.
    """
