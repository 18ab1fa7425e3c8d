"""ReadRouter's choices with engines on the session's PostgreSQL database: a "replica" that is a
second engine on the same database, and one on a port nothing listens on (a replica that is
down). tests/faults/test_read_replicas.py runs a real streaming replica."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.loaders.snapshot import SnapshotReader
from gateway.settings import Settings
from gateway.store.db import create_engine
from gateway.store.replicas import ReadRouter, database_label
from gateway.store.rollup import refresh
from tests.conftest import _truncate_postgres
from tests.redis_server import _free_port


@pytest.fixture
async def primary(pg_url: str, pg_engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """An engine on a clean session database holding one snapshot."""
    await _truncate_postgres(pg_engine)
    await refresh(pg_engine)
    engine = create_engine(Settings(database_url=pg_url))
    yield engine
    await engine.dispose()


@pytest.fixture
async def replica(pg_url: str) -> AsyncIterator[AsyncEngine]:
    """A second engine on the same database: a replica that has replayed everything."""
    engine = create_engine(Settings(database_url=pg_url))
    yield engine
    await engine.dispose()


@pytest.fixture
async def down(pg_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a port nothing listens on: a replica that is down."""
    url = make_url(pg_url).set(port=_free_port()).render_as_string(hide_password=False)
    engine = create_engine(Settings(database_url=url, db_connect_timeout_seconds=1))
    yield engine
    await engine.dispose()


@pytest.fixture
async def silent(pg_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a port that accepts connections and never answers: a replica behind
    pgbouncer whose server died (the statement waits in pgbouncer's queue)."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    url = make_url(pg_url).set(port=port).render_as_string(hide_password=False)
    engine = create_engine(Settings(database_url=url, db_connect_timeout_seconds=30))
    yield engine
    await engine.dispose()
    for writer in held:
        writer.close()
    server.close()


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _reads(database: str) -> float:
    return _sample("gateway_db_read_transactions_total", database=database)


def _skips(replica: AsyncEngine, reason: str) -> float:
    return _sample(
        "gateway_db_replica_skipped_total", replica=database_label(replica), reason=reason
    )


def router(primary: AsyncEngine, replicas: list[AsyncEngine], tracked: int | None) -> ReadRouter:
    return ReadRouter(
        primary, replicas, lambda: tracked, poll_seconds=60, down_seconds=60, open_seconds=0.5
    )


async def test_a_replica_that_holds_the_tracked_snapshot_is_chosen(
    primary: AsyncEngine, replica: AsyncEngine
) -> None:
    on_replica, on_primary = _reads(database_label(replica)), _reads("primary")
    behind = _skips(replica, "behind")
    assert await router(primary, [replica], tracked=1).choose() is replica
    # Behind the snapshot the process knows, or no snapshot known yet: the primary.
    assert await router(primary, [replica], tracked=2).choose() is primary
    assert await router(primary, [replica], tracked=None).choose() is primary
    # /metrics tells where reads went, why the replica was passed over, and what it replayed.
    assert _reads(database_label(replica)) == on_replica + 1
    assert _reads("primary") == on_primary + 2
    assert _skips(replica, "behind") == behind + 1  # the unknown snapshot is no skip
    assert _sample("gateway_db_replica_snapshot", replica=database_label(replica)) == 1


async def test_a_replica_that_is_down_is_skipped_for_down_seconds(
    primary: AsyncEngine, down: AsyncEngine, replica: AsyncEngine
) -> None:
    reads = router(primary, [down, replica], tracked=1)
    skipped = _skips(down, "down")
    chosen = [await reads.choose() for _ in range(4)]
    assert set(chosen) == {replica}  # round robin, the dead one passed over
    assert _skips(down, "down") == skipped + 2  # tried first by two of the four turns
    assert _sample("gateway_db_replica_snapshot", replica=database_label(down)) == -1
    connects = 0

    def count(*_: object) -> None:
        nonlocal connects
        connects += 1

    event.listen(down.sync_engine, "do_connect", count)
    assert {await reads.choose() for _ in range(4)} == {replica}
    assert connects == 0  # marked down: not tried again within down_seconds


async def _read_past(primary: AsyncEngine, replica: AsyncEngine) -> ReadRouter:
    """Read a snapshot through a router whose one replica looks fine (it replayed the
    snapshot, checked long ago) but fails: the read must land on the primary."""
    reads = router(primary, [replica], tracked=1)
    reads._replicas[0].replayed, reads._replicas[0].read_at = 1, float("inf")
    reader = SnapshotReader(primary, reads)
    try:
        assert (await reader.snapshot()).id == 1
        assert reader.source is primary
    finally:
        await reader.close()
    return reads


async def test_a_reader_whose_replica_fails_reads_on_the_primary(
    primary: AsyncEngine, down: AsyncEngine
) -> None:
    reads = await _read_past(primary, down)
    assert await reads.choose() is primary  # and it is marked down


async def test_a_replica_that_never_answers_is_left_out_within_the_bound(
    primary: AsyncEngine, silent: AsyncEngine
) -> None:
    # Its connections open (as pgbouncer's do) but nothing comes back: the check gives up
    # after open_seconds, not the driver's 30 s, and the read goes to the primary.
    reads = router(primary, [silent], tracked=1)
    skipped = _skips(silent, "down")
    started = time.monotonic()
    assert await reads.choose() is primary
    assert time.monotonic() - started < 5
    assert _skips(silent, "down") == skipped + 1


async def test_a_reader_whose_replica_stops_answering_reads_on_the_primary(
    primary: AsyncEngine, silent: AsyncEngine
) -> None:
    started = time.monotonic()
    await _read_past(primary, silent)
    assert time.monotonic() - started < 5  # open_seconds (0.5), not the driver's 30 s
