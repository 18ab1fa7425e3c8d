"""One snapshot per response (SPEC §7): a lazily opened read transaction shared by a request.

Every metric loader of a request, and ``Query.snapshot``, read through one :class:`SnapshotReader`:
a single connection opened on first use, inside a transaction that sees one state of the
database for its whole life (``REPEATABLE READ`` on PostgreSQL; a deferred read transaction on
SQLite, which in WAL mode reads one snapshot of the file). A refresh that commits while the
request runs is therefore invisible to the rest of the response. An :class:`asyncio.Lock`
serializes the batches that share the connection (a connection runs one statement at a time).

With read replicas (:mod:`gateway.store.replicas`) the transaction is opened on the database
the router chooses; a replica lost on the way is replaced by the primary, which must then hold
the same snapshot (else the request is answered ``SERVICE_UNAVAILABLE``, as after a reconnect).

Example:
    >>> reader = SnapshotReader(engine)                                     # doctest: +SKIP
    >>> await reader.read(lambda conn, info: cell_ids(conn, keys))          # doctest: +SKIP
    >>> await reader.close()                                                # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.errors import ServiceUnavailableError
from gateway.loaders.scope_cells import ScopeCells
from gateway.store.db_faults import is_unavailable, read_retrying
from gateway.store.replicas import ReadRouter, bounded
from gateway.store.rollup import NO_SNAPSHOT, read_latest_snapshot
from gateway.store.rollup import Snapshot as Snapshot  # re-exported: resolvers name it too

T = TypeVar("T")
logger = logging.getLogger("gateway.loaders.snapshot")

SNAPSHOT_MOVED = "a new snapshot was taken while the database reconnected; retry"
CLOSE_SECONDS = 2.0
"""Longest wait for the read transaction's end when the response is done; past it the
connection is dropped (behind pgbouncer a lost server leaves the rollback waiting in its
queue, which would hold the request open long after its timeout)."""


class SnapshotReader:
    """The request's read connection, opened on first use and closed by :meth:`close`."""

    def __init__(self, engine: AsyncEngine, router: ReadRouter | None = None) -> None:
        self.engine = engine
        self.router = router
        """Chooses a read replica for the transaction (None: always ``engine``)."""
        self._source: AsyncEngine | None = None
        self._lock = asyncio.Lock()
        self._conn: AsyncConnection | None = None
        self._state: Snapshot | None = None
        self._closed = False
        self._fresh = True
        """True while the open transaction (if any) has not read the snapshot yet."""
        self.cells = ScopeCells()
        """The cells of the scopes read so far on this snapshot (shared by the loaders)."""

    @property
    def opened(self) -> bool:
        """True while the read transaction is open."""
        return self._conn is not None

    @property
    def source(self) -> AsyncEngine | None:
        """The database the open (or last) read transaction reads: ``engine`` or a replica."""
        return self._source

    @property
    def state(self) -> Snapshot | None:
        """The snapshot read so far, or None when nothing read one (catalog-only answers)."""
        return self._state

    async def read(self, work: Callable[[AsyncConnection, Snapshot], Awaitable[T]]) -> T:
        """Run ``work(conn, snapshot)`` on the request's connection, one caller at a time.

        A connection lost on the way is replaced once (a new read transaction, which must
        see the same snapshot); database faults reach the caller as client errors
        (:func:`~gateway.store.db_faults.read_retrying`).

        Raises:
            RuntimeError: the reader was closed (the response is already complete).
            ServiceUnavailableError: the database cannot be reached, or the snapshot changed
                while the connection was replaced.
            QueryTimeoutError: a statement ran past the statement timeout.
        """
        async with self._lock:
            return await read_retrying(lambda: self._attempt(work))

    async def _attempt(self, work: Callable[[AsyncConnection, Snapshot], Awaitable[T]]) -> T:
        conn = await self._connection()
        try:
            state = await self._first_read(conn) if self._fresh else None
            if state is not None and self._state is not None and state.id != self._state.id:
                raise ServiceUnavailableError(SNAPSHOT_MOVED, retry_after=1)
            self._state = self._state or state
            self._fresh = False
            assert self._state is not None
            return await work(conn, self._state)
        except Exception as exc:
            if is_unavailable(exc):
                if self.router is not None and self._source is not None:
                    self.router.mark_down(self._source)  # no-op for the primary
                await self._discard()
            raise

    def _bound(self, engine: AsyncEngine | None) -> float | None:
        """How long opening a read on ``engine`` may take (None: its own timeouts)."""
        return None if self.router is None or engine is None else self.router.open_bound(engine)

    async def _first_read(self, conn: AsyncConnection) -> Snapshot:
        """The transaction's snapshot (its first statement, which takes the snapshot); on a
        replica bounded like opening it: behind pgbouncer a replica that died does not refuse
        the statement, it waits in pgbouncer's queue."""
        state = await bounded(read_latest_snapshot(conn), self._bound(self._source))
        return state or NO_SNAPSHOT

    async def _discard(self) -> None:
        """Drop a connection that was lost; the next attempt opens a new transaction."""
        conn, self._conn = self._conn, None
        self._fresh = True
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.invalidate()
            with contextlib.suppress(Exception):
                await conn.close()

    async def snapshot(self) -> Snapshot:
        """The snapshot this request reads (read once, in the request's transaction)."""

        async def state(conn: AsyncConnection, snapshot: Snapshot) -> Snapshot:
            return snapshot

        return await self.read(state)

    async def close(self) -> None:
        """End the read transaction and return the connection (idempotent).

        Never raises: the response is complete by now. A transaction that already ended (a
        statement interrupted by the timeout), a connection that was lost, or one that does
        not end within :data:`CLOSE_SECONDS` is dropped.
        """
        async with self._lock:
            self._closed = True
            conn, self._conn = self._conn, None
            if conn is None:
                return
            try:
                async with asyncio.timeout(CLOSE_SECONDS):
                    if conn.dialect.name != "postgresql":
                        # The transaction was begun by hand (see _open); end it the same way.
                        await conn.exec_driver_sql("ROLLBACK")
                    await conn.close()
            except Exception as exc:
                logger.info("snapshot read connection dropped on close (%s)", type(exc).__name__)
                with contextlib.suppress(Exception):
                    await conn.invalidate()
                with contextlib.suppress(Exception):
                    await conn.close()

    async def _connection(self) -> AsyncConnection:
        if self._closed:
            raise RuntimeError("the request's snapshot reader is closed")
        if self._conn is None:
            self._conn = await self._open()
        return self._conn

    async def _open(self) -> AsyncConnection:
        engine = self.engine if self.router is None else await self.router.choose()
        try:
            conn = await bounded(engine.connect(), self._bound(engine))
        except Exception as exc:
            if self.router is None or not self.router.is_replica(engine) or not is_unavailable(exc):
                raise
            self.router.mark_down(engine)  # the request carries on on the primary
            engine = self.engine
            conn = await engine.connect()
        self._source = engine
        try:
            if conn.dialect.name == "postgresql":
                # The snapshot is taken at the first statement and kept to the end.
                await conn.execution_options(isolation_level="REPEATABLE READ")
                await conn.begin()
            else:
                # pysqlite opens no transaction before a SELECT, so each statement would see
                # the latest commit; an explicit BEGIN makes the reads one WAL read transaction.
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.exec_driver_sql("BEGIN")
        except BaseException:
            await conn.close()
            raise
        return conn
