"""``graphql-transport-ws`` at ``/graphql``: strawberry's protocol handler, with the gateway's
authentication, limits and shared evaluations in place of per-subscriber execution.

strawberry keeps the protocol (message parsing, the ``connection_init`` timeout, ``ping`` /
``pong``, the close codes of malformed or duplicate messages). What changes:

* ``connection_init`` carries the credential (``{"Authorization": "Bearer ..."}`` or
  ``{"X-API-Key": ...}``), checked exactly as the HTTP headers are; none or a bad one closes
  the socket with 4403 before any operation runs; a caller past its rate limit gets 1013
  (try again later), and so does one past ``GATEWAY_LIVE_CONNECTIONS_PER_PRINCIPAL``.
* ``subscribe`` resolves the document like ``/graphql`` (persisted-query hash, trusted
  documents), plans it (:mod:`gateway.web.live.plan`), checks the subscription field's
  matrix entry, and joins the hub's topic: the answer is evaluated once for every subscriber
  with the same document, variables and grants, and sent as ``next`` messages. Refusals are
  ``error`` messages with ``extensions.code``; the connection stays open.
* Messages go out as text frames (orjson), one sender per connection, latest answer first.

Example (what a client sends)::

    {"type": "connection_init", "payload": {"Authorization": "Bearer eyJ..."}}
    {"id": "1", "type": "subscribe", "payload": {"query": "subscription { live { ... } }"}}
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
from graphql import GraphQLError
from graphql.error import GraphQLSyntaxError
from starlette.websockets import WebSocket
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    CompleteMessage,
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from gateway.authz.authenticate import authenticate_until
from gateway.authz.authentication_errors import AuthenticationError
from gateway.authz.extension import forbidden
from gateway.authz.principal import Principal
from gateway.context import Context
from gateway.errors import ErrorCode
from gateway.limits.documents import parse_limited
from gateway.web.live.evaluation import Topic, topic_key
from gateway.web.live.hub import LiveHub
from gateway.web.live.instruments import REFUSED
from gateway.web.live.peer import Peer
from gateway.web.live.plan import Plan, PlanError, plan_operation
from gateway.web.params import RefusedError, params_of
from gateway.web.ratelimit import rate_key
from gateway.web.response_cache import stored_cost
from gateway.web.services import Services, services

if TYPE_CHECKING:
    from gateway.schema import GatewaySchema

logger = logging.getLogger("gateway.live")

NO_CREDENTIAL = (
    'Forbidden: send {"Authorization": "Bearer <JWT>"} or {"X-API-Key": "<key>"} as the '
    "connection_init payload"
)
THROTTLED = (1013, "Try again later: rate limited")
MAX_REASON = 123  # bytes a close frame's reason may hold (RFC 6455 §5.5)


def _reason(text: str) -> str:
    encoded = text.encode()[:MAX_REASON]
    return encoded.decode(errors="ignore")


def _credentials(payload: Mapping[str, Any]) -> dict[str, str]:
    """The credential entries of a ``connection_init`` payload (names case-insensitive)."""
    found: dict[str, str] = {}
    for name, value in payload.items():
        if isinstance(name, str) and name.lower() in ("authorization", "x-api-key"):
            if not isinstance(value, str):
                raise AuthenticationError(f"`{name}` must be a string")
            found[name] = value
    return found


def _error(code: ErrorCode, message: str, **extensions: object) -> dict[str, Any]:
    return dict(GraphQLError(message, extensions={"code": code.value, **extensions}).formatted)


class LiveHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """One WebSocket connection (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.peer: Peer | None = None
        """The connection's live state, once ``connection_init`` authenticated it."""
        self.starting: dict[str, asyncio.Task[None]] = {}
        """Operations being set up (planned, first evaluation), by id."""

    @property
    def ws(self) -> WebSocket:
        """The Starlette WebSocket under strawberry's adapter."""
        socket: WebSocket = self.websocket.ws  # type: ignore[attr-defined]
        return socket

    @property
    def app(self) -> Services:
        """The process's services."""
        return services(self.ws.scope)

    @property
    def hub(self) -> LiveHub:
        """The process's live hub."""
        hub = self.app.live
        if hub is None:
            raise RuntimeError("the app has no live hub (Services.live)")
        return hub

    async def send_message(self, message: Message) -> None:
        """Send a protocol message as a text frame."""
        await self._send_text(orjson.dumps(message).decode())

    async def _send_text(self, text: str) -> None:
        await self.ws.send_text(text)

    async def _close(self, code: int, reason: str) -> None:
        await self.websocket.close(code, _reason(reason))

    # -- connection_init ----------------------------------------------------------------

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        """Authenticate the connection from its ``connection_init`` payload."""
        if self.connection_timed_out:
            return
        if self.connection_init_timeout_task:
            self.connection_init_timeout_task.cancel()
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            await self._close(4400, "Invalid connection init payload")
            return
        if self.connection_init_received:
            await self._close(4429, "Too many initialisation requests")
            return
        self.connection_init_received = True
        refusal = await self._admit(payload)
        if refusal is not None:
            await self._close(*refusal)
            return
        await self.send_message({"type": "connection_ack"})
        self.connection_acknowledged = True

    async def _admit(self, payload: Mapping[str, Any]) -> tuple[int, str] | None:
        """Authenticate and register the peer; the close code and reason refusing it, if any."""
        app, scope = self.app, self.ws.scope
        try:
            found = await authenticate_until(_credentials(payload), app.settings, app.engine)
        except AuthenticationError as exc:
            await self._take(rate_key(None, scope))
            return 4403, f"Forbidden: {exc.message}"
        if found is None:
            await self._take(rate_key(None, scope))
            return 4403, NO_CREDENTIAL
        principal, expires = found
        if not await self._take(rate_key(principal, scope)):
            return THROTTLED
        self.peer = Peer(principal, self.ws.send_text, self._close, expires)
        return self.hub.connect(self.peer)

    async def _take(self, key: str) -> bool:
        """Take a rate-limit token from ``key``'s bucket; False when it is empty."""
        limiter = self.app.rate_limiter
        return limiter is None or await limiter.wait(key) <= 0

    # -- subscribe / complete -----------------------------------------------------------

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        """Start an operation: checks here, evaluation in its own task."""
        if not self.connection_acknowledged or self.peer is None:
            await self._close(4401, "Unauthorized")
            return
        operation_id, payload = message["id"], message["payload"]
        if not isinstance(operation_id, str) or not operation_id or not isinstance(payload, dict):
            await self._close(4400, "Invalid subscribe message")
            return
        if operation_id in self.peer.subscribers or operation_id in self.starting:
            await self._close(4409, f"Subscriber for {operation_id} already exists")
            return
        # An operation still starting may have joined its topic already: count it once.
        held = len(self.peer.subscribers.keys() | self.starting.keys())
        limit = self.app.settings.live_subscriptions_per_connection
        if held >= limit:
            message_text = (
                f"this connection holds {limit} operations already "
                "(GATEWAY_LIVE_SUBSCRIPTIONS_PER_CONNECTION): complete one first"
            )
            await self._refuse(operation_id, [_error(ErrorCode.RATE_LIMITED, message_text)])
            return
        task = asyncio.create_task(self._start(operation_id, dict(payload)))
        self.starting[operation_id] = task
        task.add_done_callback(lambda done: self._started(operation_id, done))

    def _started(self, operation_id: str, task: asyncio.Task[None]) -> None:
        """Forget the set-up task of ``operation_id`` (unless the id was reused since)."""
        if self.starting.get(operation_id) is task:
            del self.starting[operation_id]
        if not task.cancelled() and task.exception() is not None:
            logger.error("live operation failed", exc_info=task.exception())

    async def _start(self, operation_id: str, payload: dict[str, Any]) -> None:
        peer = self.peer
        assert peer is not None
        try:
            plan, variables = await self._plan(peer.principal, payload)
            await self._run(peer, operation_id, plan, variables)
        except PlanError as refused:
            self.hub.unsubscribe(peer, operation_id)
            await self._refuse(operation_id, refused.formatted)

    async def _run(
        self, peer: Peer, operation_id: str, plan: Plan, variables: dict[str, Any] | None
    ) -> None:
        """Join the topic and send the first answer (and ``complete`` for a query).

        Raises:
            PlanError: the query did not execute (limits, cost), or the budget lacks its cost.
        """
        hub = self.hub
        key = topic_key(plan, variables, peer.principal, self._versions())
        subscriber = hub.subscribe(
            peer, operation_id, key, Topic(key, plan, variables, peer.principal)
        )
        try:
            answer = await hub.first_answer(subscriber)
        except Exception:
            failure = _error(ErrorCode.INTERNAL_SERVER_ERROR, "the evaluation failed")
            hub.unsubscribe(peer, operation_id)
            await self._refuse(operation_id, [failure])
            raise
        if answer.fatal:
            raise PlanError.of(list(answer.errors))
        # The operation's cost, once (pushes are the server's doing, not the caller's).
        await self._spend(peer.principal, stored_cost(answer.body) or 0)
        if not plan.repeats:
            await peer.flush()
            hub.unsubscribe(peer, operation_id)
            await self.send_message(CompleteMessage(id=operation_id, type="complete"))

    async def _plan(
        self, principal: Principal, payload: dict[str, Any]
    ) -> tuple[Plan, dict[str, Any] | None]:
        """The plan and variables ``payload`` asks for, every check passed.

        Raises:
            PlanError: what the client's ``error`` message lists.
        """
        app = self.app
        if not await self._take(rate_key(principal, self.ws.scope)):
            raise PlanError([GraphQLError("rate limited", extensions={"code": "RATE_LIMITED"})])
        if app.persisted is None:
            raise RuntimeError("the app has no persisted queries (Services.persisted)")
        await self._spend(principal, 1)  # the admission point, as over HTTP
        try:
            params = params_of(payload)
            document = await app.persisted.resolve(params, principal)
        except RefusedError as refused:
            raise PlanError(
                [GraphQLError(refused.message, extensions={"code": refused.code.value})]
            ) from None
        schema: GatewaySchema = self.schema  # type: ignore[assignment]
        try:
            parsed = parse_limited(document, max_tokens=schema.limits.tokens)
        except GraphQLSyntaxError as error:
            raise PlanError([error]) from None
        plan = plan_operation(schema._schema, document, parsed, params.operation_name)
        if plan.repeats:  # the subscription field's own matrix entry
            coordinate = f"Subscription.{'live' if plan.kind == 'live' else 'snapshots'}"
            allowed = schema.authz.coordinates.get(coordinate, frozenset())
            if not allowed & principal.roles:
                denied = forbidden(coordinate, allowed)
                raise PlanError([GraphQLError(denied.message, extensions=denied.extensions)])
        return plan, params.variables

    async def _spend(self, principal: Principal, cost: int) -> None:
        """Spend ``cost`` points of the caller's cost budget (``GATEWAY_COST_BUDGET_*``).

        Raises:
            PlanError: the window lacks them (``RATE_LIMITED``, with ``retryAfter``).
        """
        budget = self.app.cost_budget
        if budget is None or cost <= 0:
            return
        window = await budget.spend(rate_key(principal, self.ws.scope), cost)
        if window is not None and not window.granted:
            error = budget.refusal(window, cost)
            raise PlanError([GraphQLError(error.message, extensions=error.extensions)])

    def _versions(self) -> tuple[str, str]:
        schema: GatewaySchema = self.schema  # type: ignore[assignment]
        return schema.authz.matrix.version, schema.limits.version

    async def _refuse(self, operation_id: str, errors: list[Any]) -> None:
        for error in errors:
            code = (error.get("extensions") or {}).get("code", "BAD_USER_INPUT")
            REFUSED.labels(str(code)).inc()
        with contextlib.suppress(Exception):
            await self.send_message({"id": operation_id, "type": "error", "payload": errors})

    async def handle_complete(self, message: CompleteMessage) -> None:
        """Stop an operation (idempotent: an unknown id is ignored)."""
        operation_id = message["id"]
        task = self.starting.pop(operation_id, None)
        if task is not None:  # its id is free at once (the task ends in its own time)
            task.cancel()
        if self.peer is not None:
            self.hub.unsubscribe(self.peer, operation_id)

    async def shutdown(self) -> None:
        """The socket closed: forget the peer and every operation of it."""
        for task in list(self.starting.values()):
            task.cancel()
        if self.peer is not None:
            self.hub.disconnect(self.peer)
        await super().shutdown()
