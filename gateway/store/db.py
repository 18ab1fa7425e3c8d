"""Engine creation: one async engine per process, tuned per dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from gateway.settings import Settings


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run while an ingest writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_engine(settings: Settings) -> AsyncEngine:
    """Create the async engine for ``settings.database_url`` (asyncpg or aiosqlite)."""
    if settings.is_postgres:
        return create_async_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_pool_size,
            pool_pre_ping=True,
            echo=settings.db_echo,
        )
    engine = create_async_engine(
        settings.database_url,
        # A file database needs no pool; NullPool also avoids sharing one aiosqlite thread.
        poolclass=NullPool,
        echo=settings.db_echo,
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def is_postgres(engine: AsyncEngine | Engine) -> bool:
    """True when ``engine`` talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"
