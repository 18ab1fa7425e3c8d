"""Bulk, idempotent insertion of event rows: PostgreSQL COPY, SQLite executemany.

PostgreSQL: ``COPY`` (asyncpg's binary ``copy_records_to_table``) straight into the event
table inside a savepoint; fresh events, the bulk case, cost one index insertion each. Until
a run meets its first stored id it copies blindly. A stored id makes the COPY fail on the
primary key; from then on (a replayed file, or one with replays spread through it, is likely
to repeat itself) each chunk's keys are first *probed* with one indexed ``SELECT id, day ...
WHERE id = ANY(:ids) AND day = ANY(:days)`` (:func:`stored_keys`, which only visits the
partitions of the chunk's days; the pipeline's reader does it ahead of the chunk's
transaction) and the rows already stored are dropped before the COPY. Only when that COPY
still conflicts (another ingester stored one of the ids meanwhile) does the chunk take the
safe path: ``COPY`` into a temporary staging table, then ``INSERT ... SELECT ... ON CONFLICT
(id, day) DO NOTHING``, whose command status counts the rows inserted. Measured on 50,000 rows:
COPY 80 ms, probe 80 ms, staging path 215 ms.

SQLite: one ``executemany`` of ``INSERT OR IGNORE`` with plain tuples; ``total_changes()``
before and after counts the rows inserted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from asyncpg.exceptions import UniqueViolationError
from sqlalchemy import (
    Column,
    Date,
    MetaData,
    String,
    Table,
    any_,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.ingest.events import EventKey, LazyRows, Row, day_number, split_keys
from gateway.store.ingest.replays import row_key
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
    """Per-run memory of the write path: False (probe first) once a COPY met a stored id."""

    direct_copy: bool = True


async def write_rows(
    conn: AsyncConnection,
    kind: str,
    rows: Sequence[Row] | LazyRows,
    state: BulkState,
    probed: bool = False,
) -> int:
    """Insert ``rows`` of ``kind`` (table-column order), skipping stored keys; rows inserted.

    ``probed`` says the rows' keys were checked against the database shortly before (see
    :func:`stored_keys`), so a direct COPY is worth trying even after a conflict. PostgreSQL
    takes :class:`~gateway.store.ingest.events.LazyRows` too (built during the COPY).
    """
    if not rows:
        return 0
    if conn.dialect.name != "postgresql":
        assert isinstance(rows, Sequence)
        return await _executemany(conn, EVENT_TABLES[kind], rows)
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection  # the asyncpg connection of this transaction
    table = EVENT_TABLES[kind]
    if state.direct_copy or probed:
        if await _copy(conn, driver, table, rows):
            return len(rows)
        state.direct_copy = False
    keyed = [(row_key(row), row) for row in rows]
    stored = await stored_keys(conn, kind, [key for key, _ in keyed])
    fresh = [row for key, row in keyed if key not in stored] if stored else rows
    if not fresh:
        return 0
    if await _copy(conn, driver, table, fresh):
        return len(fresh)
    return await _staged(conn, driver, kind, list(fresh))


async def stored_keys(conn: AsyncConnection, kind: str, keys: list[EventKey]) -> set[EventKey]:
    """PostgreSQL: which of ``keys`` the event table of ``kind`` holds (one index probe in
    each partition of the keys' days)."""
    table = EVENT_TABLES[kind]
    id_list, day_list = split_keys(keys)
    ids = bindparam("ids", id_list, type_=postgresql.ARRAY(String))
    days = bindparam("days", day_list, type_=postgresql.ARRAY(Date))
    stmt = select(table.c.id, table.c.day).where(table.c.id == any_(ids), table.c.day == any_(days))
    wanted = set(keys)
    found = ((id_, day_number(day)) for id_, day in await conn.execute(stmt))
    return {key for key in found if key in wanted}


async def _copy(conn: AsyncConnection, driver: Any, table: Table, rows: Iterable[Row]) -> bool:
    """COPY ``rows`` into ``table`` in a savepoint; False (nothing written) on a stored key."""
    try:
        async with conn.begin_nested():
            columns = [c.name for c in table.columns]
            await driver.copy_records_to_table(table.name, records=rows, columns=columns)
    except UniqueViolationError:
        return False
    return True


async def _staged(conn: AsyncConnection, driver: Any, kind: str, rows: list[Row]) -> int:
    """The safe path: COPY into a staging table, then insert what does not conflict."""
    table, stage = EVENT_TABLES[kind], STAGES[kind]
    columns = [c.name for c in table.columns]
    await conn.run_sync(lambda sync_conn: stage.create(sync_conn))
    await driver.copy_records_to_table(stage.name, records=rows, columns=columns)
    stmt = postgresql.insert(table).from_select(columns, select(*stage.columns))
    result = await conn.execute(stmt.on_conflict_do_nothing(index_elements=["id", "day"]))
    return int(result.rowcount)


async def _executemany(conn: AsyncConnection, table: Table, rows: Sequence[Row]) -> int:
    stmt = insert(table).values({c.name: bindparam(c.name) for c in table.columns})
    compiled = stmt.prefix_with("OR IGNORE").compile(dialect=conn.dialect)
    # Positional tuples skip SQLAlchemy's per-row parameter processing; the check guards the
    # assumption that binds render in table-column order.
    assert list(compiled.positiontup or ()) == [c.name for c in table.columns]
    before = await conn.scalar(select(func.total_changes()))
    await conn.exec_driver_sql(str(compiled), rows)
    after = await conn.scalar(select(func.total_changes()))
    return int(after or 0) - int(before or 0)
