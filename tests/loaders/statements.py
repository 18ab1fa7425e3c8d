"""Counting the SQL statements an engine sends: how the N+1 tests see round trips."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@contextmanager
def counting_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Collect the SQL text of every statement ``engine`` executes inside the block.

    Example:
        >>> with counting_statements(engine) as statements:  # doctest: +SKIP
        ...     await run_query()
        >>> len(statements)  # doctest: +SKIP
        3
    """
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
