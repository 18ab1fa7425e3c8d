"""What a request learns is one typed object under one scope key, and the lifespan's services one
typed object: nothing else of the gateway's is left in the ASGI scope or on ``app.state``."""

from __future__ import annotations

import datetime as dt

import httpx
from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.app import create_app
from gateway.authz.tokens import mint_token
from gateway.settings import Settings
from gateway.web.negotiation import GRAPHQL_RESPONSE
from gateway.web.request_state import STATE_KEY, RequestState
from gateway.web.services import AppConfig, Services
from tests.principals import ADMIN

SECRET = "request-state-test-secret-of-32-chars"


def _keeping(app: ASGIApp, scopes: list[Scope]) -> ASGIApp:
    async def kept(scope: Scope, receive: Receive, send: Send) -> None:
        scopes.append(scope)
        await app(scope, receive, send)

    return kept


async def test_a_request_leaves_one_typed_state_in_its_scope(settings: Settings) -> None:
    settings = settings.model_copy(update={"jwt_secret": SecretStr(SECRET)})
    app = create_app(settings)
    scopes: list[Scope] = []
    token = mint_token(settings, ADMIN.subject, ADMIN.grants, dt.timedelta(minutes=5))
    headers = {"Authorization": f"Bearer {token}", "Accept": GRAPHQL_RESPONSE}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=_keeping(app, scopes))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
            response = await http.post(
                "/graphql", json={"query": "query Who { viewer { subject } }"}, headers=headers
            )
        assert response.status_code == 200, response.text
        assert isinstance(app.state.services, Services)
        assert isinstance(app.state.config, AppConfig)
    (scope,) = scopes
    ours = sorted(key for key in scope if key.startswith("gateway"))
    assert ours == [STATE_KEY]
    state = scope[STATE_KEY]
    assert isinstance(state, RequestState)
    assert state.principal is not None
    assert (state.principal.subject, state.principal.grants) == (ADMIN.subject, ADMIN.grants)
    assert state.media_type == GRAPHQL_RESPONSE
    assert state.cost.operation == "Who"
    assert state.cost.cost is not None
    assert state.cache_outcome is not None
    assert state.contexts == []  # closed once the response was complete
    # Nothing but the configuration and the services on app.state.
    assert set(vars(app.state)["_state"]) == {"config", "services"}
