"""Ingests waiting on a database lock never starve queries (issue 14.7): at most
``GATEWAY_INGEST_CONCURRENCY`` bodies ingest at once, the rest are answered 503 with
``Retry-After`` (never a 500), GraphQL queries are answered meanwhile and ``/readyz`` tells the
truth; a pool exhausted past ``GATEWAY_DB_POOL_TIMEOUT_SECONDS`` is a 503, not a 30 s wait.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import func, select, text
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.errors import ServiceUnavailableError
from gateway.roles import Role
from gateway.settings import Settings
from gateway.store.db import create_engine
from gateway.store.db_faults import client_error
from gateway.store.ingest.chunk import INGEST_LOCK_KEY
from tests.cache_http.support import http_settings, serve
from tests.cache_http.world import build_world
from tests.principals import ADMIN, principal

INGESTER = principal(Role.INGESTER)
BODY = (
    b'{"kind":"launch","id":"bulk-%d","at":"2026-01-02T00:00:00Z","targetAppId":"app-1",'
    b'"miniProgramId":"mp-1","userGuid":"u-1"}\n'
)
SLOTS = 2
INGESTS = 6


@asynccontextmanager
async def _ingest_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """Hold what every ingest's transaction waits for: PostgreSQL's ingest advisory lock, or
    SQLite's write lock."""
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(select(func.pg_advisory_lock(INGEST_LOCK_KEY)))
            try:
                yield
            finally:
                await conn.execute(select(func.pg_advisory_unlock(INGEST_LOCK_KEY)))
        else:
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                await conn.exec_driver_sql("ROLLBACK")


async def test_blocked_ingests_fill_their_slots_and_queries_are_still_answered(
    settings: Settings, engine: AsyncEngine
) -> None:
    await build_world(engine)
    served = http_settings(
        settings, None, ingest_concurrency=SLOTS, db_pool_size=3, db_pool_timeout_seconds=1.0
    )
    async with serve(served) as gateway, _ingest_lock(create_engine(settings)) as _:
        headers = {**gateway.headers(INGESTER), "Content-Type": "application/x-ndjson"}
        ingests = [
            asyncio.create_task(gateway.http.post("/v1/events", content=BODY % i, headers=headers))
            for i in range(INGESTS)
        ]
        # The ones past the slots give up after the pool timeout; the others wait for the lock.
        for _ in range(200):
            if sum(task.done() for task in ingests) >= INGESTS - SLOTS:
                break
            await asyncio.sleep(0.1)
        refused = [task.result() for task in ingests if task.done()]
        pending = [task for task in ingests if not task.done()]
        assert len(refused) == INGESTS - SLOTS
        assert len(pending) == SLOTS
        for response in refused:
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"]
            assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        answer = await gateway.ask(ADMIN, "{ workspaces { totalCount } }")
        assert answer.status == 200
        assert answer.body["data"]["workspaces"]["totalCount"] == 2
        ready = await gateway.http.get("/readyz")
        assert ready.status_code == 200, ready.text
    stored = await asyncio.gather(*pending)
    assert [r.status_code for r in stored] == [200] * SLOTS
    async with engine.connect() as conn:
        count = await conn.scalar(text("SELECT count(*) FROM launches WHERE id LIKE 'bulk-%'"))
    assert count == SLOTS


def test_a_pool_wait_past_its_timeout_is_service_unavailable() -> None:
    error = client_error(PoolTimeoutError("QueuePool limit of size 3 overflow 3 reached"))
    assert isinstance(error, ServiceUnavailableError)
    assert error.retry_after > 0


async def test_readyz_says_unavailable_while_the_pool_is_exhausted(settings: Settings) -> None:
    if not settings.is_postgres:  # SQLite has no pool (NullPool): nothing to exhaust
        served = http_settings(settings, None)
        async with serve(served) as gateway:
            assert (await gateway.http.get("/readyz")).status_code == 200
        return
    served = http_settings(settings, None, db_pool_size=1, db_pool_timeout_seconds=0.5)
    async with serve(served) as gateway:
        assert (await gateway.ask(ADMIN, "{ __typename }")).status == 200  # generation read
        engine: AsyncEngine = gateway.app.state.services.engine
        async with engine.connect() as first, engine.connect() as second:
            await first.execute(text("SELECT 1"))
            await second.execute(text("SELECT 1"))
            ready = await gateway.http.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["reason"] == "database connection pool exhausted"
            answer = await gateway.ask(ADMIN, "{ workspaces { totalCount } }")
            # After the pool timeout, not a 30 s wait or a 500. The process knows the data's
            # generation already (as a running one does), so the query runs and its field
            # fails: 200 with SERVICE_UNAVAILABLE, and null data (`workspaces` is non-null, so
            # its error nulls the whole response's data, as GraphQL's null propagation says).
            assert answer.seconds < 5
            assert answer.status == 200
            assert answer.data is None
            codes = {e["extensions"]["code"] for e in answer.body["errors"]}
            assert codes == {"SERVICE_UNAVAILABLE"}
        assert (await gateway.http.get("/readyz")).status_code == 200
