"""ReadRouter's choices with engines on the session's PostgreSQL database: a "replica" that is a
second engine on the same database, and one on a port nothing listens on (a replica that is
down). tests/faults/test_read_replicas.py runs a real streaming replica."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.loaders.snapshot import SnapshotReader
from gateway.settings import Settings
from gateway.store.db import create_engine
from gateway.store.replicas import ReadRouter, _name
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


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _reads(database: str) -> float:
    return _sample("gateway_db_read_transactions_total", database=database)


def _skips(replica: AsyncEngine, reason: str) -> float:
    return _sample("gateway_db_replica_skipped_total", replica=_name(replica), reason=reason)


def router(primary: AsyncEngine, replicas: list[AsyncEngine], tracked: int | None) -> ReadRouter:
    return ReadRouter(primary, replicas, lambda: tracked, poll_seconds=60, down_seconds=60)


async def test_a_replica_that_holds_the_tracked_snapshot_is_chosen(
    primary: AsyncEngine, replica: AsyncEngine
) -> None:
    on_replica, on_primary = _reads(_name(replica)), _reads("primary")
    behind = _skips(replica, "behind")
    assert await router(primary, [replica], tracked=1).choose() is replica
    # Behind the snapshot the process knows, or no snapshot known yet: the primary.
    assert await router(primary, [replica], tracked=2).choose() is primary
    assert await router(primary, [replica], tracked=None).choose() is primary
    # /metrics tells where reads went, why the replica was passed over, and what it replayed.
    assert _reads(_name(replica)) == on_replica + 1
    assert _reads("primary") == on_primary + 2
    assert _skips(replica, "behind") == behind + 1  # the unknown snapshot is no skip
    assert _sample("gateway_db_replica_snapshot", replica=_name(replica)) == 1


async def test_a_replica_that_is_down_is_skipped_for_down_seconds(
    primary: AsyncEngine, down: AsyncEngine, replica: AsyncEngine
) -> None:
    reads = router(primary, [down, replica], tracked=1)
    skipped = _skips(down, "down")
    chosen = [await reads.choose() for _ in range(4)]
    assert set(chosen) == {replica}  # round robin, the dead one passed over
    assert _skips(down, "down") == skipped + 2  # tried first by two of the four turns
    assert _sample("gateway_db_replica_snapshot", replica=_name(down)) == -1
    connects = 0

    def count(*_: object) -> None:
        nonlocal connects
        connects += 1

    event.listen(down.sync_engine, "do_connect", count)
    assert {await reads.choose() for _ in range(4)} == {replica}
    assert connects == 0  # marked down: not tried again within down_seconds


async def test_a_reader_whose_replica_fails_reads_on_the_primary(
    primary: AsyncEngine, down: AsyncEngine
) -> None:
    reads = router(primary, [down], tracked=1)
    reads._replicas[0].replayed, reads._replicas[0].read_at = 1, float("inf")  # looks fine
    reader = SnapshotReader(primary, reads)
    try:
        assert (await reader.snapshot()).id == 1
        assert reader.source is primary
    finally:
        await reader.close()
    assert await reads.choose() is primary  # and it is marked down
