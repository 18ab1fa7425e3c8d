"""Every role x Subscription field cell of the matrix, over WebSocket."""

from __future__ import annotations

from gateway.authz.matrix import DEFAULT_MATRIX
from gateway.roles import FAMILY, Family, Role
from gateway.settings import Settings
from tests.live.support import LiveClient, bearer
from tests.principals import principal

SELECTIONS = {
    "live": "subscription { live { snapshot { id } } }",
    "snapshots": "subscription { snapshots { id } }",
}
SCOPES = {Family.SUPERAPP: {"workspace": "ws-1"}, Family.MINI_PROGRAM: {"merchant": "m-1"}}


async def test_every_role_on_every_subscription_field(url: str, served_settings: Settings) -> None:
    for role in Role:
        who = principal(role, **SCOPES.get(FAMILY[role], {}))
        async with LiveClient.connect(url, bearer(served_settings, who)) as client:
            for field, query in SELECTIONS.items():
                await client.subscribe(field, query)
                message = await client.next(field)
                allowed = role in DEFAULT_MATRIX.roles(f"Subscription.{field}")
                if allowed:
                    assert message["type"] == "next", (role, field, message)
                    assert "errors" not in message["payload"], (role, field, message)
                else:
                    assert message["type"] == "error", (role, field, message)
                    error = message["payload"][0]["extensions"]
                    assert error["code"] == "FORBIDDEN", (role, field)
                    assert error["coordinate"] == f"Subscription.{field}"
