"""User sources as bitmaps: ``rollup_user_sources`` (source -> users.uid), kept by the refresh.

``usersBySource`` intersects a cell's user set with each source's bitmap; users in none of them
(no ``user`` record yet) are ``unknown``. The bitmaps change inside the refresh transaction, so
they always match the snapshot's rollups.

Incremental: ingest stamps every upserted user row with its batch (``users.source_batch_id``),
so the users whose source changed since the last snapshot are those stamped with a batch in
``(after, upto]``. Each of them is removed from every source and added to its current one: the
cost follows the changed users, not all users. A full rebuild (or an empty table, e.g. right
after the migration that added it) recomputes every bitmap from ``users``.

Example (inside the refresh transaction):
    >>> update = await refresh_user_sources(conn, after=41, upto=57, full=False)  # doctest: +SKIP
    >>> sources = await read_user_sources(conn)                           # doctest: +SKIP
    >>> len(sources["wallet"])                                            # doctest: +SKIP
    1234
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pyroaring import BitMap
from sqlalchemy import ColumnElement, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.rollup_tables import rollup_user_sources
from gateway.store.tables import users

PARTITION_ROWS = 100_000
"""Users read at a time when grouping them by source."""


async def read_user_sources(conn: AsyncConnection) -> dict[str, BitMap]:
    """Every source's bitmap of user uids (one statement)."""
    s = rollup_user_sources.c
    rows = await conn.execute(select(s.source, s.bitmap))
    return {row.source: BitMap.deserialize(row.bitmap) for row in rows}


async def _users_by_source(conn: AsyncConnection, where: ColumnElement[bool]) -> dict[str, BitMap]:
    """The uids of the users matching ``where`` with a source, grouped by source.

    Streamed :data:`PARTITION_ROWS` rows at a time into the bitmaps, so memory follows the
    bitmaps (a few bytes a user), not Python rows for every user of a full rebuild.
    """
    grouped: dict[str, BitMap] = defaultdict(BitMap)
    result = await conn.stream(select(users.c.uid, users.c.source).where(where))
    async for rows in result.partitions(PARTITION_ROWS):
        part: dict[str, list[int]] = defaultdict(list)
        for uid, source in rows:
            part[source].append(uid)
        for source, uids in part.items():
            grouped[source].update(uids)
    return dict(grouped)


async def _write(
    conn: AsyncConnection, bitmaps: Mapping[str, BitMap], sources: Iterable[str]
) -> None:
    """Replace the rows of ``sources`` with their bitmap in ``bitmaps`` (dropping empty ones)."""
    wanted = sorted(set(sources))
    if not wanted:
        return
    s = rollup_user_sources.c
    await conn.execute(delete(rollup_user_sources).where(s.source.in_(wanted)))
    rows = [
        {"source": source, "bitmap": bitmaps[source].serialize()}
        for source in wanted
        if bitmaps.get(source)
    ]
    if rows:
        await conn.execute(insert(rollup_user_sources), rows)


@dataclass
class SourcesUpdate:
    """What :func:`refresh_user_sources` did.

    Attributes:
        sources: Every source's bitmap after it (None when it had no reason to read them).
        moved: The users whose source it changed (every user with a source, when recomputed);
            a ``user`` record sent again with the same source moves nobody.
    """

    sources: dict[str, BitMap] | None
    moved: BitMap


async def _recompute(conn: AsyncConnection) -> SourcesUpdate:
    await conn.execute(delete(rollup_user_sources))
    fresh = await _users_by_source(conn, users.c.source.is_not(None))
    await _write(conn, fresh, fresh)
    return SourcesUpdate(fresh, BitMap.union(*fresh.values()) if fresh else BitMap())


async def refresh_user_sources(
    conn: AsyncConnection, *, after: int, upto: int, full: bool
) -> SourcesUpdate:
    """Bring ``rollup_user_sources`` up to batch ``upto``.

    Args:
        conn: The refresh's connection, inside its transaction.
        after: The previous snapshot's last batch (users stamped later have changed).
        upto: This snapshot's last batch.
        full: Recompute every bitmap from ``users`` (a full rebuild).
    """
    s = rollup_user_sources.c
    empty = (await conn.execute(select(s.source).limit(1))).first() is None
    if full or empty:
        return await _recompute(conn)
    stamp = users.c.source_batch_id
    changed = await _users_by_source(conn, (stamp > after) & (stamp <= upto))
    if not changed:
        return SourcesUpdate(None, BitMap())
    current = await read_user_sources(conn)
    # Users sent again with the source they have are not moved (records are upserts, often
    # repeated); the others leave their old source, if any, for the new one.
    moved = BitMap.union(
        *(uids - current.get(source, BitMap()) for source, uids in changed.items())
    )
    if not moved:
        return SourcesUpdate(current, moved)
    dirty = {source for source, bitmap in current.items() if bitmap.intersect(moved)}
    for source in dirty:
        current[source] -= moved
    for source, uids in changed.items():
        current[source] = current.get(source, BitMap()) | (uids & moved)
    await _write(
        conn, current, dirty | {source for source, uids in changed.items() if uids & moved}
    )
    return SourcesUpdate({name: b for name, b in current.items() if b}, moved)
