"""The per-principal rate limit of ``/graphql``: a token bucket per caller.

Each caller has a bucket of ``GATEWAY_RATE_LIMIT_BURST`` tokens refilled at
``GATEWAY_RATE_LIMIT_PER_SECOND`` a second (0 turns the limit off); every request takes one,
cached answers of the fast path (:mod:`gateway.web.cache_fast_path`) and ``POST /v1/events``
included, and a batch one per operation (:func:`throttle_batch`). Callers are keyed by their
principal (``jwt:<sub>``), an API key by its public prefix before it is looked up
(:mod:`gateway.web.callers`); requests without valid credentials by client address
(``ip:<host>``), before they are answered 401. The buckets are in Redis (shared
by all workers, :mod:`gateway.cache.buckets`) when ``GATEWAY_REDIS_URL`` is set, else
in-process; Redis trouble lets requests through (counted in
``gateway_rate_limit_errors_total``).

An empty bucket answers HTTP 429, whatever the media type, with ``Retry-After`` (whole
seconds, at least 1) and the precise wait in ``extensions.retryAfter`` (seconds)::

    {"errors": [{"message": "rate limit exceeded: retry in 1 s",
                 "extensions": {"code": "RATE_LIMITED", "retryAfter": 0.02}}]}
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import orjson
from cachetools import LRUCache
from prometheus_client import Counter
from starlette.responses import Response
from starlette.types import Scope

from gateway.authz.principal import Principal
from gateway.cache.buckets import Buckets, MemoryBuckets, RedisBuckets
from gateway.cache.redis import from_settings
from gateway.encoding import encode_text
from gateway.errors import ErrorCode
from gateway.settings import Settings
from gateway.web.negotiation import scope_media_type

KNOWN_API_KEYS = 4096
"""Most API key prefixes remembered as valid per process (least recently used dropped first;
only keys that authenticated enter, so a flood of bad keys cannot fill it)."""

RATE_LIMITED = Counter("gateway_rate_limited_total", "Requests refused by the rate limit (429).")


@dataclass
class RateLimiter:
    """Token buckets of one process (in Redis or in memory), at one rate and burst.

    Args:
        buckets: Where the buckets live.
        rate: Tokens gained per second.
        burst: Most tokens a bucket holds.
    """

    buckets: Buckets
    rate: float
    burst: int
    known_keys: LRUCache[str, None] = field(
        default_factory=lambda: LRUCache(maxsize=KNOWN_API_KEYS), repr=False
    )
    """Public prefixes of the API keys that authenticated here (:mod:`gateway.web.callers`)."""

    @classmethod
    def create(cls, settings: Settings) -> RateLimiter | None:
        """The limiter ``settings`` ask for; None when the limit is off."""
        if settings.rate_limit_per_second <= 0:
            return None
        buckets: Buckets = from_settings(settings, RedisBuckets.from_url) or MemoryBuckets()
        return cls(buckets, settings.rate_limit_per_second, settings.rate_limit_burst)

    async def wait(self, key: str, count: int = 1) -> float:
        """Take ``count`` tokens of ``key`` (at most the burst): 0.0 when the request may go
        on, else the seconds to wait."""
        return await self.buckets.take(key, self.rate, self.burst, count)

    async def close(self) -> None:
        """Release the buckets' connections."""
        await self.buckets.close()


def rate_key(principal: Principal | None, scope: Scope) -> str:
    """Whose bucket a request takes from: its principal's, or its client address's (an
    injective encoding: no subject can name another caller's or an address's bucket)."""
    if principal is not None:
        return encode_text("principal", principal.via, principal.subject)
    client = scope.get("client")
    return encode_text("ip", client[0] if client else None)


def caller_label(principal: Principal) -> str:
    """The caller as access lines name it, e.g. ``jwt:alice`` (readable, not a key)."""
    return f"{principal.via}:{principal.subject}"


def rate_limited(wait: float, media_type: str) -> Response:
    """The HTTP 429 answer to a request that must wait ``wait`` seconds."""
    seconds = max(1, math.ceil(wait))
    code = ErrorCode.RATE_LIMITED
    message = f"rate limit exceeded: retry in {seconds} s"
    body = code.body(message, {"retryAfter": math.ceil(wait * 1000) / 1000})
    RATE_LIMITED.inc()
    headers = {"Retry-After": str(seconds)}
    return Response(orjson.dumps(body), code.status, headers=headers, media_type=media_type)


async def throttle_batch(
    limiter: RateLimiter | None, scope: Scope, principal: Principal, operations: int
) -> Response | None:
    """The 429 answer when the caller's bucket lacks a token for each operation of a batch
    beyond the first (which the request took on its way in); None when it may go on."""
    if limiter is None or operations <= 1:
        return None
    wait = await limiter.wait(rate_key(principal, scope), operations - 1)
    return rate_limited(wait, scope_media_type(scope)) if wait > 0 else None
