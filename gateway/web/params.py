"""The parameters of a ``/graphql`` request, checked before GraphQL runs.

GraphQL over HTTP: a POST carries a JSON object (``query``, ``operationName``, ``variables``,
``extensions``) with ``Content-Type: application/json``; a GET carries the same in its query
string (``variables`` and ``extensions`` as JSON text) and may only run queries. What breaks
these rules is refused with a GraphQL-shaped error:

=========================================================  ======  ====================
request                                                    status  why
=========================================================  ======  ====================
POST without ``Content-Type: application/json`` (form,     415     no CSRF through a
``text/plain``, multipart, none)                                   browser's simple request
POST body empty, not JSON, not an object (a batch while    400     malformed request
batching is off is answered earlier)
``query`` / ``operationName`` not a string, ``variables``  400     malformed request
/ ``extensions`` not an object, no ``query`` (and no
persisted query)
GET selecting a mutation or subscription                   405     ``Allow: POST``
=========================================================  ======  ====================

Example:
    >>> read_params("POST", b'{"query": "{ __typename }"}', {})
    [Params(query='{ __typename }', operation_name=None, variables=None, extensions=None)]
    >>> content_type_refusal("POST", "text/plain").status
    415
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.responses import Response

from gateway.errors import ErrorCode
from gateway.web.error_responses import graphql_error
from gateway.web.negotiation import error_status

JSON_CONTENT_TYPE = "application/json"
"""The one request body media type ``POST /graphql`` accepts."""

SIMPLE_REQUEST = (
    f"POST /graphql needs `Content-Type: {JSON_CONTENT_TYPE}` (form-encoded, multipart and "
    "text/plain bodies are refused: a browser sends those cross-site without asking)"
)
GET_ONLY_QUERIES = "GET /graphql runs queries only: send mutations with POST"
SUBSCRIPTIONS_OVER_WEBSOCKET = (
    "subscriptions run over WebSocket: open ws(s)://<host>/graphql with the "
    "graphql-transport-ws protocol (the graphql-ws client) and send it there"
)


class RefusedError(Exception):
    """A ``/graphql`` request answered before GraphQL runs.

    Args:
        code: The error's ``extensions.code``.
        message: What the client should fix.
        status: The HTTP status (under ``application/graphql-response+json``) when it is not
            the code's own (:data:`gateway.errors.HTTP_STATUS`).
        request_error: A GraphQL request error (status 200 under ``application/json``, see
            :mod:`gateway.web.negotiation`) rather than a malformed HTTP request.
        headers: Extra response headers (``Allow``...).
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        status: int | None = None,
        request_error: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status or code.status, code, message
        self.request_error = request_error
        self.headers = dict(headers or {})

    def response(self, media_type: str) -> Response:
        """The error response in ``media_type``."""
        status = error_status(media_type, self.status) if self.request_error else self.status
        return graphql_error(
            self.code, self.message, media_type, status=status, headers=self.headers
        )


def bad_request(message: str) -> RefusedError:
    """A malformed request (400 under every media type)."""
    return RefusedError(ErrorCode.BAD_USER_INPUT, message)


@dataclass(frozen=True, slots=True)
class Params:
    """One GraphQL request's parameters, type-checked (``query`` None: a persisted query)."""

    query: str | None
    operation_name: str | None
    variables: dict[str, Any] | None = None
    extensions: dict[str, Any] | None = None


def content_type_refusal(method: str, content_type: str | None) -> RefusedError | None:
    """The 415 answer to a POST whose body is not declared ``application/json``, else None.

    Parameters (``charset=utf-8``) are allowed; another charset is refused (JSON is UTF-8).
    """
    if method != "POST":
        return None
    media, _, rest = (content_type or "").partition(";")
    charset = rest.strip().lower().removeprefix("charset=").strip('"') if rest.strip() else ""
    if media.strip().lower() == JSON_CONTENT_TYPE and charset in ("", "utf-8"):
        return None
    return RefusedError(ErrorCode.BAD_USER_INPUT, SIMPLE_REQUEST, status=415)


def _json(text: str | bytes, what: str) -> object:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"{what} is not valid JSON: {exc}") from None


def _typed(data: Mapping[str, Any], name: str, kind: type, kind_name: str) -> Any:
    value = data.get(name)
    if value is not None and not isinstance(value, kind):
        raise bad_request(f"`{name}` must be {kind_name} or null")
    return value


def params_of(data: object) -> Params:
    """Type-check one request object (raises :class:`RefusedError`, 400)."""
    if not isinstance(data, dict):
        raise bad_request("the request must be a JSON object with a `query`")
    return Params(
        query=_typed(data, "query", str, "a string"),
        operation_name=_typed(data, "operationName", str, "a string"),
        variables=_typed(data, "variables", dict, "an object"),
        extensions=_typed(data, "extensions", dict, "an object"),
    )


def read_params(method: str, body: bytes, query: Mapping[str, str]) -> list[Params]:
    """The request's operations (one, or several in a batch), type-checked.

    Args:
        method: ``GET`` or ``POST``.
        body: The POST body (ignored for GET).
        query: The URL's query parameters (GET).

    Raises:
        RefusedError: 400 for an empty or malformed body or parameter.
    """
    if method == "GET":
        data: dict[str, object] = dict(query)
        for name in ("variables", "extensions"):
            raw = query.get(name)
            data[name] = _json(raw, f"the `{name}` parameter") if raw else None
        return [params_of(data)]
    if not body.strip():
        raise bad_request("the request body is empty: send a JSON object with a `query`")
    parsed = _json(body, "the request body")
    if isinstance(parsed, list):
        return [params_of(item) for item in parsed]
    return [params_of(parsed)]


@lru_cache(maxsize=512)
def operation_type(document: str, operation_name: str | None) -> OperationType | None:
    """The type of the operation ``operation_name`` selects in ``document``; None when the
    document does not parse or selects no operation (GraphQL then reports why)."""
    try:
        # Unbounded on purpose: a GET's document is bounded by the URL (or, for a persisted
        # query or an export, by GATEWAY_MAX_QUERY_BYTES) and parsed once (memoized).
        ast = parse(document, no_location=True)
    except GraphQLError:
        return None  # strawberry answers the syntax error itself
    operation = get_operation_ast(ast, operation_name)
    return operation.operation if operation is not None else None


def check_get(document: str, operation_name: str | None) -> None:
    """Raise a 405 :class:`RefusedError` (``Allow: POST``) when a GET would select a mutation or a
    subscription, whether or not the schema has any (GET is safe and idempotent)."""
    kind = operation_type(document, operation_name)
    if kind is not None and kind is not OperationType.QUERY:
        raise RefusedError(
            ErrorCode.BAD_USER_INPUT, GET_ONLY_QUERIES, status=405, headers={"Allow": "POST"}
        )


def check_not_subscription(document: str, operation_name: str | None) -> None:
    """Raise a 400 :class:`RefusedError` when an HTTP request selects a subscription: those
    run over WebSocket only (:mod:`gateway.web.live`)."""
    if operation_type(document, operation_name) is OperationType.SUBSCRIPTION:
        raise RefusedError(ErrorCode.BAD_USER_INPUT, SUBSCRIPTIONS_OVER_WEBSOCKET)
