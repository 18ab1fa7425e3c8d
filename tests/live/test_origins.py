"""The WebSocket handshake of /graphql honours GATEWAY_CORS_ORIGINS: a page on a listed
foreign origin may connect, a page on any other foreign origin is refused (HTTP 403) before
the connection opens (cross-site WebSocket hijacking: browsers apply no CORS to WebSockets)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from gateway.settings import Settings
from tests.live.support import PROTOCOL, WAIT, live_settings, served

ALLOWED = Origin("https://app.example.com")


@pytest.fixture
def origins_url(settings: Settings) -> Iterator[str]:
    """``ws://.../graphql`` of a gateway allowing :data:`ALLOWED` (no data needed)."""
    with served(live_settings(settings, cors_origins=ALLOWED)) as ws_url:
        yield ws_url


async def test_a_listed_foreign_origin_may_open_the_websocket(origins_url: str) -> None:
    async with connect(
        origins_url, subprotocols=[PROTOCOL], origin=ALLOWED, open_timeout=WAIT
    ) as socket:
        assert socket.subprotocol == PROTOCOL


async def test_another_foreign_origin_is_refused_with_403(origins_url: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            origins_url,
            subprotocols=[PROTOCOL],
            origin=Origin("https://evil.example"),
            open_timeout=WAIT,
        ):
            pass
    assert refused.value.response.status_code == 403


async def test_without_the_setting_a_foreign_origin_is_refused(settings: Settings) -> None:
    with served(live_settings(settings)) as ws_url:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(ws_url, subprotocols=[PROTOCOL], origin=ALLOWED, open_timeout=WAIT):
                pass
        assert refused.value.response.status_code == 403
