"""Request bodies read ahead of the app: bounded reading, and handing them on again.

The ``/graphql`` view, the response cache and the fast path of hits each read a body before
the code that answers the request does; :func:`replay` gives that code the same body.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Message, Receive


async def read_bounded(request: Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is known to exceed ``limit`` bytes (by its
    ``Content-Length`` or while streaming: a liar never gets more than ``limit`` read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    parts: list[bytes] = []
    size = 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            return None
        parts.append(part)
    return b"".join(parts)


def replay(body: bytes, receive: Receive, *, more_body: bool = False) -> Receive:
    """A ``receive`` that first hands over ``body`` (already read), then defers to ``receive``
    (for the rest of the body when ``more_body``, and for the disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more_body}
        return await receive()

    return replayed
