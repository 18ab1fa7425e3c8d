"""Who is calling, with the rate limit taken before any database read.

:func:`~gateway.authz.authenticate.authenticate` turns credential headers into a principal;
for an API key that costs a database read. So the caller's token
(:mod:`gateway.web.ratelimit`) is taken *before* the read, from a bucket chosen without it:

* an ``X-API-Key`` whose public prefix (``gw_<prefix>_...``) authenticated in this process
  before: that key's own bucket;
* any other API key (unknown prefix, malformed, a flood of random ones): the client address's
  bucket (``ip:<host>``), so bad keys cost no database read past the address's limit;
* a bearer token (verified in memory, no read) or no credential: the principal's bucket
  after verification, or the address's for a missing or invalid credential.

Each request takes one token, whichever bucket it is.

Example:
    >>> try:
    ...     principal = await authenticate_limited(request)
    ... except Throttled as refused:
    ...     return rate_limited(refused.wait, media_type)  # doctest: +SKIP
"""

from __future__ import annotations

from starlette.requests import Request

from gateway.authz.authenticate import API_KEY, AUTHORIZATION, authenticate
from gateway.authz.authentication_errors import AuthenticationError
from gateway.authz.principal import Principal
from gateway.encoding import encode_text
from gateway.store.apikeys import api_key_prefix
from gateway.web.ratelimit import RateLimiter, rate_key
from gateway.web.services import services


class Throttled(Exception):  # noqa: N818 - reads as what happened, like `Timeout`.
    """The caller's bucket is empty: answer 429, retry after ``wait`` seconds."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"rate limited for {wait:.3f} s")
        self.wait = wait


def api_key_bucket(prefix: str) -> str:
    """The bucket of the API key with this public prefix (JSON: no other key reads the same).

    >>> api_key_bucket("0123456789ab")
    '["api_key_prefix","0123456789ab"]'
    """
    return encode_text("api_key_prefix", prefix)


async def _take(limiter: RateLimiter, key: str) -> None:
    wait = await limiter.wait(key)
    if wait > 0:
        raise Throttled(wait)


def _before_lookup(request: Request, limiter: RateLimiter) -> tuple[str, str | None] | None:
    """For a lone ``X-API-Key``: the bucket to take from before it is looked up, and its
    prefix when well-formed; None for any other credential (taken after verification)."""
    key = request.headers.get(API_KEY)
    if key is None or AUTHORIZATION in request.headers:
        return None
    prefix = api_key_prefix(key)
    if prefix is not None and prefix in limiter.known_keys:
        return api_key_bucket(prefix), prefix
    return rate_key(None, request.scope), prefix


async def authenticate_limited(request: Request) -> Principal | None:
    """The request's principal (None without credentials), one rate-limit token taken.

    Raises:
        Throttled: the caller's bucket is empty (nothing looked up when it was an API key's).
        AuthenticationError: a credential is present but not valid.
    """
    app = services(request.scope)
    limiter = app.rate_limiter
    if limiter is None:
        return await authenticate(request.headers, app.settings, app.engine)
    early = _before_lookup(request, limiter)
    if early is not None:
        await _take(limiter, early[0])
    try:
        principal = await authenticate(request.headers, app.settings, app.engine)
    except AuthenticationError:
        if early is None:
            await _take(limiter, rate_key(None, request.scope))
        raise
    if early is None:
        await _take(limiter, rate_key(principal, request.scope))
    elif principal is not None and early[1] is not None:
        limiter.known_keys[early[1]] = None
    return principal
