"""Dense user ids: map each ``userGuid`` of a chunk to ``users.uid``, creating missing users.

Safe with several writers at once: look the guids up, insert the missing ones with
``ON CONFLICT DO NOTHING`` (another writer may have inserted them meanwhile), then read the
ones the insert did not return. Looking up first keeps ``uid`` dense: on PostgreSQL a
conflicting insert would still consume a sequence value.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

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

    async def resolve(self, conn: AsyncConnection, guids: Collection[str]) -> dict[str, int]:
        """Make sure every guid of ``guids`` is in :attr:`uids`; returns :attr:`uids`."""
        if len(self.uids) + len(guids) > CACHE_LIMIT:
            # A new dict, not clear(): plans of earlier chunks still hold the old one.
            self.uids = {}
        known = self.uids
        wanted = [g for g in guids if g not in known]
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
