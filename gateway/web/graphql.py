"""``/graphql``: strawberry's ASGI view with an offline GraphiQL, orjson, and our Context.

Three changes to :class:`strawberry.asgi.GraphQL`:

* a browser (``Accept: text/html``) gets our own GraphiQL page, whose scripts and styles are the
  vendored copies under ``gateway/web/static/graphiql`` (and the graphql-ws client under
  ``static/graphql-ws``, for subscriptions over a WebSocket to this same endpoint) served by the
  gateway itself: the page names no other host, so it works with the network cut;
* request bodies are parsed and responses encoded with orjson (several times faster than
  :mod:`json` on large metric series);
* every operation gets a fresh :class:`gateway.context.Context` (loaders are per request).

and two limits before anything is parsed: a POST body over ``GATEWAY_MAX_QUERY_BYTES`` gets
HTTP 413, and a batch (a JSON array body) gets HTTP 400 unless ``GATEWAY_ALLOW_BATCHING`` is on;
both answer a GraphQL error (``QUERY_TOO_COMPLEX``, ``BAD_USER_INPUT``).

Example:
    >>> view = GatewayGraphQL(build_schema())  # doctest: +SKIP
    >>> Route("/graphql", view, methods=["GET", "POST"])  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import html
import ipaddress
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import cast

import orjson
from starlette.datastructures import Address
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from gateway.authz.authentication_errors import AuthenticationError
from gateway.authz.principal import Principal
from gateway.context import Context
from gateway.errors import ErrorCode
from gateway.web.body import read_bounded, replay
from gateway.web.budget import open_meter
from gateway.web.callers import Throttled, authenticate_limited
from gateway.web.default_query import DEFAULT_QUERY
from gateway.web.error_responses import graphql_error, unauthenticated
from gateway.web.graphql_over_http import ConformingGraphQL, admit, before_auth
from gateway.web.live.handler import LiveHandler
from gateway.web.negotiation import scope_media_type
from gateway.web.observability import GRAPHQL
from gateway.web.ratelimit import rate_limited, throttle_batch
from gateway.web.request_state import request_state
from gateway.web.security_headers import page_headers
from gateway.web.services import services
from gateway.web.timeout import within_timeout

STATIC_DIR = Path(__file__).with_name("static")
"""Directory served under ``/static``: vendored GraphiQL assets and the page's own script."""

MISSING_CREDENTIALS = (
    "authentication required: send `Authorization: Bearer <JWT>` or `X-API-Key: <key>`"
)

CONNECTION_INIT_WAIT = timedelta(seconds=10)
"""How long a WebSocket may stay open without ``connection_init`` (then closed with 4408)."""

STATIC_PREFIX = "/static"
"""URL path where :data:`STATIC_DIR` is mounted by :func:`gateway.app.create_app`."""

STYLESHEETS = ("graphiql/graphiql.min.css", "graphiql/plugin-explorer.css", "gateway/graphiql.css")
"""Stylesheets of the GraphiQL page, relative to :data:`STATIC_DIR`, in load order."""

SCRIPTS = (
    "graphiql/react.production.min.js",
    "graphiql/react-dom.production.min.js",
    "graphiql/graphiql.min.js",
    "graphiql/plugin-explorer.umd.js",
    "graphql-ws/graphql-ws.min.js",
    "gateway/graphiql.js",
)
"""Scripts of the GraphiQL page in load order: React first, GraphiQL, its plugin, the
graphql-ws client (subscriptions over WebSocket), our boot."""


@cache
def asset_version(relative_path: str) -> str:
    """A short content hash of a static file, appended as ``?v=`` so caches can be immutable.

    Computed once per process (the assets are read-only package data).
    """
    digest = hashlib.sha256((STATIC_DIR / relative_path).read_bytes()).hexdigest()
    return digest[:12]


def asset_url(root_path: str, relative_path: str) -> str:
    """The versioned, host-relative URL of a static asset, e.g. ``/static/x.js?v=ab12cd34ef56``."""
    return f"{root_path}{STATIC_PREFIX}/{relative_path}?v={asset_version(relative_path)}"


def lower_media_type(scope: Scope) -> None:
    """Lower-case the media type of the request's ``Content-Type`` (case-insensitive, RFC 9110
    §8.3.1) so that every reader of it, strawberry's included, compares it as written here."""
    for i, (name, value) in enumerate(scope["headers"]):
        if name == b"content-type":
            media, sep, params = value.partition(b";")
            if media != media.lower():
                headers = list(scope["headers"])
                headers[i] = (name, media.lower() + sep + params)
                scope["headers"] = headers
            return


def is_loopback(client: Address | None) -> bool:
    """True when ``client`` is this machine (127.0.0.0/8, ::1)."""
    if client is None:
        return False
    try:
        return ipaddress.ip_address(client.host).is_loopback
    except ValueError:
        return False


def render_graphiql_page(
    *, root_path: str = "", default_headers: Mapping[str, str] | None = None
) -> str:
    """The GraphiQL HTML page; every URL in it is host-relative (under ``root_path``).

    Args:
        root_path: The ASGI ``root_path`` the gateway is mounted under ("" at the root).
        default_headers: Request headers pre-filled in GraphiQL's headers editor (the demo
            passes a development token here); None leaves the editor empty.
    """
    config = {
        "endpoint": f"{root_path}/graphql",
        "defaultQuery": DEFAULT_QUERY,
        "defaultHeaders": (
            orjson.dumps(dict(default_headers), option=orjson.OPT_INDENT_2).decode()
            if default_headers
            else ""
        ),
    }
    # "<" escaped as \u003c keeps "</script>" inside a string from closing the JSON block.
    config_json = orjson.dumps(config).decode().replace("<", "\\u003c")
    links = "\n".join(
        f'    <link rel="stylesheet" href="{html.escape(asset_url(root_path, css))}">'
        for css in STYLESHEETS
    )
    scripts = "\n".join(
        f'    <script src="{html.escape(asset_url(root_path, js))}"></script>' for js in SCRIPTS
    )
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>GraphiQL · mini-program analytics gateway</title>
    <link rel="icon" href="data:,">
{links}
    <script id="gateway-graphiql-config" type="application/json">{config_json}</script>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
{scripts}
  </body>
</html>
"""


async def caller(request: Request) -> Principal | Response:
    """The request's authenticated caller, or the answer refusing it: 429 ``RATE_LIMITED``
    when its bucket is empty (callers without a valid credential are limited by address, API
    keys before they are looked up: :mod:`gateway.web.callers`), else 401 for no or an
    invalid credential."""
    try:
        principal = await authenticate_limited(request)
    except Throttled as refused:
        return rate_limited(refused.wait, scope_media_type(request.scope))
    except AuthenticationError as exc:
        return unauthenticated(exc, exc.message)
    if principal is None:
        return unauthenticated(None, MISSING_CREDENTIALS)
    return principal


def body_too_large(limit: int) -> Response:
    """HTTP 413 (``QUERY_TOO_COMPLEX``): a POST body over ``GATEWAY_MAX_QUERY_BYTES``."""
    message = f"request body larger than {limit} bytes (GATEWAY_MAX_QUERY_BYTES)"
    return graphql_error(ErrorCode.QUERY_TOO_COMPLEX, message, status=413)


BATCHING_OFF = "batching is off: send one operation per request (GATEWAY_ALLOW_BATCHING)"


class GatewayGraphQL(ConformingGraphQL):
    """The ``/graphql`` endpoint (GET and POST; GraphiQL for browsers).

    Args:
        schema: The executable schema (:func:`gateway.schema.build_schema`).
        graphiql_headers: Headers pre-filled in GraphiQL's headers editor, or None.
        allowed_origins: Foreign origins whose pages may open the WebSocket
            (``GATEWAY_CORS_ORIGINS``); same-origin pages and clients sending no ``Origin``
            are always accepted.
    """

    graphql_transport_ws_handler_class = LiveHandler

    def __init__(
        self,
        schema: BaseSchema,
        *,
        graphiql_headers: Mapping[str, str] | None = None,
        allowed_origins: Sequence[str] = (),
    ) -> None:
        super().__init__(
            schema,
            allowed_origins=allowed_origins,
            graphql_ide="graphiql",
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=CONNECTION_INIT_WAIT,
        )
        self._graphiql_headers = dict(graphiql_headers or {})

    async def render_graphql_ide(self, request: Request) -> Response:
        """Serve the offline GraphiQL page instead of strawberry's CDN-based one."""
        # The demo's pre-filled token goes to this machine's own browser only: anyone else
        # who reaches the address gets the page without it (and must sign in).
        headers = self._graphiql_headers if is_loopback(request.client) else None
        page = render_graphiql_page(
            root_path=request.scope.get("root_path", ""), default_headers=headers
        )
        # The page embeds a token in the demo; never let a shared cache keep it.
        return HTMLResponse(page, headers={"Cache-Control": "no-store", **page_headers()})

    def decode_json(self, data: str | bytes) -> object:
        """Parse a request body with orjson (its errors subclass json.JSONDecodeError)."""
        return orjson.loads(data)

    def encode_json(self, data: object) -> bytes:
        """Encode a response with orjson."""
        return orjson.dumps(data)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate, then answer through the response cache when the app has one.

        Every GraphQL request needs credentials; the GraphiQL page does not.
        """
        if scope["type"] == "websocket":  # graphql-transport-ws: gateway.web.live.handler
            await super().__call__(scope, receive, send)
            return
        if scope["type"] != "http":
            await self._execute(scope, receive, send)
            return
        lower_media_type(scope)
        request = Request(scope, receive)
        if self.should_render_graphql_ide(request):  # type: ignore[arg-type]
            await self._execute(scope, receive, send)
            return
        refused = before_auth(scope, request.headers)  # 406, 415: GraphQL over HTTP
        if refused is not None:
            await refused(scope, receive, send)
            return
        principal = await caller(request)
        if isinstance(principal, Response):
            await principal(scope, receive, send)
            return
        await self.run_authenticated(scope, receive, send, principal)

    async def run_authenticated(
        self, scope: Scope, receive: Receive, send: Send, principal: Principal
    ) -> None:
        """Answer an authenticated request: the body's limits, its parameters and persisted
        query, then the operation, through the response cache when the app has one.

        ``/export`` calls this too, with its own body, so that an export runs exactly as the
        same operation sent to ``/graphql`` would.
        """
        request = Request(scope, receive)
        app, state = services(scope), request_state(scope)
        state.principal = principal
        meter = await open_meter(app.cost_budget, scope, principal)  # its admission point
        if isinstance(meter, Response):
            await meter(scope, receive, send)
            return
        if meter is not None:
            state.cost.meter = meter  # the cost limit charges the operations to it
            send = meter.send(send)  # X-RateLimit-* headers
        body: bytes | None = b""
        if request.method == "POST":
            body = await read_bounded(request, app.settings.max_query_bytes)
            refused = self._refuse(body, app.settings.max_query_bytes)
            if refused is not None:
                await refused(scope, receive, send)
                return
            receive = replay(body or b"", receive)
        if app.persisted is None:
            raise RuntimeError("the app has no persisted queries (Services.persisted)")
        admitted = await admit(request, body or b"", principal, app.persisted)
        if isinstance(admitted, Response):  # malformed, unknown or untrusted persisted query,
            await admitted(scope, receive, send)  # GET mutation
            return
        refused = await throttle_batch(app.rate_limiter, scope, principal, admitted)
        if refused is not None:  # a token per operation
            await refused(scope, receive, send)
            return
        if meter is not None:
            meter.batch = admitted > 1
        if app.responses is None:
            await self._execute(scope, receive, send)
            return
        report = meter.report if meter is not None else None
        outcome = await app.responses.handle(scope, receive, send, self._execute, principal, report)
        state.cache_outcome = outcome  # for the access log
        GRAPHQL.labels(outcome).inc()

    def _refuse(self, body: bytes | None, limit: int) -> Response | None:
        """The answer to a POST body too large (None) or batched while batching is off; None
        when it may proceed."""
        if body is None:
            return body_too_large(limit)
        batching = self.schema.config.batching_config is not None
        if not batching and body.lstrip()[:1] == b"[":
            return graphql_error(ErrorCode.BAD_USER_INPUT, BATCHING_OFF)
        return None

    async def _execute(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run strawberry's view (within the request timeout), then close the request's
        contexts (their snapshot read transaction), noting which snapshot the response read."""
        state = request_state(scope)
        try:
            seconds = services(scope).settings.request_timeout_seconds
            await within_timeout(super().__call__, scope, receive, send, seconds)
        finally:
            contexts, state.contexts = state.contexts, []
            for context in contexts:
                if context.reader.state is not None:
                    state.snapshot_read = context.reader.state
                await context.close()

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        """Build the per-request Context from the services and what the request learnt (its
        principal, its cost account). The request state remembers it so that
        :meth:`_execute` closes it."""
        if isinstance(request, WebSocket):
            # A connection's operations run in shared evaluations with contexts of their own
            # (gateway.web.live.evaluation): the socket itself holds none.
            return cast(Context, None)
        app, state = services(request.scope), request_state(request.scope)
        context = Context.create(
            app.engine,
            app.settings,
            request,
            principal=state.principal,
            cache=app.cache,
            cost=state.cost,
            reads=app.reads,
        )
        state.contexts.append(context)
        return context
