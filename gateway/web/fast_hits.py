"""The fast path of cached answers: repeated ``POST /graphql`` hits served in front of routing.

A dashboard repeats the same request with the same bearer token. With the in-process cache,
such a request is answered here (:meth:`ResponseCache.peek`: the very key the full path uses)
without Starlette's routing, request objects or the GraphQL view. With Redis, hits take the
full path: its single flight turns a burst of identical lookups into one round trip. Anything
else (another route or method, an API key, whose revocation is checked in the database on
every request, an invalid token, a body never seen before, a miss) goes
down the full path unchanged, with the body replayed.

Only a bearer token that verifies (:func:`verify_token`, memoized) names the principal, so the
fast path can neither widen a scope nor skip authentication.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.authz.errors import AuthenticationError
from gateway.authz.tokens import verify_token
from gateway.web.body import replay
from gateway.web.observability import GRAPHQL, LATENCY, REQUESTS

MAX_BODY = 65_536
"""Larger bodies take the full path (which enforces the configured limit)."""

_HIT = GRAPHQL.labels("hit")
_OK = REQUESTS.labels("/graphql", "POST", "200")
_LATENCY = LATENCY.labels("/graphql")


class FastHits:
    """ASGI middleware in front of the app (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a cached ``POST /graphql`` here, anything else through the app."""
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/graphql":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        body, complete = await _read(receive)
        answer = await self._cached(scope, body) if complete else None
        if answer is None:
            await self.app(scope, replay(body, receive, more_body=not complete), send)
            return
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})
        _HIT.inc()
        _OK.inc()
        _LATENCY.observe(time.perf_counter() - started)

    async def _cached(self, scope: Scope, body: bytes) -> bytes | None:
        state: Any = scope["app"].state
        responses = getattr(state, "responses", None)
        authorization = content_type = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-type":
                content_type = value
            elif name == b"x-api-key":
                return None
        if responses is None or authorization is None or content_type is None:
            return None
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            principal = verify_token(token.strip(), state.settings)
        except AuthenticationError:
            return None  # the full path answers 401 with the reason
        answer: bytes | None = await responses.peek(
            principal, "POST", content_type.decode("latin-1"), body
        )
        return answer


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
