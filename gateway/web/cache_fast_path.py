"""The fast path of cached answers: repeated ``POST /graphql`` hits served in front of routing.

A dashboard repeats the same request with the same bearer token. Such a request is answered
here from what this process holds (the in-process cache, or the near copy of Redis; see
:class:`gateway.cache.snapshot_cache.SnapshotCache`), under the very key the full path uses
(:meth:`ResponseCache.locate`), without Starlette's routing, request objects or the GraphQL
view. Anything else (another route or method, an API key, whose revocation is checked in the
database on every request, an invalid token, a body never seen before, a miss) goes down the
full path unchanged, with the body replayed.

Only a bearer token that verifies (:func:`verify_token_window`, memoized) names the principal,
so the fast path can neither widen a scope nor skip authentication. Where a request (token,
content type and body, byte for byte) was answered before, the key found then is reused while
all it was derived from still holds: the token's validity window, the data's generation and
the UTC day. Nothing else enters the key (the matrix and the limits are fixed for the
process's life), so the reuse answers exactly what a fresh lookup would.

The rate limit applies here too (:mod:`gateway.web.ratelimit`): a hit takes a token from its
principal's bucket, and an empty bucket answers 429. So does the cost budget
(:mod:`gateway.web.budget`): a hit spends one point (from a lease of the process, mostly),
reported in ``X-RateLimit-*`` headers and ``extensions.rateLimit``; a spent budget answers 429.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.authz.authentication_errors import AuthenticationError
from gateway.authz.tokens import key_generation, verify_token_window
from gateway.cache.sized import MEMO_MAX_BYTES, SizedLRU, size_of_parts
from gateway.errors import ServiceUnavailableError
from gateway.web.body import replay
from gateway.web.negotiation import negotiate
from gateway.web.observability import GRAPHQL
from gateway.web.ratelimit import caller_label, rate_key, rate_limited
from gateway.web.request_log import logging_access, note
from gateway.web.request_state import request_state
from gateway.web.response_cache import Located, ResponseCache, stored_cost
from gateway.web.services import services

MAX_BODY = 65_536
"""Larger bodies take the full path (which enforces the configured limit)."""
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_DAY_SECONDS = 86_400

Raw = tuple[bytes, bytes, bytes]
"""A request as sent: ``Authorization`` and ``Content-Type`` headers, body."""


@dataclass(frozen=True, slots=True)
class _Known:
    """A request answered from the cache before: where, and until when the token holds."""

    located: Located
    valid_from: float
    valid_until: float
    rate_key: str
    label: str
    keys: int
    """The JWT key set's generation when the token was verified (see :func:`key_generation`)."""


_HIT = GRAPHQL.labels("hit")


def _known_size(raw: Raw, known: _Known) -> int:
    """Bytes of a remembered request: its token, media type and body, and the keys it holds."""
    return size_of_parts(raw, known.located.key, known.rate_key, known.label)


class FastHits:
    """ASGI middleware in front of the app (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._known: SizedLRU[Raw, _Known] = SizedLRU(MEMO_MAX_BYTES, _known_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a cached ``POST /graphql`` here, anything else through the app."""
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/graphql":
            await self.app(scope, receive, send)
            return
        body, complete = await _read(receive)
        answer, media, known = None, b"", None
        if complete:
            # No generation read yet and the database down: the full path answers 503.
            with contextlib.suppress(ServiceUnavailableError):
                answer, media, known = await self._cached(scope, body)
        if answer is None or known is None:
            await self.app(scope, replay(body, receive, more_body=not complete), send)
            return
        app = services(scope)
        limiter = app.rate_limiter
        key, operation = known.rate_key, known.located.operation_name or None
        request_state(scope).cost.operation = operation  # the trace's request span names it
        if logging_access():
            note(
                scope,
                principal=known.label,
                operation=operation,
                cache="hit",
                cost=stored_cost(answer),
            )
        wait = await limiter.wait(key) if limiter is not None else 0.0
        if wait > 0:
            await rate_limited(wait, media.decode())(scope, receive, send)
            return
        headers = [(b"content-type", media)]
        extra: dict[str, object] | None = None
        budget = app.cost_budget
        if budget is not None:  # a hit spends the admission point only (often a leased one)
            window = await budget.spend(key, 1)
            if window is not None and not window.granted:
                await budget.refused(window, 1, media.decode())(scope, receive, send)
                return
            headers += budget.headers(window)
            extra = {"rateLimit": budget.report(window, 1)} if window is not None else None
        responses = app.responses
        assert responses is not None  # _cached found the answer there
        answer = responses.dress(answer, known.located.generation, extra)
        headers.append((b"content-length", b"%d" % len(answer)))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})
        _HIT.inc()

    async def _cached(self, scope: Scope, body: bytes) -> tuple[bytes | None, bytes, _Known | None]:
        """The stored answer (not dressed yet), the media type negotiated for it and where it
        was found, or None (full path)."""
        app = services(scope)
        responses = app.responses
        authorization = content_type = accept = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-type":
                content_type = value
            elif name == b"accept":
                accept = value.decode("latin-1")
            elif name == b"x-api-key":
                return None, b"", None
        media = negotiate(accept)  # None: the full path answers 406
        if responses is None or authorization is None or content_type is None or media is None:
            return None, b"", None
        raw = (authorization, content_type, body)
        known = remembered = self._known.get(raw)  # a hit moves it to the LRU's front
        if known is None or not await _holds(known, responses, app.settings):
            known = await _locate(responses, app.settings, raw)
            if known is None:
                self._known.pop(raw, None)
                return None, b"", None
        answer = responses.peek(known.located.key)  # dressed once the budget is spent
        if answer is None:  # evicted, expired, or never stored (not cacheable)
            self._known.pop(raw, None)
            return None, b"", None
        if known is not remembered:  # sized and stored once, not on every hit
            self._known[raw] = known
        return answer, media.encode(), known


async def _holds(known: _Known, responses: ResponseCache, settings: Any) -> bool:
    """True while the key found for a request is still the one a fresh lookup would find."""
    now = time.time()
    if not known.valid_from <= now <= known.valid_until:
        return False
    if known.keys != key_generation(settings):  # a key was withdrawn: verify the token again
        return False
    if known.located.day != _EPOCH_ORDINAL + int(now // _DAY_SECONDS):
        return False
    return await responses.tracker.current() == known.located.generation


async def _locate(responses: ResponseCache, settings: Any, raw: Raw) -> _Known | None:
    """Verify the bearer token of ``raw`` and find where its answer would be cached."""
    authorization, content_type, body = raw
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        principal, valid_from, valid_until = verify_token_window(token.strip(), settings)
    except AuthenticationError:
        return None  # the full path answers 401 with the reason
    located = await responses.locate(principal, "POST", content_type.decode("latin-1"), body)
    if located is None:
        return None
    return _Known(
        located,
        valid_from,
        valid_until,
        rate_key(principal, {}),
        caller_label(principal),
        key_generation(settings),
    )


async def _read(receive: Receive) -> tuple[bytes, bool]:
    """The request body, and False when it exceeded :data:`MAX_BODY` (reading stopped)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > MAX_BODY:
            return b"".join(chunks), False
