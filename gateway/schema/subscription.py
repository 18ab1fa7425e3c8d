"""``Subscription``: live answers over WebSocket (SPEC §7, "Live").

Both fields are evaluated by the gateway's WebSocket handler (:mod:`gateway.web.live`), which
shares one evaluation among every subscriber with the same document, variables and grants;
these resolvers only give the fields their types and descriptions. Executed any other way
(there is none over HTTP: subscriptions are refused there) they answer an error.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from gateway.errors import BadUserInputError
from gateway.schema.fields import Info, resolver_field
from gateway.schema.query import Query
from gateway.schema.snapshot import Snapshot

OVER_WEBSOCKET = (
    "subscriptions run over WebSocket at /graphql (the graphql-transport-ws protocol of the "
    "graphql-ws client)"
)


@strawberry.type(
    description="Live answers, over WebSocket at `/graphql` (graphql-transport-ws: the "
    "protocol of the `graphql-ws` client), authenticated by the `connection_init` payload "
    '(`{"Authorization": "Bearer <JWT>"}` or `{"X-API-Key": "<key>"}`). The matrix, scopes, '
    "query limits, cost, trusted documents and persisted queries apply as to queries. A "
    "connection is closed (4403) when its token expires or its API key is revoked."
)
class Subscription:
    """The root subscription type."""

    @resolver_field(
        is_subscription=True,
        description="The current snapshot at once, then each new one as it is taken (the "
        "selection is `Query.snapshot`'s).",
    )
    async def snapshots(self, info: Info) -> AsyncGenerator[Snapshot, None]:
        del info
        raise BadUserInputError(OVER_WEBSOCKET)
        yield  # pragma: no cover - makes this an async generator

    @resolver_field(
        is_subscription=True,
        description="The selection evaluated as a query at once, then again after each new "
        "snapshot, sent only when the answer differs from the last one sent. Subscribers with "
        "the same document, variables and grants share one evaluation per snapshot. Its "
        "selection is limited and costed exactly as the same selection sent as a query.",
    )
    async def live(self, info: Info) -> AsyncGenerator[Query, None]:
        del info
        raise BadUserInputError(OVER_WEBSOCKET)
        yield  # pragma: no cover - makes this an async generator
