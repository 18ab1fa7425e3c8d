"""Engine creation: one async engine per process, tuned per dialect.

An engine that serves requests (``create_engine(settings, bounded=True)``, the app's) bounds
every statement by ``GATEWAY_DB_STATEMENT_TIMEOUT_MS``: PostgreSQL through the session's
``statement_timeout``, SQLite by interrupting the connection from the event loop when a
statement outlives it. Ingestion and refreshes on such an engine lift the bound for their
transaction with :func:`unbounded` (a large ingest chunk or a full rebuild may take longer;
stopping one half-way would only waste it). Command-line engines are never bounded.

PostgreSQL sessions run with ``jit = off``: every statement of the gateway is an index lookup or
a grouped read of a few thousand rows, and where the planner misjudges one (rollup tables without
statistics yet, just after a rebuild) it compiled it for 7 ms to run it in 0.5 ms.

Behind pgbouncer in transaction pooling mode (``GATEWAY_DATABASE_PGBOUNCER``) consecutive
transactions of one client connection may run on different server connections, so nothing may
outlive a transaction: asyncpg's prepared statements are not cached and are named uniquely
(SQLAlchemy's documented recipe), and no session settings are sent at connect (pgbouncer
refuses unknown startup parameters): ``jit = off`` goes on the role, the servers'
``statement_timeout`` on their pgbouncer database (``connect_query``; not on the role, whose
timeout would also stop the worker's VACUUM outside any transaction: docs/deploy.md). The
gateway's advisory locks are transaction-scoped (``pg_advisory_xact_lock``) and its
per-transaction settings use ``SET LOCAL``, both safe under transaction pooling.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ARRAY, String, Table, bindparam, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from gateway.settings import Settings

UNBOUNDED = "gateway_unbounded"
"""Execution option: statements of this connection are not bounded by the timeout (SQLite)."""
_TIMER = "gateway.statement_timer"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run while an ingest writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _bound_sqlite(engine: AsyncEngine, seconds: float) -> None:
    """Interrupt a statement of ``engine`` that runs longer than ``seconds``.

    ``sqlite3.Connection.interrupt`` is the one call SQLite allows from another thread: the
    event loop arms a timer before each statement (aiosqlite runs it in its own thread, rows
    fetched) and cancels it after; a statement still running when it fires fails with
    ``interrupted``. No per-row cost, unlike a progress handler.
    """

    def arm(conn: Connection, *args: Any) -> None:
        context = args[3]
        if context is not None and context.execution_options.get(UNBOUNDED):
            return
        driver = conn.connection.dbapi_connection
        sqlite_conn = getattr(getattr(driver, "driver_connection", None), "_conn", None)
        if sqlite_conn is None:
            return
        conn.info[_TIMER] = asyncio.get_running_loop().call_later(seconds, sqlite_conn.interrupt)

    def disarm(conn: Connection, *args: Any) -> None:
        timer = conn.info.pop(_TIMER, None)
        if timer is not None:
            timer.cancel()

    def disarm_on_error(context: Any) -> None:
        if context.connection is not None:
            disarm(context.connection)

    event.listen(engine.sync_engine, "before_cursor_execute", arm)
    event.listen(engine.sync_engine, "after_cursor_execute", disarm)
    event.listen(engine.sync_engine, "handle_error", disarm_on_error)


def _pgbouncer_name() -> str:
    return f"__asyncpg_{uuid.uuid4()}__"


def _postgres_connect_args(settings: Settings, timeout_ms: int) -> dict[str, Any]:
    """asyncpg's connect arguments: session settings, or pgbouncer's (see the module doc)."""
    connect_args: dict[str, Any] = {"timeout": settings.db_connect_timeout_seconds}
    if settings.database_pgbouncer:
        # Transaction pooling: no statement outlives its transaction's server connection.
        connect_args["prepared_statement_cache_size"] = 0  # SQLAlchemy's cache
        connect_args["statement_cache_size"] = 0  # asyncpg's own
        connect_args["prepared_statement_name_func"] = _pgbouncer_name  # never a reused name
        return connect_args
    server_settings = {"jit": "off"}
    if timeout_ms:
        server_settings["statement_timeout"] = str(timeout_ms)
    connect_args["server_settings"] = server_settings
    return connect_args


def create_engine(
    settings: Settings, *, bounded: bool = False, url: str | None = None
) -> AsyncEngine:
    """Create the async engine for ``settings.database_url`` (asyncpg or aiosqlite).

    Args:
        settings: The configuration.
        bounded: Bound every statement by ``GATEWAY_DB_STATEMENT_TIMEOUT_MS`` (an engine that
            serves requests; see the module docstring).
        url: Another database of the same kind (a read replica), tuned the same way.
    """
    timeout_ms = settings.db_statement_timeout_ms if bounded else 0
    if settings.is_postgres:
        connect_args = _postgres_connect_args(settings, timeout_ms)
        return create_async_engine(
            url or settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_pool_size,
            pool_timeout=settings.db_pool_timeout_seconds,  # then 503, inside the request timeout
            pool_pre_ping=True,
            echo=settings.db_echo,
            connect_args=connect_args,
        )
    engine = create_async_engine(
        settings.database_url,
        # A file database needs no pool; NullPool also avoids sharing one aiosqlite thread.
        poolclass=NullPool,
        echo=settings.db_echo,
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    if timeout_ms:
        _bound_sqlite(engine, timeout_ms / 1000)
    return engine


async def unbounded(conn: AsyncConnection) -> None:
    """Lift the statement timeout for the rest of ``conn``'s transaction (PostgreSQL) or
    connection (SQLite); harmless on an engine that is not bounded."""
    if conn.dialect.name == "postgresql":
        await conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
    else:
        await conn.execution_options(**{UNBOUNDED: True})


RANDOM_PAGE_COST = 1.1
"""The refresh's planner cost of a random page read (PostgreSQL's default, 4, models spinning
disks): the rollups a refresh reads are in memory or on SSD, where a random read costs about a
sequential one. With the default, reading a thousand cells' whole histories (a catalog change)
scanned the whole days table (145k pages at ``xlarge``, 0.9-1.7 s) instead of the 25k pages
that hold them through the primary key (0.2 s)."""


async def for_cached_reads(conn: AsyncConnection) -> None:
    """PostgreSQL: plan the rest of ``conn``'s transaction for data in memory or on SSD
    (:data:`RANDOM_PAGE_COST`); a no-op on SQLite."""
    if conn.dialect.name == "postgresql":
        await conn.exec_driver_sql(f"SET LOCAL random_page_cost = {RANDOM_PAGE_COST}")


def is_postgres(engine: AsyncEngine | Engine) -> bool:
    """True when ``engine`` talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"


async def vacuum(
    engine: AsyncEngine, tables: Sequence[Table], *, full: bool = False, analyze: bool = False
) -> None:
    """PostgreSQL: ``VACUUM`` ``tables`` (``FULL``: rewrite them compacted; ``ANALYZE``: and
    refresh their statistics). A no-op on SQLite, which reuses freed pages by itself."""
    if engine.dialect.name != "postgresql":
        return
    options = [name for name, on in (("FULL", full), ("ANALYZE", analyze)) if on]
    head = f"VACUUM ({', '.join(options)})" if options else "VACUUM"
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")  # VACUUM runs outside one
        quote = conn.dialect.identifier_preparer.quote
        names = ", ".join(quote(table.name) for table in tables)
        await conn.exec_driver_sql(f"{head} {names}")  # names are ours; VACUUM binds nothing


async def table_bytes(conn: AsyncConnection, tables: Sequence[Table]) -> int:
    """Bytes on disk of ``tables``, indexes (and PostgreSQL's TOAST) included."""
    names = [table.name for table in tables]
    if conn.dialect.name == "postgresql":
        # Every partition of a partitioned table; a plain table has no partition tree.
        tree = text(
            "SELECT coalesce(sum(coalesce((SELECT sum(pg_total_relation_size(tree.relid)) "
            "FROM pg_partition_tree(CAST(n AS regclass)) AS tree), "
            "pg_total_relation_size(CAST(n AS regclass)))), 0) FROM unnest(:names) AS n"
        ).bindparams(bindparam("names", type_=ARRAY(String)))
        return int((await conn.execute(tree, {"names": names})).scalar() or 0)
    # SQLite: the pages of the tables and of their indexes (the dbstat virtual table).
    stmt = text(
        "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN "
        "(SELECT name FROM sqlite_master WHERE tbl_name IN :names)"
    ).bindparams(bindparam("names", expanding=True))
    found = await conn.execute(stmt, {"names": names})
    return int(found.scalar() or 0)
