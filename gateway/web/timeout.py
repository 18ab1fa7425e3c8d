"""The request timeout of ``/graphql``: an operation running past
``GATEWAY_REQUEST_TIMEOUT_SECONDS`` is cancelled and answered with a ``TIMEOUT`` error.

Cancelling stops its resolvers and loaders where they wait (a database query in flight is
cancelled with them); the request's contexts still close. The answer follows the negotiated
media type: under ``application/graphql-response+json`` HTTP 504 with the error only; under
``application/json`` status 200 with ``"data": null`` and the error, as legacy clients expect
of an execution error. It is never cached (only answers without such errors are).

Example:
    >>> answer = orjson.loads(timeout_body("application/json"))
    >>> answer["data"], answer["errors"][0]["extensions"]
    (None, {'code': 'TIMEOUT'})
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import orjson
from prometheus_client import Counter
from starlette.types import Message, Receive, Scope, Send

from gateway.errors import ErrorCode
from gateway.web.negotiation import GRAPHQL_RESPONSE, error_status, scope_media_type

TIMEOUT_MESSAGE = "the request took too long and was stopped"

TIMEOUTS = Counter("gateway_request_timeouts_total", "/graphql operations stopped by the timeout.")

Execute = Callable[[Scope, Receive, Send], Awaitable[None]]


def timeout_body(media_type: str) -> bytes:
    """The body of a ``TIMEOUT`` answer in ``media_type``."""
    body = ErrorCode.TIMEOUT.body(TIMEOUT_MESSAGE)
    if media_type == GRAPHQL_RESPONSE:
        return orjson.dumps(body)
    # An execution error under application/json: ``data`` comes first, null.
    return orjson.dumps({"data": None, **body})


async def within_timeout(
    execute: Execute, scope: Scope, receive: Receive, send: Send, seconds: float
) -> None:
    """Run ``execute``; past ``seconds`` (before it started answering) cancel it and answer
    ``TIMEOUT`` instead. A ``TimeoutError`` of its own (not this timeout's) propagates."""
    started = False

    async def sending(message: Message) -> None:
        nonlocal started
        started = started or message["type"] == "http.response.start"
        await send(message)

    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            await execute(scope, receive, sending)
    except TimeoutError:
        if not deadline.expired() or started:
            raise
        TIMEOUTS.inc()
        media = scope_media_type(scope)
        body = timeout_body(media)
        headers = [(b"content-type", media.encode()), (b"content-length", b"%d" % len(body))]
        status = error_status(media, ErrorCode.TIMEOUT.status)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
