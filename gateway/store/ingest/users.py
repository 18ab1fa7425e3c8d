"""Dense user ids: map each ``userGuid`` of a chunk to ``users.uid``, creating missing users.

Safe with several writers at once: look the guids up, insert the missing ones with
``ON CONFLICT DO NOTHING`` (another writer may have inserted them meanwhile), then read the
ones the insert did not return. Looking up first keeps ``uid`` dense: on PostgreSQL a
conflicting insert would still consume a sequence value.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from asyncpg.exceptions import UniqueViolationError
from sqlalchemy import String, any_, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import BindParameter

from gateway.store.tables import users

SQLITE_BATCH = 5_000
"""Guids per ``IN (...)`` list on SQLite (well under its 32,766 bound-variable limit)."""

CACHE_LIMIT = 2_000_000
"""Entries a :class:`UidCache` keeps before it starts over (bounds memory on huge inputs)."""


class UidCache:
    """guid -> uid for one ingest run.

    It may hold uids whose users were created in a transaction that then failed: a failure
    ends the run (the exception propagates), and the cache dies with it.
    """

    def __init__(self) -> None:
        self.uids: dict[str, int] = {}

    def missing(self, guids: AbstractSet[str]) -> set[str]:
        """The guids of ``guids`` not in :attr:`uids` (the ones :meth:`resolve` would query)."""
        return set(guids).difference(self.uids)

    async def resolve(self, conn: AsyncConnection, guids: Collection[str]) -> dict[str, int]:
        """Make sure every guid of ``guids`` is in :attr:`uids`; returns :attr:`uids`."""
        if len(self.uids) + len(guids) > CACHE_LIMIT:
            # A new dict, not clear(): plans of earlier chunks still hold the old one.
            self.uids = {}
        known = self.uids
        # A set difference runs in C: a chunk names tens of thousands of users. Against the
        # dict itself, not its keys(): "set - keys" iterates all the (million) cached keys.
        wanted = list(set(guids).difference(known))
        if wanted and conn.dialect.name == "sqlite":
            # SQLite: write first, so the transaction takes the write lock before it reads
            # (a read-then-write transaction can fail on a concurrent commit), and an
            # ignored insert consumes no rowid.
            await _insert(conn, wanted)
            known.update(await _lookup(conn, wanted))
        elif wanted:
            found = await _lookup(conn, wanted)
            absent = [g for g in wanted if g not in found]
            if absent:
                found.update(await _insert(conn, absent))
                # Rows another writer inserted meanwhile were not returned: read them.
                raced = [g for g in absent if g not in found]
                if raced:
                    found.update(await _lookup(conn, raced))
            known.update(found)
        return known


def _slices(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _guid_array(guids: Sequence[str]) -> BindParameter[Sequence[str]]:
    # One array parameter instead of one bound variable per guid.
    return bindparam("guids", list(guids), type_=postgresql.ARRAY(String))


async def _lookup(conn: AsyncConnection, guids: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    pairs = select(users.c.guid, users.c.uid)
    if conn.dialect.name == "postgresql":
        rows = await conn.execute(pairs.where(users.c.guid == any_(_guid_array(guids))))
        found.update(rows.all())
        return found
    for part in _slices(guids, SQLITE_BATCH):
        found.update((await conn.execute(pairs.where(users.c.guid.in_(part)))).all())
    return found


async def _insert(conn: AsyncConnection, guids: Sequence[str]) -> dict[str, int]:
    """Insert users ``guids`` (skipping existing ones); the uids of those really inserted."""
    returning = (users.c.guid, users.c.uid)
    if conn.dialect.name == "postgresql":
        # Sorted: the pipeline's writer upserts users in guid order too, so the two lock rows
        # in the same order and cannot deadlock.
        source = select(func.unnest(_guid_array(sorted(guids))))
        insert = postgresql.insert(users).from_select(["guid"], source)
        stmt = insert.on_conflict_do_nothing(index_elements=["guid"]).returning(*returning)
        return dict((await conn.execute(stmt)).all())
    found: dict[str, int] = {}
    for part in _slices(guids, SQLITE_BATCH):
        values = [{"guid": g} for g in part]
        stmt_lite = sqlite.insert(users).values(values).on_conflict_do_nothing()
        found.update((await conn.execute(stmt_lite.returning(*returning))).all())
    return found


USER_COLUMNS = ("guid", "source", "created_at", "source_batch_id")
"""Columns a user record writes, in the order of the column lists given below."""

USERS_LOCK_KEY = 7_460_002
"""PostgreSQL advisory lock held by parallel ingest workers while they create users, so
that two of them never insert the same new user at once (the loser would burn a ``uid``)."""


async def upsert_users(conn: AsyncConnection, columns: tuple[list[Any], ...]) -> None:
    """PostgreSQL: upsert user rows with one statement over arrays (``unnest``).

    Users are the one catalog table with millions of rows; one ``INSERT ... SELECT FROM
    unnest(...)`` costs a fraction of an ``executemany`` of as many single-row inserts.
    ``columns`` holds one list per name of :data:`USER_COLUMNS`, sorted by guid.
    """
    arrays = [
        bindparam(name, values, type_=postgresql.ARRAY(users.c[name].type))
        for name, values in zip(USER_COLUMNS, columns, strict=True)
    ]
    source = select(func.unnest(*arrays).table_valued(*USER_COLUMNS).render_derived())
    insert = postgresql.insert(users).from_select(list(USER_COLUMNS), source)
    updates = {name: insert.excluded[name] for name in USER_COLUMNS if name != "guid"}
    await conn.execute(insert.on_conflict_do_update(index_elements=["guid"], set_=updates))


async def copy_new_users(conn: AsyncConnection, columns: tuple[list[Any], ...]) -> bool:
    """PostgreSQL: COPY the user rows when none exists yet; False (nothing written) otherwise.

    A file's user records usually name new users: a COPY costs half the upsert (measured on
    50,000 users: probe 45 ms + COPY 150 ms, upsert 320 ms). The users lock, held until
    commit, keeps the parallel workers from creating one of them between probe and COPY; a
    writer that does not take it (an in-process ingest at the same time) makes the COPY fail,
    which burns the ``uid`` values it drew, and the caller upserts instead.
    """
    await conn.execute(select(func.pg_advisory_xact_lock(USERS_LOCK_KEY)))
    stored = select(users.c.guid).where(users.c.guid == any_(_guid_array(columns[0])))
    if await conn.scalar(stored.limit(1)) is not None:
        return False
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    try:
        async with conn.begin_nested():
            await driver.copy_records_to_table(
                users.name, records=zip(*columns, strict=True), columns=list(USER_COLUMNS)
            )
    except UniqueViolationError:
        return False
    return True
