"""The gateway behind pgbouncer in transaction pooling mode (``GATEWAY_DATABASE_PGBOUNCER``).

pgbouncer runs on a free port in front of the private cluster, with few server connections
so that one client's transactions land on different server connections. Without the setting,
asyncpg's named prepared statements collide there (``prepared statement "..." already exists``
or ``does not exist``) and pgbouncer refuses the ``jit``/``statement_timeout`` startup
parameters. pgbouncer must be installed (``apt-get install pgbouncer``): the test fails, not
skips, without it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from gateway.settings import Settings
from gateway.store.db import create_engine
from gateway.store.migrate import upgrade
from gateway.store.partitions import partition_days
from tests.cache_http.support import http_settings, serve
from tests.cache_http.world import ingest, more_events
from tests.postgres_server import PostgresServer
from tests.principals import ADMIN
from tests.redis_server import _free_port

R = '{from: "2024-03-01", to: "2024-05-25"}'


def _pgbouncer() -> str:
    found = shutil.which("pgbouncer") or shutil.which("/usr/sbin/pgbouncer")
    if found is None:
        pytest.fail("pgbouncer not found: apt-get install pgbouncer", pytrace=False)
    return found


@pytest.fixture
def pgbouncer(postgres_up: PostgresServer) -> Iterator[int]:
    """pgbouncer (transaction pooling, 3 server connections) before the private cluster: its
    port."""
    directory = Path(tempfile.mkdtemp(prefix="gateway-pgbouncer-"))
    port = _free_port()
    (directory / "users.txt").write_text('"postgres" ""\n')
    (directory / "pgbouncer.ini").write_text(
        f"[databases]\n* = host=127.0.0.1 port={postgres_up.port}\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {directory}/users.txt\npool_mode = transaction\n"
        "default_pool_size = 3\nmax_client_conn = 200\n"
    )
    user = "postgres" if os.geteuid() == 0 else None  # pgbouncer refuses to run as root
    if user:
        shutil.chown(directory, user, user)
    log = (directory / "log").open("wb")
    process = subprocess.Popen(
        [_pgbouncer(), str(directory / "pgbouncer.ini")], user=user, stdout=log, stderr=log
    )
    try:
        _wait_for(port, process, directory)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


def _wait_for(port: int, process: subprocess.Popen[bytes], directory: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"pgbouncer exited: {(directory / 'log').read_text()}", pytrace=False)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail("pgbouncer did not listen within 10 s", pytrace=False)


def workspace(n: int) -> str:
    """A new document (its alias is new) reading the catalog and a metric."""
    return f'{{ w{n}: workspace(id: "ws-1") {{ name launches(timeRange: {R}) {{ value }} }} }}'


async def test_the_gateway_runs_behind_pgbouncer_transaction_pooling(
    database: Settings, pgbouncer: int
) -> None:
    bounced = database.model_copy(
        update={
            "database_url": f"postgresql+asyncpg://postgres@127.0.0.1:{pgbouncer}/gateway",
            "database_pgbouncer": True,
        }
    )
    settings = http_settings(bounced, None)
    async with serve(settings) as gateway:
        # Concurrent requests: more clients than server connections, statements interleaved.
        answers = await asyncio.gather(*(gateway.ask(ADMIN, workspace(n)) for n in range(12)))
        assert {answer.status for answer in answers} == {200}
        assert [answer.errors for answer in answers] == [[]] * 12
        first = answers[0].snapshot_id
        before = answers[0].data["w0"]["launches"]["value"]

        # Ingest (a day with no partition yet: the partition lock) and refresh, through it.
        engine = create_engine(bounced)
        try:
            line = {
                "kind": "launch",
                "id": "bounced-1",
                "at": "2024-05-20T08:00:00+00:00",
                "targetAppId": "app-1",
                "miniProgramId": "mp-1",
                "userGuid": "bounced-user",
            }
            await upgrade(engine)  # at head already: takes and releases the migration lock
            await ingest(engine, [orjson.dumps(line)])
            await more_events(engine, count=20)  # and a refresh
            async with engine.connect() as conn:
                assert dt.date(2024, 5, 20) in await partition_days(conn)
        finally:
            await engine.dispose()

        again = await asyncio.gather(*(gateway.ask(ADMIN, workspace(n)) for n in range(12, 24)))
        assert [answer.errors for answer in again] == [[]] * 12
        assert {answer.snapshot_id for answer in again} == {first + 1}
        assert again[0].data["w12"]["launches"]["value"] > before
