"""``GATEWAY_DB_STATEMENT_TIMEOUT_MS``: a request's statement that runs too long answers
``QUERY_TIMEOUT`` in its field (masked message, no trace), on PostgreSQL and SQLite, while
ingestion and refreshes on the same engine are not bounded.

The slow statement never ends on its own (``pg_sleep`` for 30 s, an endless recursive CTE on
SQLite), so only the timeout can end it: nothing here depends on how fast the machine is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.errors import QueryTimeoutError
from gateway.loaders.catalog import WorkspaceByIdLoader
from gateway.loaders.snapshot import SnapshotReader
from gateway.settings import Settings
from gateway.store.db import create_engine, unbounded
from gateway.store.db_faults import TIMEOUT_MESSAGE, client_error
from tests.cache_http.support import http_settings, serve
from tests.principals import ADMIN
from tests.schema.catalog_data import insert_catalog

ENDLESS = {
    "postgresql": "SELECT pg_sleep(30)",
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
    "SELECT count(*) FROM c",
}
"""A statement only a timeout ends, per dialect."""
FINITE = {
    "postgresql": "SELECT pg_sleep(0.3)",
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) "
    "SELECT count(*) FROM c",
}
"""A statement that ends, well past a 20 ms timeout on any machine."""
QUERY = '{ workspace(id: "ws-1") { name } targetApp(id: "app-1") { name } }'


def _engine(settings: Settings, timeout_ms: int, *, bounded: bool) -> AsyncEngine:
    """An engine on the test database with ``GATEWAY_DB_STATEMENT_TIMEOUT_MS=timeout_ms``."""
    return create_engine(
        settings.model_copy(update={"db_statement_timeout_ms": timeout_ms}), bounded=bounded
    )


def _slow_workspaces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the workspace loader run :data:`ENDLESS` before its own statement."""
    original = WorkspaceByIdLoader.load_batch

    async def slow(self: Any, conn: AsyncConnection, keys: Sequence[str]) -> list[Any]:
        await conn.execute(text(ENDLESS[conn.dialect.name]))
        return await original(self, conn, keys)

    monkeypatch.setattr(WorkspaceByIdLoader, "load_batch", slow)


async def test_a_statement_past_the_timeout_answers_query_timeout_in_its_field(
    settings: Settings, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await insert_catalog(engine)
    _slow_workspaces(monkeypatch)
    async with serve(http_settings(settings, None, db_statement_timeout_ms=200)) as gateway:
        answer = await gateway.ask(ADMIN, QUERY)
        assert answer.status == 200
        assert answer.data == {"workspace": None, "targetApp": {"name": "Wallet"}}
        assert answer.errors == [(("workspace",), "QUERY_TIMEOUT")]
        (error,) = answer.body["errors"]
        assert error["message"] == TIMEOUT_MESSAGE
        assert set(error["extensions"]) == {"code"}  # no trace, no SQL, no request id
        monkeypatch.undo()
        again = await gateway.ask(ADMIN, QUERY)  # the engine and its pool are fine
        assert again.errors == []
        assert again.data["workspace"] == {"name": "Alpha"}


@pytest.mark.parametrize(
    ("timeout_ms", "bounded"), [(0, True), (20, False)], ids=["timeout-0", "command-line"]
)
async def test_unbounded_engines_let_a_long_statement_finish(
    settings: Settings, engine: AsyncEngine, timeout_ms: int, bounded: bool
) -> None:
    unbound = _engine(settings, timeout_ms, bounded=bounded)
    try:
        async with unbound.connect() as conn:
            await conn.execute(text(FINITE[conn.dialect.name]))
    finally:
        await unbound.dispose()


async def test_bounded_engines_bound_statements_and_unbounded_lifts_it(
    settings: Settings, engine: AsyncEngine
) -> None:
    bounded = _engine(settings, 20, bounded=True)
    try:
        with pytest.raises(DBAPIError) as raised:
            async with bounded.connect() as conn:
                await conn.execute(text(FINITE[conn.dialect.name]))
        assert isinstance(client_error(raised.value), QueryTimeoutError)
        async with bounded.begin() as conn:  # what ingestion and refreshes do
            await unbounded(conn)
            await conn.execute(text(FINITE[conn.dialect.name]))
        async with bounded.connect() as conn:  # and the bound is back for the next one
            with pytest.raises(DBAPIError):
                await conn.execute(text(FINITE[conn.dialect.name]))
    finally:
        await bounded.dispose()


async def test_a_timeout_inside_the_snapshot_transaction_is_query_timeout_too(
    settings: Settings, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request's read transaction (metrics, ``snapshot``) times out the same way, and
    ending it afterwards (SQLite: the interrupted transaction is already gone) is no error."""
    await insert_catalog(engine)
    original = SnapshotReader.read

    async def slow(self: SnapshotReader, work: Any) -> Any:
        async def endless_first(conn: AsyncConnection, snapshot: Any) -> Any:
            await conn.execute(text(ENDLESS[conn.dialect.name]))
            return await work(conn, snapshot)

        return await original(self, endless_first)

    monkeypatch.setattr(SnapshotReader, "read", slow)
    async with serve(http_settings(settings, None, db_statement_timeout_ms=200)) as gateway:
        answer = await gateway.ask(ADMIN, "{ snapshot { id } }")
        assert answer.status == 200
        assert answer.errors == [(("snapshot",), "QUERY_TIMEOUT")]
        monkeypatch.undo()
        again = await gateway.ask(ADMIN, "{ snapshot { id } }")
        assert again.errors == []


@pytest.mark.parametrize("bounded", [False, True])
async def test_postgres_sessions_never_jit_compile(pg_url: str, bounded: bool) -> None:
    own = create_engine(Settings(database_url=pg_url), bounded=bounded)
    try:
        async with own.connect() as conn:
            assert (await conn.execute(text("SHOW jit"))).scalar() == "off"
    finally:
        await own.dispose()
