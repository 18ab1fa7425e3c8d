"""``POST /export``: the result of a GraphQL query as a spreadsheet (xlsx) or a zip of CSVs.

The body is ``{query, variables?, operationName?, format?}`` (``format``: ``"xlsx"``, the
default, or ``"csv"``). The caller authenticates as on ``/graphql`` (Bearer JWT or
``X-API-Key``), and the operation runs through the ``/graphql`` view itself
(:meth:`GatewayGraphQL.run_authenticated`): the same body size, depth, alias and token
limits, trusted documents, response cache and role matrix, under the caller's rights.

What comes back:

* the file (``Content-Disposition: attachment``, ``<operation>-<UTC date>.xlsx`` / ``.zip``)
  when the operation ran without errors, or when its only errors hide parts of the result from
  the caller (``FORBIDDEN`` fields, ``NOT_FOUND`` entities reached by walking the graph, as the
  dashboard hides them): those cells stay empty and the Summary sheet lists them as hidden;
* otherwise a JSON error document (``{"errors": [...]}``, ``application/json``), never a file:
  the statuses ``/graphql`` gives under ``application/graphql-response+json`` (401, 413, 400 for
  a document that does not parse, validate or stay within the limits...), and for an operation
  that ran with other errors the highest status among their codes'
  (:data:`gateway.errors.HTTP_STATUS`: 504 for a timeout, 503 database unavailable, 500
  internal, 429, 404 ``NOT_FOUND``, 403 ``FORBIDDEN`` with no data at all, 400 otherwise).
  The response then holds the errors and whatever data ``/graphql`` answered;
* 400 for a ``format`` other than ``xlsx`` or ``csv``, a mutation or subscription (an export
  only reads), or a file that would hold more than ``GATEWAY_EXPORT_MAX_ROWS`` rows;
  415 for a body that is not ``application/json``.

The file is written in a worker thread to a spooled temporary file (memory up to
:data:`SPOOL_BYTES`, then disk) and streamed from there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from tempfile import SpooledTemporaryFile
from typing import IO, Any

import orjson
from graphql import OperationType, get_operation_ast, parse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from gateway.errors import ErrorCode
from gateway.schema import GatewaySchema
from gateway.web.body import read_bounded
from gateway.web.error_responses import graphql_error
from gateway.web.export import csv, xlsx
from gateway.web.export.flatten import lay_out
from gateway.web.export.shape import shape_of
from gateway.web.export.sheets import Export, Sheet, TooManyRowsError
from gateway.web.graphql import GatewayGraphQL, body_too_large, caller
from gateway.web.negotiation import GRAPHQL_RESPONSE, JSON
from gateway.web.params import RefusedError, bad_request, content_type_refusal, operation_type
from gateway.web.params import params_of as graphql_params
from gateway.web.request_state import STATE_KEY, request_state
from gateway.web.response_cache import Captured, capture
from gateway.web.services import services

SPOOL_BYTES = 16 * 1024 * 1024
"""Bytes of a file kept in memory before it moves to a temporary file on disk."""
CHUNK_BYTES = 64 * 1024

Writer = Callable[[Sequence[Sheet], IO[bytes]], None]


@dataclass(frozen=True)
class Format:
    """An output format: how to write it, its media type and file extension."""

    write: Writer
    media_type: str
    extension: str


FORMATS = {
    "xlsx": Format(xlsx.write_xlsx, xlsx.MEDIA_TYPE, "xlsx"),
    "csv": Format(csv.write_csv_zip, csv.MEDIA_TYPE, "zip"),
}
"""``format`` value -> :class:`Format`."""

JSON_ONLY = (
    "POST /export needs `Content-Type: application/json` (form-encoded, multipart and "
    "text/plain bodies are refused: a browser sends those cross-site without asking)"
)
READS_ONLY = "POST /export runs queries only: an export reads, it never changes anything"
_QUOTA = (b"x-ratelimit-limit", b"x-ratelimit-remaining", b"x-ratelimit-used", b"x-ratelimit-reset")
"""Headers of the caller's cost budget (:mod:`gateway.web.budget`), kept on every answer."""
_FORBIDDEN = ErrorCode.FORBIDDEN.value
_NOT_FOUND = ErrorCode.NOT_FOUND.value


@dataclass(frozen=True)
class ExportRequest:
    """A checked ``POST /export`` body."""

    query: str
    operation_name: str | None
    variables: dict[str, Any]
    format: Format
    graphql_body: bytes
    """The same operation as a ``POST /graphql`` body."""

    @classmethod
    def read(cls, body: bytes) -> ExportRequest:
        """Check ``body`` (raises :class:`RefusedError`, 400)."""
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise bad_request(f"the request body is not valid JSON: {exc}") from None
        params = graphql_params(data)
        if params.query is None:
            raise bad_request("`query` is required: the GraphQL document to export")
        wanted = data.get("format") or "xlsx"
        if wanted not in FORMATS:
            choices = " or ".join(f'"{name}"' for name in FORMATS)
            raise bad_request(f"`format` must be {choices}, not {orjson.dumps(wanted).decode()}")
        kind = operation_type(params.query, params.operation_name)
        if kind is not None and kind is not OperationType.QUERY:
            raise bad_request(READS_ONLY)
        graphql = {
            "query": params.query,
            "operationName": params.operation_name,
            "variables": params.variables,
            "extensions": params.extensions,
        }
        graphql_body = orjson.dumps({k: v for k, v in graphql.items() if v is not None})
        variables = params.variables or {}
        return cls(params.query, params.operation_name, variables, FORMATS[wanted], graphql_body)


class ExportEndpoint:
    """The ``/export`` ASGI endpoint over the app's ``/graphql`` view and schema."""

    def __init__(self, view: GatewayGraphQL, schema: GatewaySchema) -> None:
        self._view = view
        self._schema = schema

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one ``POST /export``."""
        response = await self._answer(Request(scope, receive), scope, receive)
        await response(scope, receive, send)

    async def _answer(self, request: Request, scope: Scope, receive: Receive) -> Response:
        settings = services(request.scope).settings
        if content_type_refusal("POST", request.headers.get("content-type")) is not None:
            return graphql_error(ErrorCode.BAD_USER_INPUT, JSON_ONLY, status=415)
        principal = await caller(request)
        if isinstance(principal, Response):
            return principal
        body = await read_bounded(request, settings.max_query_bytes)
        if body is None:
            return body_too_large(settings.max_query_bytes)
        try:
            wanted = ExportRequest.read(body)
        except RefusedError as refusal:
            return refusal.response(JSON)

        async def run(inner: Scope, receive: Receive, send: Send) -> None:
            await self._view.run_authenticated(inner, receive, send, principal)

        inner = _graphql_scope(scope, len(wanted.graphql_body))
        captured = await capture(run, inner, wanted.graphql_body, receive)
        answer = orjson.loads(captured.body) if captured.status == 200 else None
        if answer is None or _refused(answer):
            return _error(captured, answer)
        file = await self._file(wanted, answer, settings.export_max_rows)
        file.headers.update(_kept(captured, _QUOTA))  # the cost budget's X-RateLimit-*
        return file

    async def _file(self, wanted: ExportRequest, answer: dict[str, Any], max_rows: int) -> Response:
        document = parse(wanted.query)
        export = Export(
            lay_out(shape_of(self._schema._schema, document, wanted.operation_name)),
            answer.get("data"),
            operation=_operation_name(document, wanted.operation_name),
            variables=wanted.variables,
            snapshot=(answer.get("extensions") or {}).get("snapshot") or {},
            hidden=[
                (e.get("path") or (), (e.get("extensions") or {}).get("code") or "")
                for e in answer.get("errors") or ()
            ],
        )
        try:
            file, size = await run_in_threadpool(_write, export, wanted.format.write, max_rows)
        except TooManyRowsError as exc:
            return graphql_error(ErrorCode.QUERY_TOO_COMPLEX, str(exc))
        name = f"{export.operation or 'export'}-{export.generated_at.date().isoformat()}"
        headers = {
            "Content-Disposition": f'attachment; filename="{name}.{wanted.format.extension}"',
            "Content-Length": str(size),
            "Cache-Control": "no-store",
        }
        media_type = wanted.format.media_type
        return StreamingResponse(_chunks(file), media_type=media_type, headers=headers)


def _graphql_scope(scope: Scope, length: int) -> Scope:
    """``scope`` as a ``POST /graphql`` of a JSON body of ``length`` bytes whose answer
    follows GraphQL over HTTP's statuses (4xx for a request error)."""
    dropped = {b"content-type", b"content-length", b"accept"}
    headers = [(k, v) for k, v in scope["headers"] if k.lower() not in dropped]
    headers += [
        (b"content-type", b"application/json"),
        (b"content-length", str(length).encode()),
        (b"accept", GRAPHQL_RESPONSE.encode()),
    ]
    state = replace(request_state(scope), media_type=GRAPHQL_RESPONSE)
    return {**scope, "headers": headers, STATE_KEY: state}


def _hidden(error: dict[str, Any]) -> bool:
    """True for an error that only hides part of the result from this caller: a ``FORBIDDEN``
    field, or a ``NOT_FOUND`` entity reached by walking the graph (outside the caller's scope),
    not one asked for by id at the root."""
    code = (error.get("extensions") or {}).get("code")
    path = error.get("path") or ()
    return code == _FORBIDDEN or (code == _NOT_FOUND and len(path) > 1)


def _refused(answer: dict[str, Any]) -> bool:
    """True when an answer of status 200 is no file: no data, or an error that does more than
    hide part of it (:func:`_hidden`)."""
    if answer.get("data") is None:
        return True
    return not all(_hidden(e) for e in answer.get("errors") or [])


def _error(captured: Captured, answer: dict[str, Any] | None) -> Response:
    """The JSON error response for a captured ``/graphql`` answer that is no file."""
    status = captured.status
    if answer is not None:
        errors = answer.get("errors") or []
        if answer.get("data") is not None:
            errors = [e for e in errors if not _hidden(e)]
        codes = [(e.get("extensions") or {}).get("code") for e in errors]
        status = max(map(_status_of, codes), default=400)
    kept = {b"www-authenticate", b"allow", b"retry-after", *_QUOTA}
    return Response(captured.body, status, headers=_kept(captured, kept), media_type=JSON)


def _status_of(code: object) -> int:
    """The HTTP status of an error of ``code`` (400 for an error without a known code)."""
    try:
        return ErrorCode(str(code)).status
    except ValueError:
        return 400


def _kept(captured: Captured, names: Iterable[bytes]) -> dict[str, str]:
    """The headers of ``captured`` named in ``names`` (lower case)."""
    wanted = set(names)
    return {k.decode(): v.decode() for k, v in captured.headers if k.lower() in wanted}


def _operation_name(document: Any, name: str | None) -> str:
    operation = get_operation_ast(document, name)
    return operation.name.value if operation is not None and operation.name else ""


def _write(export: Export, write: Writer, max_rows: int) -> tuple[IO[bytes], int]:
    """The export written to a spooled temporary file, rewound, and its size."""
    sheets = export.sheets(max_rows)
    file: IO[bytes] = SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - streamed, closed by _chunks
    try:
        write(sheets, file)
        size = file.tell()
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return file, size


def _chunks(file: IO[bytes]) -> Iterator[bytes]:
    """``file``'s bytes in chunks; closes it at the end (or when the client goes away)."""
    try:
        while chunk := file.read(CHUNK_BYTES):
            yield chunk
    finally:
        file.close()
