"""``POST /v1/events`` while a real PostgreSQL (the private cluster) stops and starts again:
ingesting clients that send a body again on 503 as told (``Retry-After``) lose no record (a
record sent twice is a duplicate, never a second row); no answer is ever a 500.
"""

from __future__ import annotations

import asyncio
import itertools

from sqlalchemy import select

from gateway.authz.principal import Principal
from gateway.roles import Grant, Role
from gateway.settings import Settings
from gateway.store import tables
from gateway.store.db import create_engine
from tests.cache_http.support import Gateway
from tests.faults.conftest import launch_line
from tests.postgres_server import PostgresServer

CLIENTS = 5
BATCH = 50


async def test_ingest_through_a_restart_loses_no_record(
    gateway: Gateway, database: Settings, postgres_up: PostgresServer
) -> None:
    headers = gateway.headers(Principal("bot", (Grant(Role.INGESTER),)))
    batches = itertools.count()
    stop = asyncio.Event()
    statuses: list[int] = []
    sent: set[str] = set()

    async def client() -> None:
        while not stop.is_set():
            ids = [f"restart-{next(batches)}-{n}" for n in range(BATCH)]
            body = b"\n".join(launch_line(event_id) for event_id in ids)
            while True:  # what a client told to retry does: the same body, later
                response = await gateway.http.post("/v1/events", content=body, headers=headers)
                statuses.append(response.status_code)
                if response.status_code != 503:
                    break
                assert response.headers["retry-after"]
                await asyncio.sleep(0.05)
            assert response.status_code == 200, response.text
            sent.update(ids)

    clients = [asyncio.create_task(client()) for _ in range(CLIENTS)]
    await asyncio.sleep(0.5)
    await asyncio.to_thread(postgres_up.stop)
    await asyncio.sleep(1.0)
    await asyncio.to_thread(postgres_up.start)
    await asyncio.sleep(1.0)
    stop.set()
    await asyncio.gather(*clients)

    assert set(statuses) == {200, 503}  # the outage was seen, and nothing else went wrong
    engine = create_engine(database)
    try:
        async with engine.connect() as conn:
            launches = tables.launches
            stored = set(
                await conn.scalars(select(launches.c.id).where(launches.c.id.like("restart-%")))
            )
    finally:
        await engine.dispose()
    assert stored == sent  # every record acknowledged is there (ids are primary keys)
