"""Each user's primary platform and region: the value of their first folded launch, kept for ever.

The portrait's exceptions (:mod:`~gateway.metrics.portrait`) are relative to these values,
so a user's primary never changes once given: a refresh gives one to the users of its launches
that have none (the value of their earliest launch among them, the smallest code on a tie) and
rewrites only the codes that gained users. A full rebuild keeps them too (its folds are relative
to the same values), so they survive raw days a retention cut dropped.

Stored in ``rollup_primaries`` (dimension, code) -> bitmap of ``users.uid``; in memory as
:class:`Primaries`, a code per uid for the vectorized fold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from pyroaring import BitMap
from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.metrics.arrays import bitmaps, distinct_sorted, runs
from gateway.store.rollup.events import EventChunk, Int64s
from gateway.store.rollup_tables import rollup_primaries
from gateway.store.tables import users

DIMENSIONS = ("platform", "region")
"""The portrait's dimensions, named as :class:`EventChunk`'s columns."""
NONE = -1
"""The code of a user without a primary yet."""


@dataclass
class Primaries:
    """One dimension's primary values.

    Attributes:
        users: Code -> the users whose primary it is.
        codes: Code of each uid (``NONE`` where there is none), as long as the largest uid seen
            (two bytes a user: 20 MB for 10M users).
    """

    users: dict[int, BitMap] = field(default_factory=dict)
    codes: npt.NDArray[np.int16] = field(default_factory=lambda: np.zeros(0, dtype=np.int16))

    def of(self, uids: Int64s) -> Int64s:
        """The code of each of ``uids`` (``NONE`` for a user without one)."""
        out = np.full(len(uids), NONE, dtype=np.int64)
        known = uids < len(self.codes)
        out[known] = self.codes[uids[known]]
        return out

    def give(self, uids: Int64s, codes: Int64s) -> set[int]:
        """Give each of ``uids`` (users without one) its code; returns the codes that grew."""
        if not len(uids):
            return set()
        top = int(uids.max()) + 1
        if top > len(self.codes):
            grown = np.full(top, NONE, dtype=np.int16)
            grown[: len(self.codes)] = self.codes
            self.codes = grown
        self.codes[uids] = codes
        changed = set()
        for code in np.unique(codes).tolist():
            self.users.setdefault(code, BitMap()).update(uids[codes == code].tolist())
            changed.add(code)
        return changed


def launch_users(chunks: Iterable[EventChunk]) -> BitMap:
    """The distinct users of the launches of ``chunks``."""
    uids = [chunk.uid for chunk in chunks if chunk.kind == "launch" and len(chunk.uid)]
    if not uids:
        return BitMap()
    return bitmaps(distinct_sorted(np.concatenate(uids)), np.zeros(1, dtype=np.int64))[0]


def _from_bitmaps(users: dict[int, BitMap], among: BitMap | None = None) -> Primaries:
    """The primaries of ``users`` (code -> bitmap), each uid's code filled in for every user,
    or only for those of ``among`` (the others read as without one, which only the users of
    ``among`` are asked about)."""
    top = max((bitmap.max() + 1 for bitmap in users.values() if bitmap), default=0)
    codes = np.full(top, NONE, dtype=np.int16)
    for code, bitmap in users.items():
        held = bitmap if among is None else bitmap & among
        codes[np.frombuffer(held.to_array(), dtype=np.uint32)] = code
    return Primaries(users, codes)


async def read_primary_users(
    conn: AsyncConnection, dimensions: Iterable[str] = DIMENSIONS
) -> dict[str, dict[int, BitMap]]:
    """Per dimension, the users of each primary code (one statement; what requests read)."""
    wanted = list(dimensions)
    p = rollup_primaries.c
    found: dict[str, dict[int, BitMap]] = {name: {} for name in wanted}
    rows = await conn.execute(select(p.dimension, p.code, p.bitmap).where(p.dimension.in_(wanted)))
    for dimension, code, raw in rows:
        found[dimension][int(code)] = BitMap.deserialize(raw)
    return found


async def read_primaries(
    conn: AsyncConnection, dimensions: Iterable[str] = DIMENSIONS, among: BitMap | None = None
) -> dict[str, Primaries]:
    """The primaries of ``dimensions``, with each user's code (what a refresh folds with): of
    every user, or of the users of ``among`` only (an incremental refresh's launches: the work
    then follows the batch, not every user ever seen)."""
    found = await read_primary_users(conn, dimensions)
    return {name: _from_bitmaps(users, among) for name, users in found.items()}


def _earliest(launches: EventChunk, column: Int64s, without: np.ndarray) -> tuple[Int64s, Int64s]:
    """The users of ``launches`` flagged ``without`` a primary, each with the code of its
    earliest launch (smallest code on a tie)."""
    uids, days, codes = launches.uid[without], launches.day[without], column[without]
    order = np.lexsort((codes, days, uids))
    uids, codes = uids[order], codes[order]
    first = runs(uids)
    return uids[first], codes[first]


async def assign(
    conn: AsyncConnection, primaries: dict[str, Primaries], launches: EventChunk
) -> None:
    """Give the users of ``launches`` without a primary theirs, in ``primaries`` and in the
    table (only the codes that gained users are rewritten)."""
    for name, found in primaries.items():
        column = getattr(launches, name)
        if column is None or not len(column):
            continue
        without = found.of(launches.uid) == NONE
        if not without.any():
            continue
        uids, codes = _earliest(launches, column, without)
        changed = found.give(uids, codes)
        await _write(conn, name, {code: found.users[code] for code in changed})


async def give_unknown(conn: AsyncConnection, primaries: dict[str, Primaries]) -> None:
    """Give every user without a primary ``UNKNOWN`` (code 0) in each dimension: the rollups
    they are in were folded before events carried a platform and region (a migration's
    rebuild, when the raw days are gone)."""
    top = (await conn.execute(select(func.max(users.c.uid)))).scalar()
    if top is None:
        return
    everyone = np.arange(int(top) + 1, dtype=np.int64)
    for name, found in primaries.items():
        without = everyone[found.of(everyone) == NONE]
        changed = found.give(without, np.zeros(len(without), dtype=np.int64))
        await _write(conn, name, {code: found.users[code] for code in changed})


async def _write(conn: AsyncConnection, dimension: str, bitmaps: dict[int, BitMap]) -> None:
    p = rollup_primaries.c
    codes = sorted(bitmaps)
    await conn.execute(delete(rollup_primaries).where(p.dimension == dimension, p.code.in_(codes)))
    rows = [
        {"dimension": dimension, "code": code, "bitmap": bitmaps[code].serialize()}
        for code in codes
    ]
    await conn.execute(insert(rollup_primaries), rows)
