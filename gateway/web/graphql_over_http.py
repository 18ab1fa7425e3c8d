"""GraphQL over HTTP around strawberry's view: what ``/graphql`` checks before GraphQL runs,
and how its answers are shaped.

Before authentication (nothing is parsed yet): the ``Accept`` header (406 when it allows no
media type of ours, :mod:`gateway.web.negotiation`) and a POST's ``Content-Type`` (415 unless
``application/json``, :mod:`gateway.web.params`). After it: the parameters' types, the
persisted query or trusted document (:mod:`gateway.web.persisted`) and, for GET, that the
operation is a query (405). Then :class:`ConformingGraphQL` runs the operation, answering in
the negotiated media type; under ``application/graphql-response+json`` a request error (nothing
executed) has HTTP 400 and no ``data`` entry.

CSRF: credentials travel only in ``Authorization`` or ``X-API-Key`` headers, never in cookies,
and no CORS header is ever sent; a cross-site page can therefore neither attach them (doing so
needs a CORS preflight, which fails) nor use a simple request (a form or ``text/plain`` POST
is refused with 415, a GET never runs a mutation). So GET needs no extra anti-CSRF header.
"""

from __future__ import annotations

import dataclasses

from graphql import ExecutionResult
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.types import ExecutionResult as StrawberryResult

from gateway.authz.principal import Principal
from gateway.context import Context
from gateway.errors import ErrorCode
from gateway.web.error_responses import graphql_error
from gateway.web.negotiation import (
    GRAPHQL_RESPONSE,
    NOT_ACCEPTABLE,
    negotiate,
    scope_media_type,
)
from gateway.web.params import (
    RefusedError,
    check_get,
    check_not_subscription,
    content_type_refusal,
    read_params,
)
from gateway.web.persisted import PersistedQueries, persisted_hash
from gateway.web.request_state import request_state


def before_auth(scope: Scope, headers: Headers) -> Response | None:
    """Negotiate the media type (kept in the scope) and check a POST's content type; the
    refusal, or None when the request may go on to authentication."""
    media = negotiate(headers.get("accept"))
    if media is None:
        return graphql_error(ErrorCode.BAD_USER_INPUT, NOT_ACCEPTABLE, status=406)
    request_state(scope).media_type = media
    refusal = content_type_refusal(scope["method"], headers.get("content-type"))
    return refusal.response(media) if refusal is not None else None


async def admit(
    request: Request, body: bytes, principal: Principal, persisted: PersistedQueries
) -> Response | int:
    """Check the parameters, resolve persisted queries and refuse mutations over GET; the
    refusal, or the number of operations when the request may run (more than one: a batch;
    hash-only documents noted in the scope)."""
    documents: dict[str, str] = {}
    try:
        operations = read_params(request.method, body, request.query_params)
        for params in operations:
            document = await persisted.resolve(params, principal)
            sha = persisted_hash(params.extensions)
            if params.query is None and sha is not None:
                documents[sha] = document
            if request.method == "GET":
                check_get(document, params.operation_name)
            check_not_subscription(document, params.operation_name)
    except RefusedError as refusal:
        return refusal.response(scope_media_type(request.scope))
    request_state(request.scope).documents = documents
    return len(operations)


def is_request_error(result: ExecutionResult | StrawberryResult) -> bool:
    """True when nothing executed: no data and no error with a path (a syntax, validation or
    variable coercion error); a field error always has a path."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(error.path is None for error in errors)


class ConformingGraphQL(GraphQL[Context, None]):
    """strawberry's ASGI view answering in the negotiated media type (see the module doc)."""

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """strawberry's rule (a GET without ``query`` from a browser or ``*/*``), except for a
        persisted query: a GET with ``extensions`` is an operation, not a visit."""
        if request.query_params.get("extensions") is not None:
            return False
        return super().should_render_graphql_ide(request)

    async def get_sub_response(self, request: Request) -> Response:  # type: ignore[override]
        """strawberry's sub-response, remembered in the scope with the media type."""
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = scope_media_type(request.scope)
        request_state(request.scope).sub_response = sub_response
        return sub_response

    async def execute_single(
        self,
        request: Request,
        request_adapter: object,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> StrawberryResult:
        """Run one operation; a hash-only persisted query runs its resolved document."""
        if request_data.query is None:
            sha = persisted_hash(request_data.extensions)
            document = request_state(request.scope).documents.get(sha) if sha else None
            if document is not None:
                request_data = dataclasses.replace(request_data, query=document)
        return await super().execute_single(
            request=request,
            request_adapter=request_adapter,  # type: ignore[arg-type]
            sub_response=sub_response,
            context=context,
            root_value=root_value,
            request_data=request_data,
        )

    async def process_result(
        self, request: Request, result: StrawberryResult
    ) -> GraphQLHTTPResponse:
        """strawberry's result; a request error under ``application/graphql-response+json``
        loses its ``data`` entry and makes the status 400."""
        data = await super().process_result(request, result)
        if scope_media_type(request.scope) == GRAPHQL_RESPONSE and is_request_error(result):
            data.pop("data", None)
            sub_response = request_state(request.scope).sub_response
            if sub_response is not None:
                sub_response.status_code = 400
        return data

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """strawberry's response with the negotiated ``Content-Type``."""
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = sub_response.media_type or "application/json"
        return response
