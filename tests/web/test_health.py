"""/healthz and /readyz against working, refused and silent databases."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.settings import Settings
from gateway.store.db import create_engine
from gateway.web.health import check_database
from tests.web.conftest import app_client


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens here once the socket is closed


@pytest.fixture
async def down_client() -> AsyncIterator[httpx.AsyncClient]:
    """A client on an app whose PostgreSQL URL points at a closed port."""
    settings = Settings(database_url=f"postgresql://postgres@127.0.0.1:{_closed_port()}/gateway")
    async with app_client(settings) as http:
        yield http


async def test_healthz_is_200(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


async def test_readyz_is_200_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_is_503_with_a_reason_when_the_database_refuses(
    down_client: httpx.AsyncClient,
) -> None:
    response = await down_client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["reason"].startswith("database unavailable (")
    # The probe is unauthenticated: it must not reveal where the database lives.
    assert "127.0.0.1" not in response.text


async def test_healthz_stays_200_while_the_database_is_down(
    down_client: httpx.AsyncClient,
) -> None:
    assert (await down_client.get("/healthz")).status_code == 200


async def test_a_database_that_never_answers_times_out() -> None:
    # A TCP server that accepts and then says nothing: the driver's own timeout is 60 s.
    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # wait for the client to give up
        writer.close()

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    engine = create_engine(Settings(database_url=f"postgresql://u@127.0.0.1:{port}/db"))
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        reason = await check_database(engine, limit_seconds=0.3)
        elapsed = loop.time() - started
    finally:
        await engine.dispose()
        server.close()
        await server.wait_closed()
    assert reason == "database did not answer within 0.3 s"
    assert elapsed < 5
