"""``GATEWAY_DB_CONNECT_TIMEOUT_SECONDS``: a PostgreSQL that accepts TCP connections but never
answers (a hung server, a black-holed proxy) makes the database unavailable after the timeout,
instead of holding every request."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from gateway.settings import Settings
from gateway.store.db_faults import RETRY_AFTER_SECONDS
from tests.cache_http.support import serve
from tests.principals import ADMIN


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose listener completes TCP handshakes (the backlog) and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


async def test_a_server_that_never_answers_is_unavailable_after_the_connect_timeout(
    silent_port: int,
) -> None:
    settings = Settings(
        database_url=f"postgresql://gateway@127.0.0.1:{silent_port}/gateway",
        jwt_secret=SecretStr("connect-timeout-test-secret-of-32-characters"),
        db_connect_timeout_seconds=0.2,
    )
    async with serve(settings) as gateway:
        # Bounded by the timeout (twice: the read is tried once more), not by the test's.
        async with asyncio.timeout(10):
            answer = await gateway.http.post(
                "/graphql",
                json={"query": "{ snapshot { id } }"},
                headers=gateway.headers(ADMIN),
            )
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert answer.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
