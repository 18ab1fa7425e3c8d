"""Who is calling: turn a request's credential headers into a :class:`Principal`.

A request carries at most one credential:

* ``Authorization: Bearer <JWT>`` (see :mod:`gateway.authz.tokens`), or
* ``X-API-Key: gw_<prefix>_<secret>`` (see :mod:`gateway.store.apikeys`); its principal's
  subject is ``apikey:<name>``.

No credential at all is not an error here (:func:`authenticate` answers None, the caller
decides); a credential that is present but wrong always is.

Example:
    >>> await authenticate({"Authorization": f"Bearer {token}"}, settings, engine)
    Principal(subject='alice', grants=(...), via='jwt', ...)
    >>> await authenticate({}, settings, engine) is None
    True
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.authz.authentication_errors import AuthenticationError
from gateway.authz.principal import Principal
from gateway.authz.tokens import prepare_token, verify_token, verify_token_window
from gateway.settings import Settings
from gateway.store.apikeys import verify_api_key

AUTHORIZATION = "authorization"
API_KEY = "x-api-key"
API_KEY_SUBJECT = "apikey:"
"""Subject prefix of API key principals (``apikey:<name>``)."""


def www_authenticate(error: AuthenticationError | None) -> str:
    """The ``WWW-Authenticate`` value of a 401 (RFC 6750 §3): which scheme, and what failed."""
    if error is None:
        return 'Bearer realm="gateway"'
    # A header value is printable ASCII; the message may quote a caller's (hostile) input.
    reason = "".join(c for c in error.message if " " <= c <= "~" and c != "\\").replace('"', "'")
    return f'Bearer realm="gateway", error="invalid_token", error_description="{reason}"'


def _bearer(value: str) -> str:
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise AuthenticationError(
            "unsupported Authorization scheme: send 'Authorization: Bearer <token>' "
            "or an X-API-Key header"
        )
    token = token.strip()
    if not token:
        raise AuthenticationError("empty bearer token")
    return token


async def _api_key(key: str, engine: AsyncEngine) -> Principal:
    match = await verify_api_key(engine, key.strip())
    if match is None:
        raise AuthenticationError("unknown or revoked API key")
    return Principal(f"{API_KEY_SUBJECT}{match.name}", match.grants, via="api_key")


async def authenticate(
    headers: Mapping[str, str], settings: Settings, engine: AsyncEngine
) -> Principal | None:
    """The principal named by the request's credential headers (names case-insensitive).

    Returns:
        None when neither ``Authorization`` nor ``X-API-Key`` is present.

    Raises:
        AuthenticationError: when a credential is present but not valid, is not a bearer
            token, or both headers are sent at once.
    """
    # Starlette's Headers are case-insensitive already; a plain dict (tests, other servers)
    # is not, so look the names up on a lower-cased copy.
    lowered = {name.lower(): value for name, value in headers.items()}
    authorization, api_key = lowered.get(AUTHORIZATION), lowered.get(API_KEY)
    if authorization is not None and api_key is not None:
        raise AuthenticationError("send one credential: Authorization or X-API-Key, not both")
    if authorization is not None:
        token = _bearer(authorization)
        await prepare_token(token, settings)  # a JWKS key it names, fetched when unknown
        return verify_token(token, settings)
    if api_key is not None:
        return await _api_key(api_key, engine)
    return None


async def authenticate_until(
    headers: Mapping[str, str], settings: Settings, engine: AsyncEngine
) -> tuple[Principal, float | None] | None:
    """:func:`authenticate`, with the POSIX time the credential stops being valid: a JWT's
    expiry (leeway included), None for an API key (valid until revoked). For a caller that
    keeps what a credential allowed beyond one request (a WebSocket connection).

    Raises:
        AuthenticationError: as :func:`authenticate`.
    """
    principal = await authenticate(headers, settings, engine)
    if principal is None:
        return None
    if principal.via != "jwt":
        return principal, None
    lowered = {name.lower(): value for name, value in headers.items()}
    window = verify_token_window(_bearer(lowered[AUTHORIZATION]), settings)  # memoized
    return principal, window[2]
