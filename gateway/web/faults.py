"""HTTP 503 with ``Retry-After`` for requests the database's absence stops before execution.

Once a GraphQL operation executes, a field whose data the database cannot give answers
``null`` with ``SERVICE_UNAVAILABLE`` in the response (HTTP 200, the rest of the response
still arrives; cached answers need no database at all). Some requests cannot get that far:
an API key is looked up in the database, the response cache needs the data's generation
once per process, and ``POST /v1/events`` must store what it accepts. Those raise
:class:`~gateway.errors.ServiceUnavailableError` before anything was sent, and
:func:`send_unavailable` answers it (from :class:`gateway.web.request_log.RequestLog`, the
middleware that sees every response):

* ``/v1/events``: ``{"error": {"code": "SERVICE_UNAVAILABLE", "message", "retryAfter"}}``,
  so an ingesting client retries the whole body (events are idempotent on ``id``, catalog
  records are upserts: nothing is stored twice, nothing is lost);
* anything else: a GraphQL error response with the code and ``extensions.retryAfter``,
  in the negotiated media type.

Example:
    >>> await send_unavailable(scope, send, ServiceUnavailableError("down"))  # doctest: +SKIP
"""

from __future__ import annotations

import orjson
from starlette.types import Scope, Send

from gateway.errors import ErrorCode, ServiceUnavailableError
from gateway.web.negotiation import scope_media_type

EVENTS_PATH = "/v1/events"


def unavailable_body(path: str, error: ServiceUnavailableError) -> tuple[bytes, str]:
    """The body and media type of the 503 answering ``error`` on ``path``."""
    if path == EVENTS_PATH:
        body = {
            "error": {
                "code": ErrorCode.SERVICE_UNAVAILABLE.value,
                "message": error.message,
                "retryAfter": error.retry_after,
            }
        }
        return orjson.dumps(body), "application/json"
    return orjson.dumps(error.body()), ""


async def send_unavailable(scope: Scope, send: Send, error: ServiceUnavailableError) -> None:
    """Answer the request of ``scope`` with a 503 for ``error`` (``Retry-After`` set)."""
    body, media_type = unavailable_body(scope["path"], error)
    headers = [
        (b"content-type", (media_type or scope_media_type(scope)).encode()),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(error.retry_after).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


INTERNAL_MESSAGE = "internal server error"


async def send_internal_error(scope: Scope, send: Send, request_id: str) -> None:
    """Answer an unexpected exception raised before the response started: the masked JSON
    500 (``INTERNAL_SERVER_ERROR`` with the request id; nothing of the exception)."""
    code = ErrorCode.INTERNAL_SERVER_ERROR
    if scope["path"] == EVENTS_PATH:
        event_error = {"message": INTERNAL_MESSAGE, "code": code.value, "requestId": request_id}
        body = orjson.dumps({"error": event_error})
        media_type = "application/json"
    else:
        body = orjson.dumps(code.body(INTERNAL_MESSAGE, {"requestId": request_id}))
        media_type = scope_media_type(scope)
    headers = [
        (b"content-type", media_type.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": code.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
