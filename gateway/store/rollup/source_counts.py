"""Users per source as stored counts: ``usersBySource`` reads no source bitmap at request time.

A user is new in exactly one day of a cell, so the users of source ``S`` a cell has seen by day
``E`` are ``sum(|new(d) & S| for d <= E)`` = ``|lifetime & S| - sum(|new(d) & S| for d > E)``.
The refresh stores both parts for every *source cell* (a workspace's or a target app's cell,
the cells ``usersBySource`` reads, :func:`is_source_cell`):

- ``rollup_days.new_sources``: per source, the users of the day's new bitmap with that source;
- ``rollup_cells.sources``: per source, the users of the cell's lifetime with that source (the
  sum of the above over all days);

both as a JSON object of the non-zero counts (null when there are none). Users with no source
(no ``user`` record yet) are in neither: they are the cell's users less the counted ones. A
cumulative ``usersBySource`` then reads the cell's row and its days after ``E``: counts only,
however many users the store holds (it read every source bitmap, megabytes, before).

The counts follow the users' current sources. Rows a refresh writes are counted with the sources
of its snapshot; when ``user`` records change the source of users already in the rollups,
:func:`recount_moved` recounts the stored rows holding them (the cells whose lifetime holds one
of them, the rows whose new bitmap does), so every count always matches the bitmaps.

Example:
    >>> counter = SourceCounter({"wallet": BitMap([1, 2]), "ads": BitMap([3])}, {7})
    >>> counter.row(7, BitMap([1, 2, 3, 4]))
    '{"ads":1,"wallet":2}'
    >>> counter.row(8, BitMap([1])) is None          # not a source cell: nothing stored
    True
    >>> plus({"ads": 1, "wallet": 2}, add={"ads": 2}, less={"wallet": 2})
    {'ads': 3}
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import orjson
from pyroaring import BitMap
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.metrics.cells import CellKey
from gateway.store.rollup.read import batched, stored_bitmap
from gateway.store.rollup.user_sources import read_user_sources
from gateway.store.rollup_tables import rollup_cells, rollup_days

SourceCounts = dict[str, int]
"""Users per source (non-zero counts only)."""


def is_source_cell(key: CellKey) -> bool:
    """Whether ``usersBySource`` reads ``key``: a workspace's or a target app's cell (not a
    mini program's, alone or inside an app)."""
    return key.scope.startswith("ws:") or (key.scope.startswith("app:") and "|" not in key.scope)


def encode(counts: Mapping[str, int]) -> str | None:
    """The stored text of ``counts`` (null when every count is zero)."""
    kept = {source: count for source, count in sorted(counts.items()) if count}
    return orjson.dumps(kept).decode() if kept else None


def decode(text: str | None) -> SourceCounts:
    """The counts stored as ``text``."""
    if not text:
        return {}
    counts: SourceCounts = orjson.loads(text)
    return counts


def plus(
    total: Mapping[str, int], *, add: Mapping[str, int], less: Mapping[str, int]
) -> SourceCounts:
    """``total + add - less`` per source (zero counts dropped)."""
    out = Counter(total)
    out.update(add)
    out.subtract(less)
    return {source: count for source, count in out.items() if count}


@dataclass
class SourceCounter:
    """Counts users per source for the rows and cells a refresh writes.

    Attributes:
        sources: Every source's bitmap of user uids, as of the refresh's snapshot (None until
            :meth:`ready` reads them: a refresh with nothing to count never does).
        cells: The ids of the source cells among those written (:func:`is_source_cell`).
    """

    sources: Mapping[str, BitMap] | None = None
    cells: set[int] = field(default_factory=set)
    _codes: np.ndarray | None = None
    _names: list[str] = field(default_factory=list)
    _indexed: bool = False

    async def ready(self, conn: AsyncConnection) -> None:
        """Read the sources unless they were given."""
        if self.sources is None:
            self.sources = await read_user_sources(conn)

    def _known(self) -> Mapping[str, BitMap]:
        if self.sources is None:
            raise RuntimeError("SourceCounter used before ready()")
        return self.sources

    def index(self) -> None:
        """Build a source code per uid (a byte a user): one pass per bitmap counted instead
        of one intersection per source, for a rebuild's millions of rows."""
        if self._indexed:
            return
        self._indexed = True
        sources = self._known()
        self._names = sorted(sources)
        if len(self._names) >= 255:  # a byte a user holds 254 sources and "none"
            return
        top = max((bitmap.max() for bitmap in sources.values() if bitmap), default=0)
        codes = np.zeros(top + 1, dtype=np.uint8)
        for code, name in enumerate(self._names, start=1):
            codes[np.frombuffer(sources[name].to_array(), dtype=np.uint32)] = code
        self._codes = codes

    def counts(self, users: BitMap) -> SourceCounts:
        """Users of ``users`` per source (non-zero counts only)."""
        if self._codes is None:
            found = {name: users.intersection_cardinality(b) for name, b in self._known().items()}
            return {name: count for name, count in found.items() if count}
        return self._tally([users])[0] if users else {}

    def of(self, users: BitMap | None) -> str | None:
        """The stored text of the counts of ``users`` per source."""
        return encode(self.counts(users)) if users else None

    def row(self, cell: int, new: BitMap | None) -> str | None:
        """``rollup_days.new_sources`` of a row of ``cell`` with first-seen users ``new``
        (null unless ``cell`` is one of :attr:`cells`)."""
        return self.of(new) if cell in self.cells else None

    def rows(self, cells: Sequence[int], news: Sequence[BitMap | None]) -> list[str | None]:
        """:meth:`row` of many rows at once: the users of every counted row are looked up in
        the source index together and tallied by one ``bincount`` per slice of
        :data:`TALLY_USERS` users, instead of seven intersections per row."""
        empty = BitMap()
        counted = [
            bitmap if bitmap is not None and cell in self.cells else empty
            for cell, bitmap in zip(cells, news, strict=True)
        ]
        return [encode(counts) for counts in self.tallies(counted)]

    def tallies(self, bitmaps: Sequence[BitMap]) -> list[SourceCounts]:
        """The counts per source of each of ``bitmaps`` (see :meth:`rows`; empty ones cost
        nothing)."""
        self.index()
        out: list[SourceCounts] = [{} for _ in bitmaps]
        wanted = [i for i, bitmap in enumerate(bitmaps) if bitmap]
        if self._codes is None:
            for i in wanted:
                out[i] = self.counts(bitmaps[i])
            return out
        for part in _by_size(wanted, bitmaps):
            for i, counts in zip(part, self._tally([bitmaps[i] for i in part]), strict=True):
                out[i] = counts
        return out

    def changes(self, pairs: Sequence[tuple[BitMap, BitMap]]) -> list[SourceCounts]:
        """For each ``(removed, added)`` pair of user sets, how its counts per source change
        (added less removed, zero changes dropped): one signed ``bincount`` over every pair's
        users, and a dictionary only for the pairs that change a count."""
        self.index()
        if self._codes is None:
            return [plus(self.counts(added), add={}, less=self.counts(removed))
                    for removed, added in pairs]  # fmt: skip
        arrays, rows, signs = [], [], []
        for i, (removed, added) in enumerate(pairs):
            for bitmap, sign in ((removed, -1), (added, 1)):
                if bitmap:
                    arrays.append(np.frombuffer(bitmap.to_array(), dtype=np.uint32))
                    rows.append(i)
                    signs.append(sign)
        out: list[SourceCounts] = [{} for _ in pairs]
        if not arrays:
            return out
        lengths = np.array([len(a) for a in arrays], dtype=np.int64)
        width = len(self._names) + 1
        keys = np.repeat(np.array(rows, dtype=np.int64), lengths) * width
        keys += self._codes_of(np.concatenate(arrays))
        weights = np.repeat(np.array(signs, dtype=np.int64), lengths)
        tally = np.bincount(keys, weights=weights, minlength=len(pairs) * width)
        tally = tally.astype(np.int64).reshape(len(pairs), width)
        tally[:, 0] = 0  # users with no source are counted nowhere
        for i in np.flatnonzero(tally.any(axis=1)).tolist():
            row = tally[i]
            out[i] = {self._names[code - 1]: int(row[code]) for code in np.flatnonzero(row)}
        return out

    def _codes_of(self, uids: np.ndarray) -> np.ndarray:
        """The source code of each uid (0: none; the index built)."""
        assert self._codes is not None
        codes = np.zeros(len(uids), dtype=np.uint8)
        known = uids < len(self._codes)  # users past the index have no source
        codes[known] = self._codes[uids[known]]
        return codes

    def _tally(self, bitmaps: Sequence[BitMap]) -> list[SourceCounts]:
        """The counts per source of each of ``bitmaps`` (non-empty; the index built): their
        users' codes looked up together, tallied by one ``bincount`` keyed by row and code."""
        arrays = [np.frombuffer(b.to_array(), dtype=np.uint32) for b in bitmaps]
        codes = self._codes_of(arrays[0] if len(arrays) == 1 else np.concatenate(arrays))
        width = len(self._names) + 1
        if len(arrays) == 1:
            tally = np.bincount(codes, minlength=width).reshape(1, width)
        else:
            lengths = np.array([len(a) for a in arrays], dtype=np.int64)
            rows = np.repeat(np.arange(len(arrays), dtype=np.int64), lengths)
            keys = rows * width + codes
            tally = np.bincount(keys, minlength=len(arrays) * width).reshape(len(arrays), width)
        return [
            {self._names[code - 1]: n for code, n in enumerate(row) if code and n}
            for row in tally.tolist()
        ]


TALLY_USERS = 8_000_000
"""Most users :meth:`SourceCounter.rows` tallies at once (a few bytes each, held briefly)."""


def _by_size(wanted: Sequence[int], news: Sequence[BitMap | None]) -> Iterator[list[int]]:
    """Consecutive slices of the row indexes ``wanted`` holding about :data:`TALLY_USERS`
    users each (a larger row makes a slice of its own)."""
    part: list[int] = []
    size = 0
    for i in wanted:
        part.append(i)
        size += len(news[i] or ())
        if size >= TALLY_USERS:
            yield part
            part, size = [], 0
    if part:
        yield part


async def _seen(conn: AsyncConnection, moved: BitMap) -> BitMap:
    """The users of ``moved`` already in the rollups: those in some workspace's all-types,
    all-categories cell (every launch counts in one of them)."""
    c = rollup_cells.c
    stmt = select(c.lifetime_bitmap, c.recent_bitmap).where(
        c.scope.like("ws:%"), c.mp_type == "*", c.category == "*"
    )
    seen = BitMap()
    for row in await conn.execute(stmt):
        seen |= moved & _lifetime(row.lifetime_bitmap, row.recent_bitmap)
    return seen


def _lifetime(base: bytes | None, recent: bytes | None) -> BitMap:
    """A cell's lifetime from its stored base and recent part."""
    lifetime = stored_bitmap(base)
    lifetime |= stored_bitmap(recent)  # in place: the base is the large part
    return lifetime


async def _holding(conn: AsyncConnection, users: BitMap) -> list[tuple[int, BitMap]]:
    """The source cells whose lifetime holds one of ``users``, with their lifetime."""
    c = rollup_cells.c
    found: list[tuple[int, BitMap]] = []
    stmt = select(c.id, c.scope, c.lifetime_bitmap, c.recent_bitmap).where(
        c.scope.like("ws:%") | (c.scope.like("app:%") & ~c.scope.contains("|"))
    )
    result = await conn.stream(stmt)
    async for row in result:
        lifetime = _lifetime(row.lifetime_bitmap, row.recent_bitmap)
        if lifetime.intersect(users):
            found.append((row.id, lifetime))
    return found


async def recount_moved(conn: AsyncConnection, moved: BitMap, counter: SourceCounter) -> int:
    """Recount the stored rows and cells holding users of ``moved`` (whose source changed) with
    the current sources; returns how many rows were recounted.

    Reads only the workspaces' all-types, all-categories lifetimes unless users already in the
    rollups moved (a ``user`` record arriving with or before its user's first events moves none
    of them); then it also reads the source cells' lifetimes once and the new bitmaps of the
    cells holding them.
    """
    seen = await _seen(conn, moved) if moved else BitMap()
    if not seen:
        return 0
    await counter.ready(conn)
    cells = await _holding(conn, seen)
    c, d = rollup_cells.c, rollup_days.c
    totals = [{"cell": cell, "counts": counter.of(users)} for cell, users in cells]
    if totals:
        set_cells = update(rollup_cells).where(c.id == bindparam("cell"))
        await conn.execute(set_cells.values(sources=bindparam("counts")), totals)
    rows: list[dict[str, object]] = []
    for part in batched([cell for cell, _ in cells]):
        stmt = select(d.cell_id, d.day, d.new_bitmap).where(
            d.cell_id.in_(part), d.new_bitmap.is_not(None)
        )
        for row in await conn.execute(stmt):
            new = BitMap.deserialize(row.new_bitmap)
            if new.intersect(seen):
                rows.append({"c": row.cell_id, "d": row.day, "s": counter.of(new)})
    if rows:
        set_days = update(rollup_days).where(d.cell_id == bindparam("c"), d.day == bindparam("d"))
        await conn.execute(set_days.values(new_sources=bindparam("s")), rows)
    return len(rows)


def source_cell_ids(ids: Mapping[CellKey, int]) -> set[int]:
    """The ids of the source cells among ``ids``."""
    return {cell for key, cell in ids.items() if is_source_cell(key)}


def summed_counts(counts: Iterable[Mapping[str, int]]) -> SourceCounts:
    """The per-source sum of ``counts``."""
    out: Counter[str] = Counter()
    for found in counts:
        out.update(found)
    return dict(out)
