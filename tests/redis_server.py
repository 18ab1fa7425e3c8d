"""A private ``redis-server`` for tests that stop, restart, pause or flush Redis (the shared
server on 6379 is never touched), and the fixtures that hand one out."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import redis
import redis.asyncio as aioredis

from tests.conftest import REDIS_URL

KINDS = ("memory", "redis")


@pytest.fixture(params=KINDS)
def cache_url(request: pytest.FixtureRequest) -> str | None:
    """None (in-process), then the shared Redis test DB 15, flushed before and after."""
    if request.param == "memory":
        return None
    request.getfixturevalue("redis_client")
    return REDIS_URL


STALLS = [("CLIENT", "PAUSE", "3000"), ("DEBUG", "SLEEP", "3")]
"""Ways to stall a Redis for 3 s: long beside the 100 ms timeouts of the tests, so "answered
before the stall ended" is an order of events, not a timing bound a busy machine could miss."""


@contextlib.asynccontextmanager
async def stalled(url: str, command: tuple[str, ...]) -> AsyncIterator[asyncio.Task[object]]:
    """Stall the Redis at ``url`` with ``command`` (one of :data:`STALLS`); yields a task that
    ends only when Redis answers again (a PING sent on another connection once the stall began:
    ``CLIENT PAUSE`` itself returns at once)."""
    async with aioredis.Redis.from_url(url) as admin, aioredis.Redis.from_url(url) as prober:
        # redis-py leaves execute_command untyped; DEBUG SLEEP has no typed method.
        stalling = asyncio.create_task(admin.execute_command(*command))  # type: ignore[no-untyped-call]
        await asyncio.sleep(0.05)
        probe: asyncio.Task[object] = asyncio.create_task(prober.ping())  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        try:
            yield probe
        finally:
            await stalling
            await probe


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """A private ``redis-server`` the test controls (nothing persisted)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--enable-debug-command",
                "local",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while True:
            try:
                with redis.Redis(port=self.port, socket_timeout=0.2) as client:
                    client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def stop(self) -> None:
        """Stop the server (SIGTERM) and wait for it to exit."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=5)
            self._process = None


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A private redis-server on a free port, stopped at the end of the test."""
    server = RedisServer(_free_port())
    server.start()
    yield server
    server.stop()
