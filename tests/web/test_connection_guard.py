"""Bounds a connection may hold of a live `gateway serve` (issue 14.6, 14.7): a huge request head
is refused with 431 while other clients are answered, sockets that never finish their head or
body are answered 408 and closed, so a few hundred idle sockets cannot hold the server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from pydantic import SecretStr
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from gateway.authz.tokens import mint_token
from gateway.roles import Grant, Role
from gateway.settings import Settings
from gateway.web.connection_guard import _SWEEPERS
from tests.live_server import live_gateway

IDLE_SOCKETS = 300
SECRET = "connection-guard-tests-secret-32-characters"
ADMIN = Grant(Role.SUPER_ADMIN)


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gateway on uvicorn with small bounds: 8 KB heads, 1 s to send a head or a body."""
    db: Path = tmp_path_factory.mktemp("guard") / "guard.db"
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{db}",
        max_head_bytes=8192,
        client_head_timeout_seconds=1.0,
        client_body_timeout_seconds=1.0,
        rate_limit_per_second=0,
        cost_budget_per_window=0,
        jwt_secret=SecretStr(SECRET),
    )
    with live_gateway(settings) as url:
        yield url


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (bounded by the timeout)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_huge_request_head_is_refused_while_others_are_answered(live_url: str) -> None:
    sock = _connect(live_url)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
    sent = 0
    try:
        while sent < 20_000_000:  # the server stops reading long before: 431 and closed
            sock.sendall(b"a" * 65536)
            sent += 65536
    except (BrokenPipeError, ConnectionResetError):
        pass
    with httpx.Client(base_url=live_url, timeout=10) as client:
        assert client.get("/healthz").status_code == 200  # answered while the other is refused
    answer = _read_all(sock) if sent < 20_000_000 else b""
    sock.close()
    assert sent < 20_000_000, "the server read 20 MB of headers"
    if answer:  # the 431 may be lost when the reset wins the race; the refusal itself is not
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 431")
        assert orjson.loads(body)["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_head_under_the_bound_is_served(live_url: str) -> None:
    with httpx.Client(base_url=live_url, timeout=10) as client:
        assert client.get("/healthz", headers={"X-Fine": "a" * 4000}).status_code == 200


def test_idle_and_slow_sockets_are_closed_and_never_hold_the_server(live_url: str) -> None:
    idle = [_connect(live_url) for _ in range(IDLE_SOCKETS)]
    slow_head = [_connect(live_url) for _ in range(20)]
    for sock in slow_head:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
    slow_body = _connect(live_url)
    token = mint_token(Settings(jwt_secret=SecretStr(SECRET)), "a", [ADMIN], dt.timedelta(hours=1))
    slow_body.sendall(
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + token.encode() + b"\r\nContent-Length: 100\r\n\r\n{"
    )
    with httpx.Client(base_url=live_url, timeout=10) as client:
        assert client.get("/healthz").status_code == 200  # served while they are all open
    # Past the 1 s deadlines the server answers 408 and closes every one of them (recv then
    # returns what it sent and EOF; the 10 s socket timeout would raise instead).
    for sock in [*idle, *slow_head, slow_body]:
        answer = _read_all(sock)
        sock.close()
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    with httpx.Client(base_url=live_url, timeout=10) as client:
        assert client.get("/healthz").status_code == 200


def test_a_keep_alive_connection_serves_several_requests(live_url: str) -> None:
    async def several() -> list[int]:
        async with httpx.AsyncClient(base_url=live_url, timeout=10) as client:
            return [(await client.get("/healthz")).status_code for _ in range(5)]

    assert asyncio.run(several()) == [200] * 5


def test_a_head_over_the_bound_sent_whole_is_refused(live_url: str) -> None:
    sock = _connect(live_url)
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
        answer = _read_all(sock)
    except ConnectionResetError:
        answer = b""
    finally:
        sock.close()
    assert not answer.startswith(b"HTTP/1.1 200"), answer[:100]
    if answer:
        assert answer.startswith(b"HTTP/1.1 431")


async def test_a_websocket_outlives_the_request_deadlines(live_url: str) -> None:
    # Once upgraded, a connection is no request any more: the head and body deadlines (1 s
    # here) must not close it, nor keep it in the sweep after it ends.
    token = mint_token(
        Settings(jwt_secret=SecretStr(SECRET)), "ws", (ADMIN,), dt.timedelta(minutes=5)
    )
    url = live_url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await ws.send(orjson.dumps(init).decode())
        assert orjson.loads(await ws.recv())["type"] == "connection_ack"
        await asyncio.sleep(2.5)
        await ws.send('{"type":"ping"}')
        assert orjson.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "pong"
    await asyncio.sleep(0.5)  # the server sees the socket closed
    left = [p for s in list(_SWEEPERS.values()) for p in list(s.guarded)]
    assert [p for p in left if p.transport.is_closing()] == []  # nothing ended stays swept
