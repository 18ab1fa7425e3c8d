"""Apply Alembic migrations to the configured database (``gateway migrate``).

On PostgreSQL the upgrade's transaction first takes a transaction-scoped advisory lock
(:data:`MIGRATION_LOCK_KEY`, released by its commit), so N servers started together migrate
once: the first takes the lock and migrates, the others wait for it, then find the schema at
head and do nothing. Nothing outlives the transaction, so this also holds behind pgbouncer's
transaction pooling (no migration needs to run outside a transaction). SQLite
needs no lock: the database file's write lock already serializes the upgrades.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.partitions import is_partition

MIGRATIONS = Path(__file__).with_name("migrations")

MIGRATION_LOCK_KEY = 7455548007609688436
"""The PostgreSQL advisory lock key held while migrating: ``b"gwmigrat"`` as a big-endian
64-bit integer (``SELECT pg_advisory_lock(7455548007609688436)``). Another tool sharing the
database must not use it."""


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations, bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def comparison_options(dialect: str) -> dict[str, Any]:
    """Alembic options comparing a database with the metadata: what the metadata declares for
    ``dialect`` only (day partitions are made at run time; an index may be for one dialect)."""

    def include_name(name: str | None, type_: str, parents: object) -> bool:
        return not (type_ == "table" and is_partition(name or ""))

    def include_object(obj: object, name: str | None, type_: str, *rest: object) -> bool:
        only: Any = getattr(obj, "_ddl_if", None)
        return only is None or only.dialect in (None, dialect)

    return {
        "compare_type": True,
        "include_name": include_name,
        "include_object": include_object,
    }


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision shipped with this version of the gateway."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (idempotent; safe to run concurrently).

    On PostgreSQL a concurrent call waits for :data:`MIGRATION_LOCK_KEY` and then finds
    nothing to do.
    """
    async with engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            async with conn.begin():
                await conn.run_sync(_upgrade, revision)
            return
        async with conn.begin():
            await conn.exec_driver_sql("SET LOCAL statement_timeout = 0")  # waiting is the point
            # Released by the commit, which is when the upgrade becomes visible to the waiters
            # (read committed: their next statement sees the schema at head).
            await conn.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
            await conn.run_sync(_upgrade, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)
