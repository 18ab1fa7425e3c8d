"""``POST /v1/events``: ingest records over HTTP (SPEC §2), same path as ``gateway ingest``.

Request:
    * A credential with the ``INGESTER`` role: ``Authorization: Bearer <JWT>`` or
      ``X-API-Key: <key>`` (``gateway apikey create --name N --role INGESTER``). A missing or
      invalid credential is 401 (``UNAUTHENTICATED``, with ``WWW-Authenticate: Bearer``); a
      valid one without ``INGESTER`` is 403 (``FORBIDDEN``).
    * Body: a JSON array of records, or JSON Lines (one record per line). The first
      non-whitespace byte decides: ``[`` is an array, anything else is JSON Lines. A record's
      ``line`` is its 1-based line in a JSON Lines body, its 1-based position in an array.
    * At most ``GATEWAY_MAX_REQUEST_BYTES`` bytes, else 413; ``Content-Encoding: gzip`` or
      ``deflate`` is decoded, and a body decoding past that bound (a bomb) is 413 with nothing
      stored; another encoding is 415.
    * One token of the caller's rate-limit bucket per request, whatever its size (the body is
      bounded above; counting records would throttle the bulk path): an empty bucket is 429
      (``RATE_LIMITED``, ``Retry-After``), taken before an API key is looked up.

Response (JSON, camelCase):
    * 200: every record was stored (or was an already stored duplicate event).
    * 207: some records were quarantined; ``problems`` lists them (the first 1,000) with
      their ``line``, ``kind``, ``reason`` and ``reasonClass``. The valid ones were stored.
      They can be fixed and replayed with ``gateway ingest --replay-quarantine``.
    * 400: the body is empty or not a parsable JSON array.
    * 507 (``QUARANTINE_FULL``): the quarantine holds ``GATEWAY_QUARANTINE_MAX_ROWS`` records;
      nothing of the chunk was stored (replay or clear the quarantine, then send it again).
    * 503 with ``Retry-After``: the database is unavailable (``SERVICE_UNAVAILABLE``); send
      the same body again later. Records stored before it went away are not stored twice
      (events are idempotent on ``id``, catalog records are upserts).

Example:
    $ curl -s localhost:8000/v1/events -H "X-API-Key: $KEY" --data-binary @events.jsonl
    {"records":2,"stored":1,"duplicates":0,"quarantined":1,"quarantinedByReason":
     {"unknown targetApp":1},"problems":[{"line":2,"kind":"launch","reason":
     "unknown targetApp 'app_9'","reasonClass":"unknown targetApp"}],"problemsTruncated":false}
"""

from __future__ import annotations

import math
from typing import Any

import msgspec
import orjson
from starlette.requests import Request
from starlette.responses import Response

from gateway.authz.authenticate import www_authenticate
from gateway.authz.authentication_errors import AuthenticationError
from gateway.roles import Role
from gateway.store.db_faults import db_faults
from gateway.store.ingest import IngestReport, ingest_lines
from gateway.store.ingest.quarantine import QuarantineFullError
from gateway.web.callers import Throttled, authenticate_limited
from gateway.web.encoding_body import (
    BadEncodingError,
    DecodedTooLargeError,
    UnsupportedEncodingError,
    decode_body,
)
from gateway.web.services import services

SOURCE = "http"

_array_decoder = msgspec.json.Decoder(list[msgspec.Raw])


class _BodyTooLargeError(Exception):
    """The request body exceeds ``max_request_bytes``."""


def _json(body: dict[str, Any], status_code: int) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")


def _error(status_code: int, code: str, message: str) -> Response:
    return _json({"error": {"code": code, "message": message}}, status_code)


def _throttled(wait: float) -> Response:
    """HTTP 429: the caller's rate-limit bucket is empty (see gateway.web.ratelimit)."""
    seconds = max(1, math.ceil(wait))
    response = _error(429, "RATE_LIMITED", f"rate limit exceeded: retry in {seconds} s")
    response.headers["Retry-After"] = str(seconds)
    return response


async def _authorize(request: Request) -> Response | None:
    """None when the request may ingest (an ``INGESTER`` principal), else the error response."""
    try:
        principal = await authenticate_limited(request)  # one token of the caller's bucket
    except Throttled as refused:
        return _throttled(refused.wait)
    except AuthenticationError as exc:
        response = _error(401, "UNAUTHENTICATED", exc.message)
        response.headers["WWW-Authenticate"] = www_authenticate(exc)
        return response
    if principal is None:
        response = _error(
            401,
            "UNAUTHENTICATED",
            "POST /v1/events needs a credential with the INGESTER role: "
            "Authorization: Bearer <token> or X-API-Key: <key>",
        )
        response.headers["WWW-Authenticate"] = www_authenticate(None)
        return response
    if Role.INGESTER not in principal.roles:
        return _error(403, "FORBIDDEN", "POST /v1/events needs the INGESTER role")
    return None


async def _read_body(request: Request, limit: int) -> bytes:
    """The whole body; raises :class:`_BodyTooLargeError` without reading past ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _BodyTooLargeError
    parts: list[bytes] = []
    size = 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise _BodyTooLargeError
        parts.append(part)
    return b"".join(parts)


def split_records(body: bytes) -> list[bytes]:
    """One item per record: the elements of a JSON array, or the lines of JSON Lines.

    Raises:
        ValueError: The body is empty, or starts with ``[`` but is not a JSON array.
    """
    stripped = body.lstrip()
    if not stripped:
        raise ValueError("empty body: send a JSON array or JSON Lines of records")
    if stripped[:1] != b"[":
        return body.splitlines()
    try:
        return [bytes(raw) for raw in _array_decoder.decode(stripped)]
    except RecursionError:
        # An element nested past msgspec's bound: split the array by hand (rare, hostile
        # input only), so that element is quarantined and every other one judged on its own.
        return split_array(stripped)
    except msgspec.DecodeError as exc:
        raise ValueError(f"the body is not a JSON array: {exc}") from exc


def split_array(text: bytes) -> list[bytes]:
    """The top-level elements of the JSON array ``text`` (their own validity unchecked).

    >>> split_array(b'[{"a": "]"}, [[1]], 2]')
    [b'{"a": "]"}', b'[[1]]', b'2']

    Raises:
        ValueError: ``text`` is not one array (brackets or strings left open, text after it).
    """
    items: list[bytes] = []
    depth, start, in_string, escaped = 0, 1, False, False
    for i, byte in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
            if depth == 0:
                if text[i + 1 :].strip():
                    raise ValueError("the body is not a JSON array: text after its end")
                last = text[start:i].strip()
                if last:
                    items.append(last)
                return items
        elif byte == 0x2C and depth == 1:  # a comma between top-level elements
            items.append(text[start:i].strip())
            start = i + 1
    raise ValueError("the body is not a JSON array: it is not closed")


def report_body(report: IngestReport) -> dict[str, Any]:
    """The response body of an ingest."""
    return {
        "records": report.records,
        "stored": report.stored,
        "duplicates": report.duplicates,
        "quarantined": report.quarantined,
        "quarantinedByReason": report.quarantined_by_reason,
        "problems": [
            {"line": p.line, "kind": p.kind, "reason": p.reason, "reasonClass": p.reason_class}
            for p in report.problems
        ],
        "problemsTruncated": len(report.problems) < report.quarantined,
    }


async def post_events(request: Request) -> Response:
    """Ingest the records of the body; see the module docstring for the contract."""
    app = services(request.scope)
    settings, engine = app.settings, app.engine
    denied = await _authorize(request)
    if denied is not None:
        return denied
    try:
        body = await _read_body(request, settings.max_request_bytes)
    except _BodyTooLargeError:
        limit = settings.max_request_bytes
        return _error(413, "PAYLOAD_TOO_LARGE", f"body larger than {limit} bytes; split it")
    try:
        encoding = request.headers.get("content-encoding")
        body = decode_body(body, encoding, limit=settings.max_request_bytes)
    except DecodedTooLargeError:
        limit = settings.max_request_bytes
        return _error(
            413, "PAYLOAD_TOO_LARGE", f"body decompresses to more than {limit} bytes; split it"
        )
    except UnsupportedEncodingError as exc:
        return _error(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"Content-Encoding {exc} is not supported: send gzip, deflate or an uncompressed body",
        )
    except BadEncodingError as exc:
        return _error(400, "BAD_REQUEST", f"the body is not valid {encoding}: {exc}")
    try:
        records = split_records(body)
    except ValueError as exc:
        return _error(400, "BAD_REQUEST", str(exc))
    try:
        async with db_faults():  # the database gone: 503 + Retry-After (gateway.web.faults)
            report = await ingest_lines(
                engine, records, source=SOURCE, chunk_size=settings.ingest_chunk_size
            )
    except QuarantineFullError as exc:
        return _error(507, "QUARANTINE_FULL", str(exc))
    return _json(report_body(report), 207 if report.quarantined else 200)
