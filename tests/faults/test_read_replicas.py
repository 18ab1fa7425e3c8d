"""A real streaming replica of the private cluster (``pg_basebackup -R``) serving reads.

Checked: a request reads its snapshot from the replica once the replica has replayed it; a
replica whose replay is paused is passed over for the primary while it lags the snapshot the
process knows (and chosen again once it caught up); a replica stopped under load fails no
request (the readers carry on on the primary); live subscriptions' evaluations read there too,
and the replica's statements are traced like the primary's.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY

from gateway.loaders.tracing import install_batch_span
from gateway.settings import Settings
from gateway.store.db import create_engine
from gateway.store.replicas import database_label
from tests.cache_http.support import Gateway, http_settings, serve
from tests.cache_http.world import more_events
from tests.live.support import LiveClient, bearer, live_settings
from tests.live.support import served as served_live
from tests.postgres_server import PostgresServer, ReplicaServer
from tests.principals import ADMIN
from tests.redis_server import _free_port

R = '{from: "2024-03-01", to: "2024-03-14"}'
_names = itertools.count()


def uncached() -> str:
    """A document no one asked before (a new alias): only a database answers it."""
    n = next(_names)
    return f'{{ w{n}: workspace(id: "ws-1") {{ name launches(timeRange: {R}) {{ value }} }} }}'


@pytest.fixture
def replica(database: Settings, postgres_up: PostgresServer) -> Iterator[ReplicaServer]:
    """A running replica of the private cluster, holding the world's first snapshot."""
    del database  # built first: the clone holds it
    server = ReplicaServer(Path(tempfile.mkdtemp(prefix="gateway-replica-")), _free_port())
    try:
        server.clone(postgres_up)
        server.start()
        yield server
    finally:
        if server.running:
            server.stop()
        shutil.rmtree(server.directory, ignore_errors=True)


def gateway_url(server: PostgresServer) -> str:
    """The URL of the test's ``gateway`` database on ``server``."""
    return server.url.rsplit("/", 1)[0] + "/gateway"


@pytest.fixture
async def replicated(database: Settings, replica: ReplicaServer) -> AsyncIterator[Gateway]:
    """The app reading from ``replica``; generation and replay polled every 0.2 s."""
    settings = http_settings(
        database,
        None,
        cache_poll_seconds=0.2,
        database_replica_urls=gateway_url(replica),
        database_replica_down_seconds=30,
    )
    async with serve(settings) as served:
        yield served


def _reads(database: str) -> float:
    """``gateway_db_read_transactions_total`` of ``database`` in this process's registry."""
    labels = {"database": database}
    return REGISTRY.get_sample_value("gateway_db_read_transactions_total", labels) or 0.0


def served(gateway: Gateway) -> dict[str, float]:
    """Read transactions opened per database so far, as ``/metrics`` counts them:
    ``{"primary": n, "replica": m}``."""
    replicas = gateway.app.state.services.reads.replicas
    return {
        "primary": _reads("primary"),
        "replica": sum(_reads(database_label(engine)) for engine in replicas),
    }


async def ask(gateway: Gateway) -> int:
    """Ask a new document; it must succeed. Returns the snapshot it read."""
    answer = await gateway.ask(ADMIN, uncached())
    assert answer.status == 200, answer.body
    assert answer.errors == [], answer.body
    return answer.snapshot_id


async def replayed(replica: ReplicaServer, snapshot_id: int) -> None:
    """Wait until ``replica`` holds ``snapshot_id``."""
    conn = await asyncpg.connect(gateway_url(replica))
    try:
        for _ in range(200):
            if (await conn.fetchval("SELECT max(id) FROM snapshots") or 0) >= snapshot_id:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the replica never replayed snapshot {snapshot_id}")
    finally:
        await conn.close()


async def replica_sql(replica: ReplicaServer, sql: str) -> Any:
    conn = await asyncpg.connect(gateway_url(replica))
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def test_reads_follow_the_replica_that_replayed_the_snapshot(
    replicated: Gateway, replica: ReplicaServer, database: Settings
) -> None:
    first = await ask(replicated)
    before = served(replicated)
    assert [await ask(replicated) for _ in range(3)] == [first] * 3
    after = served(replicated)
    assert after["replica"] - before["replica"] == 3
    assert after["primary"] == before["primary"]

    # Replay paused: the primary's new snapshot is answered by the primary.
    await replica_sql(replica, "SELECT pg_wal_replay_pause()")
    engine = create_engine(database)
    try:
        await more_events(engine)
    finally:
        await engine.dispose()
    await asyncio.sleep(0.3)  # the tracker's poll
    before = served(replicated)
    assert [await ask(replicated) for _ in range(3)] == [first + 1] * 3
    after = served(replicated)
    assert after["primary"] - before["primary"] == 3
    assert after["replica"] == before["replica"]

    # Replay resumed: the replica answers again once it holds the snapshot.
    await replica_sql(replica, "SELECT pg_wal_replay_resume()")
    await replayed(replica, first + 1)
    await asyncio.sleep(0.3)  # the replica's cached position expires
    before = served(replicated)
    assert await ask(replicated) == first + 1
    assert served(replicated)["replica"] == before["replica"] + 1


async def test_a_replica_stopped_under_load_fails_no_request(
    replicated: Gateway, replica: ReplicaServer
) -> None:
    stop = asyncio.Event()
    statuses: list[tuple[int, list[Any]]] = []

    async def client() -> None:
        while not stop.is_set():
            answer = await replicated.ask(ADMIN, uncached())
            statuses.append((answer.status, answer.body.get("errors") or []))
            await asyncio.sleep(0.005)

    started = served(replicated)["replica"]  # the counter is the process's: count from here
    loading = asyncio.gather(*(client() for _ in range(8)))
    await asyncio.sleep(0.5)
    on_replica = served(replicated)["replica"] - started
    await asyncio.to_thread(replica.stop)
    stopped = served(replicated)
    await asyncio.sleep(1.5)
    stop.set()
    await loading

    assert on_replica > 0  # the replica served reads before it stopped
    failed = [entry for entry in statuses if entry != (200, [])]
    assert failed == [], failed[:3]
    assert served(replicated)["primary"] > stopped["primary"] + 8  # the primary took over


def _replica_reads(replica: ReplicaServer) -> float:
    """``gateway_db_read_transactions_total`` of ``replica`` in this process's registry."""
    return _reads(f"127.0.0.1:{replica.port}/gateway")


async def test_live_answers_are_read_from_the_replica(
    database: Settings, replica: ReplicaServer
) -> None:
    settings = live_settings(
        database,
        database_replica_urls=gateway_url(replica),
        database_replica_down_seconds=30,
    )
    before = _replica_reads(replica)
    with served_live(settings) as url:
        async with LiveClient.connect(url, bearer(settings, ADMIN)) as client:
            await client.subscribe("1", "subscription { live " + uncached() + " }")
            pushed = await client.next("1")
    assert pushed["type"] == "next", pushed
    assert "errors" not in pushed["payload"], pushed
    assert _replica_reads(replica) > before  # the evaluation's transaction ran there


async def test_statements_on_the_replica_are_traced(
    database: Settings, replica: ReplicaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    settings = http_settings(
        database, None, database_replica_urls=gateway_url(replica), otel_enabled=True
    )
    exporter = InMemorySpanExporter()
    try:
        async with serve(settings) as gateway:
            tracing = gateway.app.state.config.tracing
            tracing.provider.add_span_processor(SimpleSpanProcessor(exporter))
            await ask(gateway)  # the tracker's first poll found the snapshot: on the replica
            assert await ask(gateway) > 0
    finally:
        install_batch_span(None)  # the next test's app may be untraced
    ports = {
        (span.attributes or {}).get("net.peer.port")
        for span in exporter.get_finished_spans()
        if span.instrumentation_scope is not None
        and span.instrumentation_scope.name == "opentelemetry.instrumentation.sqlalchemy"
    }
    assert replica.port in ports  # the replica's statements are spans, as the primary's
