"""A gateway served by uvicorn in a thread of the test process, as ``gateway serve`` runs it
(:func:`gateway.cli.serve.server_options`: the connection guard, the connection cap)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from gateway.app import create_app
from gateway.cli.serve import server_options
from gateway.settings import Settings
from tests.redis_server import _free_port

START_SECONDS = 30


@contextmanager
def live_gateway(settings: Settings) -> Iterator[str]:
    """``create_app(settings)`` on a free loopback port until the block ends; yields its URL.

    Raises:
        RuntimeError: the server stopped or did not start within :data:`START_SECONDS`.
    """
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        **server_options(settings),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-gateway", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live gateway did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
