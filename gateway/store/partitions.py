"""PostgreSQL: the raw event tables as a log partitioned by UTC day (SPEC §2).

Each event table (:data:`~gateway.store.tables.EVENT_TABLES`) is ``PARTITION BY RANGE (day)``
with one partition per UTC day, named ``<table>_pYYYYMMDD``; a day is created for the three
tables at once. A row needs its day's partition before it is written, so days are created
outside any ingest transaction, on a connection of their own:

- ahead of need, by every refresh (:func:`ensure_ahead`): today and the next
  :data:`AHEAD_DAYS` days, so the live stream never waits for one;
- on demand, by ingestion, for the days of a chunk before its transaction (late events,
  backfills): at most :data:`NEW_DAYS_PER_CHUNK` new days per chunk, so input spread over
  thousands of days (a broken clock, a hostile sender) is quarantined as ``too many new days``
  instead of creating thousands of tables.

``CREATE TABLE ... PARTITION OF`` would lock the parent table against every reader and writer
until it commits; a day is instead created as a table of its own and attached (``ATTACH
PARTITION`` takes a lock that lets inserts and reads go on). Retention detaches and drops whole
days (:func:`drop_days`) the same way (``DETACH PARTITION ... CONCURRENTLY``). SQLite keeps one
table per kind: every function here is a no-op there but :func:`drop_days`, which deletes.

Example:
    >>> partition_name("launches", date(2026, 11, 22))
    'launches_p20261122'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.store.tables import EVENT_TABLES

AHEAD_DAYS = 2
"""Days after today whose partitions each refresh makes sure exist."""

NEW_DAYS_PER_CHUNK = 400
"""New days one ingest chunk may create: a year's backfill fits, a spread over centuries not."""

PARTITIONS_LOCK_KEY = 7_460_002
"""PostgreSQL advisory lock serializing the creation and removal of partitions."""

_SUFFIX = re.compile(r"_p(\d{8})$")


def partition_name(table: str, day: date) -> str:
    """The partition of ``table`` holding the events of UTC ``day``."""
    return f"{table}_p{day:%Y%m%d}"


def is_partition(name: str) -> bool:
    """True when table ``name`` is a day partition of an event table (not in the metadata:
    schema comparisons skip it)."""
    match = _SUFFIX.search(name)
    return match is not None and name[: match.start()] in {t.name for t in EVENT_TABLES.values()}


def partition_bounds(day: date) -> str:
    """The ``FOR VALUES`` bounds of the partition of UTC ``day``."""
    return f"FROM ('{day.isoformat()}') TO ('{(day + timedelta(days=1)).isoformat()}')"


async def partition_days(conn: AsyncConnection) -> list[date]:
    """PostgreSQL: the days that have partitions, ascending (empty on SQLite)."""
    if conn.dialect.name != "postgresql":
        return []
    first = next(iter(EVENT_TABLES.values())).name
    stmt = text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = CAST(:parent AS regclass)"
    )
    names = (await conn.execute(stmt, {"parent": first})).scalars()
    days = []
    for name in names:
        match = _SUFFIX.search(name)
        if match:
            days.append(datetime.strptime(match.group(1), "%Y%m%d").date())
    return sorted(days)


async def _holds_events(conn: AsyncConnection, day: date) -> bool:
    quote = conn.dialect.identifier_preparer.quote
    names = [quote(partition_name(table.name, day)) for table in EVENT_TABLES.values()]
    probe = " OR ".join(f"EXISTS (SELECT 1 FROM {name})" for name in names)
    return bool((await conn.execute(text(f"SELECT {probe}"))).scalar())


async def day_range(conn: AsyncConnection) -> tuple[date | None, date | None]:
    """The oldest and the newest UTC day holding raw events (None, None when none is).

    PostgreSQL looks at the partitions from each end (days made ahead of need are empty);
    SQLite reads the ends of the ``day`` index.
    """
    if conn.dialect.name != "postgresql":
        firsts, lasts = [], []
        for table in EVENT_TABLES.values():
            ends = select(func.min(table.c.day), func.max(table.c.day))
            first, last = (await conn.execute(ends)).one()
            firsts += [first] if first is not None else []
            lasts += [last] if last is not None else []
        return (min(firsts) if firsts else None, max(lasts) if lasts else None)
    days = await partition_days(conn)
    oldest = await _first_holding(conn, days)
    newest = await _first_holding(conn, days[::-1])
    return oldest, newest


async def _first_holding(conn: AsyncConnection, days: list[date]) -> date | None:
    for day in days:
        if await _holds_events(conn, day):
            return day
    return None


async def ensure_days(
    engine: AsyncEngine, days: Iterable[date], *, limit: int | None = None
) -> set[date]:
    """Create the partitions ``days`` lack; the days refused (beyond ``limit`` new ones,
    default :data:`NEW_DAYS_PER_CHUNK`).

    Days are created oldest first; a no-op on SQLite. Safe to call from concurrent ingesters.
    """
    limit = NEW_DAYS_PER_CHUNK if limit is None else limit
    wanted = set(days)
    if engine.dialect.name != "postgresql" or not wanted:
        return set()
    async with engine.connect() as conn:
        missing = sorted(wanted - set(await partition_days(conn)))
        if not missing:
            return set()
        await conn.commit()
        # One short transaction per day, each holding a transaction-scoped lock (a session
        # lock would outlive the transaction's server connection behind pgbouncer's
        # transaction pooling): a day another ingester created meanwhile is skipped.
        for day in missing[:limit]:
            async with conn.begin():
                await conn.execute(select(func.pg_advisory_xact_lock(PARTITIONS_LOCK_KEY)))
                if day not in set(await partition_days(conn)):  # under the lock
                    await _create_day(conn, day)
    return set(missing[limit:])


async def _create_day(conn: AsyncConnection, day: date) -> None:
    """Create and attach the partitions of ``day`` (one transaction, the caller's)."""
    quote = conn.dialect.identifier_preparer.quote
    for table in EVENT_TABLES.values():
        name, parent = quote(partition_name(table.name, day)), quote(table.name)
        # Like the parent, with its NOT NULLs; ATTACH adds the key and the BRIN index.
        await conn.execute(text(f"CREATE TABLE {name} (LIKE {parent} INCLUDING DEFAULTS)"))
        attach = f"ALTER TABLE {parent} ATTACH PARTITION {name} FOR VALUES {partition_bounds(day)}"
        await conn.execute(text(attach))


async def ensure_ahead(engine: AsyncEngine, now: datetime | None = None) -> None:
    """Make sure today's partitions and the next :data:`AHEAD_DAYS` days' exist."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    await ensure_days(engine, (today + timedelta(days=n) for n in range(AHEAD_DAYS + 1)))


async def summarize_new_blocks(engine: AsyncEngine, days: Iterable[date]) -> int:
    """Summarize the block ranges the ``batch_id`` BRIN indexes of ``days``' partitions do not
    cover yet (``brin_summarize_new_values``); returns how many. A no-op on SQLite.

    An unsummarized range may hold any batch, so a refresh reading new batches through the index
    reads every such block: after each refresh (``tidy``) the days it read are summarized, and
    the next refresh reads only the blocks written since. ``autosummarize`` does the same for
    full ranges, but later (autovacuum's work queue), and never for the last, partial one."""
    names = sorted(partition_name(t.name, day) for day in set(days) for t in EVENT_TABLES.values())
    if engine.dialect.name != "postgresql" or not names:
        return 0
    stmt = text(
        "SELECT coalesce(sum(brin_summarize_new_values(x.indexrelid)), 0) "
        "FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am a ON a.oid = i.relam "
        "WHERE a.amname = 'brin' AND t.relname = ANY(:names)"
    )
    async with engine.begin() as conn:
        return int((await conn.execute(stmt, {"names": names})).scalar_one())


async def drop_days(engine: AsyncEngine, before: date, *, folded: int) -> int:
    """Drop the raw events dated before ``before`` that batches up to ``folded`` stored.

    PostgreSQL detaches and drops the partitions of those days whose every row is folded, and
    deletes the folded rows of the others (a batch not refreshed yet is never lost); SQLite
    deletes by day. Returns how many events were dropped (PostgreSQL: those partitions' rows).
    """
    if engine.dialect.name != "postgresql":
        return await _delete_rows(engine, before, folded)
    async with engine.connect() as conn:
        old = [day for day in await partition_days(conn) if day < before]
        await conn.commit()
    dropped = 0
    for day in old:
        dropped += await _drop_day(engine, day, folded)
    return dropped


async def _drop_day(engine: AsyncEngine, day: date, folded: int) -> int:
    quote = engine.dialect.identifier_preparer.quote
    names = [
        (quote(table.name), quote(partition_name(table.name, day)))
        for table in EVENT_TABLES.values()
    ]
    async with engine.begin() as conn:
        rows = pending = 0
        for _, name in names:
            stmt = text(f"SELECT count(*), count(*) FILTER (WHERE batch_id > :folded) FROM {name}")
            counts = (await conn.execute(stmt, {"folded": folded})).one()
            rows, pending = rows + int(counts[0]), pending + int(counts[1])
        if pending:  # rows of a batch no snapshot holds yet: keep them, drop the rest
            deleted = 0
            for _, name in names:
                stmt = text(f"DELETE FROM {name} WHERE batch_id <= :folded")
                deleted += (await conn.execute(stmt, {"folded": folded})).rowcount or 0
            return deleted
    autocommit = await engine.connect()
    try:
        raw = await autocommit.execution_options(isolation_level="AUTOCOMMIT")
        for parent, name in names:
            # CONCURRENTLY: readers and writers of the parent are not blocked meanwhile.
            await raw.execute(text(f"ALTER TABLE {parent} DETACH PARTITION {name} CONCURRENTLY"))
            await raw.execute(text(f"DROP TABLE {name}"))
    finally:
        await autocommit.close()
    return rows


async def _delete_rows(engine: AsyncEngine, before: date, folded: int) -> int:
    dropped = 0
    async with engine.begin() as conn:
        for table in EVENT_TABLES.values():
            stmt = delete(table).where(table.c.day < before, table.c.batch_id <= folded)
            dropped += (await conn.execute(stmt)).rowcount or 0
    return dropped
