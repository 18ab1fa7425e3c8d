"""What one HTTP request learns on its way through the web layer, in one typed object.

Each step that finds something out writes it here and later steps read it: the media type
negotiated before authentication, the principal, the request's cost account (the budget's meter
and what the operation cost, written by :class:`~gateway.limits.cost_limit.CostLimit`), the
persisted documents it resolved, strawberry's sub-response, the GraphQL contexts to close, the
snapshot the response read, the response cache's outcome and the access line's fields. It lives
in the ASGI scope under :data:`STATE_KEY`, the only entry the gateway adds to a scope.

Example:
    >>> scope = {"type": "http"}
    >>> request_state(scope).media_type = "application/json"
    >>> request_state(scope).media_type
    'application/json'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.types import Scope

from gateway.authz.principal import Principal
from gateway.limits.cost_limit import CostAccount
from gateway.loaders.snapshot import Snapshot

if TYPE_CHECKING:
    from starlette.responses import Response

    from gateway.context import Context

STATE_KEY = "gateway"
"""The ASGI scope entry holding the request's :class:`RequestState`."""


@dataclass(slots=True)
class RequestState:
    """The request's state (see the module docstring); every field starts unknown.

    Attributes:
        media_type: The response media type negotiated from ``Accept`` (None: not yet).
        principal: The authenticated caller.
        cost: The cost account the cost limit charges and records in.
        documents: ``sha256 -> document`` of the hash-only persisted queries it resolved.
        sub_response: strawberry's sub-response (its status and media type).
        contexts: The GraphQL contexts opened for it, closed once the response is complete.
        snapshot_read: The snapshot its response read (the response cache keys on it).
        cache_outcome: The response cache's outcome (``hit``, ``miss``, ``bypass``...).
        log: Access-line fields noted by the fast path (``principal``, ``operation``...).
    """

    media_type: str | None = None
    principal: Principal | None = None
    cost: CostAccount = field(default_factory=CostAccount)
    documents: dict[str, str] = field(default_factory=dict)
    sub_response: Response | None = None
    contexts: list[Context] = field(default_factory=list)
    snapshot_read: Snapshot | None = None
    cache_outcome: str | None = None
    log: dict[str, object] = field(default_factory=dict)


def request_state(scope: Scope) -> RequestState:
    """The request's state, created on first use."""
    state: RequestState | None = scope.get(STATE_KEY)
    if state is None:
        state = scope[STATE_KEY] = RequestState()
    return state
