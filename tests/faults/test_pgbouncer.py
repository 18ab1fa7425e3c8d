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
from collections.abc import Iterator

import orjson
import pytest

from gateway.settings import Settings
from gateway.store.db import create_engine
from gateway.store.migrate import upgrade
from gateway.store.partitions import partition_days
from tests.cache_http.support import http_settings, serve
from tests.cache_http.world import ingest, more_events
from tests.pgbouncer_server import pgbouncer as start_pgbouncer
from tests.postgres_server import PostgresServer
from tests.principals import ADMIN

R = '{from: "2024-03-01", to: "2024-05-25"}'


@pytest.fixture
def pgbouncer(postgres_up: PostgresServer) -> Iterator[int]:
    """pgbouncer (transaction pooling, 3 server connections) before the private cluster: its
    port."""
    with start_pgbouncer(postgres_up.port) as port:
        yield port


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
