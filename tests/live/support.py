"""A ``graphql-transport-ws`` client for tests (the ``websockets`` library), and a gateway
served by uvicorn in a thread of the test process with the settings the live tests need.

Example:
    >>> async with LiveClient.connect(url, {"Authorization": f"Bearer {token}"}) as client:
    ...     await client.subscribe("1", "subscription { snapshots { id } }")
    ...     first = await client.next("1")
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gateway.authz.principal import Principal
from gateway.authz.tokens import mint_token
from gateway.settings import Settings
from tests.cache_http.support import http_settings
from tests.live_server import live_gateway

PROTOCOL = Subprotocol("graphql-transport-ws")
WAIT = 15.0
"""Seconds a test waits for a message that must come (a loaded machine is slow, not wrong)."""


def live_settings(
    settings: Settings, redis_url: str | None = None, **overrides: object
) -> Settings:
    """``settings`` for a served gateway: the cache tests' (a JWT secret, limits off), a poll
    every 0.1 s, no in-process refresher."""
    update: dict[str, object] = {"cache_poll_seconds": 0.1, "refresh_in_process": False}
    return http_settings(settings, redis_url, **{**update, **overrides})


def bearer(settings: Settings, who: Principal, seconds: float = 3600) -> dict[str, str]:
    """The ``connection_init`` payload of a JWT for ``who`` valid ``seconds``."""
    token = mint_token(settings, who.subject, who.grants, dt.timedelta(seconds=seconds))
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    """The gateway on a free port; yields its ``ws://.../graphql`` URL."""
    with live_gateway(settings) as url:
        yield url.replace("http://", "ws://") + "/graphql"


class LiveClient:
    """One connection: messages received are kept per operation id."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.messages: list[dict[str, Any]] = []

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, url: str, payload: Mapping[str, Any] | None, *, ack: bool = True
    ) -> AsyncIterator[LiveClient]:
        """Open a connection and send ``connection_init`` with ``payload`` (None: send
        nothing); with ``ack``, wait for ``connection_ack``."""
        async with connect(url, subprotocols=[PROTOCOL], open_timeout=WAIT) as socket:
            client = cls(socket)
            if payload is not None:
                await client.send({"type": "connection_init", "payload": dict(payload)})
                if ack:
                    assert (await client.receive())["type"] == "connection_ack"
            yield client

    async def send(self, message: Mapping[str, Any]) -> None:
        """Send one protocol message."""
        await self.socket.send(orjson.dumps(message).decode())

    async def receive(self, wait: float = WAIT) -> dict[str, Any]:
        """The next message within ``wait`` seconds (``ping`` answered with ``pong`` and
        skipped: pings do not extend the wait)."""
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            left = deadline - asyncio.get_running_loop().time()
            frame = await asyncio.wait_for(self.socket.recv(), max(left, 0.0))
            assert isinstance(frame, str), "messages must be text frames"
            message: dict[str, Any] = orjson.loads(frame)
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def subscribe(
        self, operation_id: str, query: str, variables: Mapping[str, Any] | None = None
    ) -> None:
        """Send ``subscribe``."""
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = dict(variables)
        await self.send({"id": operation_id, "type": "subscribe", "payload": payload})

    async def next(self, operation_id: str, wait: float = WAIT) -> dict[str, Any]:
        """The next message of ``operation_id`` (others are kept in :attr:`messages`)."""
        for i, message in enumerate(self.messages):
            if message.get("id") == operation_id:
                return self.messages.pop(i)
        while True:
            message = await self.receive(wait)
            if message.get("id") == operation_id:
                return message
            self.messages.append(message)

    async def closed(self, wait: float = WAIT) -> tuple[int, str]:
        """Wait for the server to close the connection: its code and reason."""
        try:
            while True:
                await self.receive(wait)
        except ConnectionClosed as closed:
            frame = closed.rcvd
        if frame is None:
            raise AssertionError("closed without a close frame")
        return frame.code, frame.reason

    async def silent(self, seconds: float) -> list[dict[str, Any]]:
        """Messages received within ``seconds`` (none expected, usually)."""
        got = []
        try:
            while True:
                got.append(await self.receive(seconds))
        except TimeoutError:
            return got
