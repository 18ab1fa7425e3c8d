"""Bulk, idempotent insertion of event rows: PostgreSQL COPY, SQLite executemany.

PostgreSQL, fast path: ``COPY`` (asyncpg's binary ``copy_records_to_table``) straight into
the event table inside a savepoint. Fresh events, the bulk case, cost one index insertion
each and nothing else. A stored id makes the COPY fail on the primary key; the savepoint is
rolled back and the rows take the safe path, which the rest of the run then keeps (a replayed
file is likely to repeat itself): ``COPY`` into a temporary staging table, then ``INSERT ...
SELECT ... ON CONFLICT (id) DO NOTHING``, whose command status counts the rows inserted.

SQLite: one ``executemany`` of ``INSERT OR IGNORE`` with plain tuples; ``total_changes()``
before and after counts the rows inserted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asyncpg.exceptions import UniqueViolationError
from sqlalchemy import Column, MetaData, Table, bindparam, func, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.ingest.events import Row
from gateway.store.tables import EVENT_TABLES

_stage_metadata = MetaData()
STAGES: dict[str, Table] = {
    kind: Table(
        f"ingest_stage_{table.name}",
        _stage_metadata,
        *(Column(c.name, c.type) for c in table.columns),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )
    for kind, table in EVENT_TABLES.items()
}
"""Per event kind, a temporary table shaped like the event table (dropped at commit)."""


@dataclass
class BulkState:
    """Per-run memory of the write path: False once a COPY met an already stored id."""

    direct_copy: bool = True


async def write_rows(conn: AsyncConnection, kind: str, rows: list[Row], state: BulkState) -> int:
    """Insert ``rows`` of ``kind`` (table-column order), skipping stored ids; rows inserted."""
    if not rows:
        return 0
    final = rows
    if conn.dialect.name != "postgresql":
        return await _executemany(conn, EVENT_TABLES[kind], final)
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection  # the asyncpg connection of this transaction
    table = EVENT_TABLES[kind]
    columns = [c.name for c in table.columns]
    if state.direct_copy:
        try:
            async with conn.begin_nested():
                await driver.copy_records_to_table(table.name, records=final, columns=columns)
            return len(final)
        except UniqueViolationError:
            state.direct_copy = False
    stage = STAGES[kind]
    await conn.run_sync(lambda sync_conn: stage.create(sync_conn))
    await driver.copy_records_to_table(stage.name, records=final, columns=columns)
    stmt = postgresql.insert(table).from_select(columns, select(*stage.columns))
    result = await conn.execute(stmt.on_conflict_do_nothing(index_elements=["id"]))
    return int(result.rowcount)


async def _executemany(conn: AsyncConnection, table: Table, rows: list[Row]) -> int:
    stmt = insert(table).values({c.name: bindparam(c.name) for c in table.columns})
    compiled = stmt.prefix_with("OR IGNORE").compile(dialect=conn.dialect)
    # Positional tuples skip SQLAlchemy's per-row parameter processing; the check guards the
    # assumption that binds render in table-column order.
    assert list(compiled.positiontup or ()) == [c.name for c in table.columns]
    before = await conn.scalar(select(func.total_changes()))
    await conn.exec_driver_sql(str(compiled), rows)
    after = await conn.scalar(select(func.total_changes()))
    return int(after or 0) - int(before or 0)
