"""The vectorized fold: events -> per (cell, day) sums and user bitmaps, all kinds at once.

Sums: events are first summed per (combo, day) (a combo = app x mini program x data type), then
each combo-day row is sent to its ten cells (one "slot" at a time; slots hold disjoint cells) and
summed per (cell, day) with ``np.add.reduceat`` over sorted packed keys. Launches also give each
(cell, day) its active users, each cell its users' first days and its lifetime users
(:mod:`~gateway.store.rollup.users`). Python work is per output row, never per event.

A full rebuild writes the result as is (first days within all events are the first days), or,
folding a range of days at a time, each range's result after :meth:`Seen.follow` made it continue
the ranges before; an incremental refresh turns it into a :class:`Delta` applied to the stored
state (:mod:`~gateway.store.rollup.state`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from pyroaring import BitMap

from gateway.metrics.arrays import distinct, distinct_sorted, runs
from gateway.metrics.exceptions import Exceptions
from gateway.metrics.portrait import NO_PORTRAIT, Portrait, exceptions_from, key_pairs
from gateway.store.rollup.catalog import Catalog
from gateway.store.rollup.events import EventChunk, Int64s
from gateway.store.rollup.primaries import DIMENSIONS, Primaries
from gateway.store.rollup.users import SlotUsers, slot_users

SUMS = ("launches", "page_views", "duration_ms", "valid_impressions", "revenue_micros")
"""The additive ``rollup_days`` columns, in the order of :attr:`EventChunk.values`."""
SLOTS = 10


@dataclass
class DayDelta:
    """What new events add to one cell on one day."""

    sums: list[int] = field(default_factory=lambda: [0] * len(SUMS))
    active: BitMap | None = None
    portrait: Portrait = NO_PORTRAIT


@dataclass
class Delta:
    """New events folded per local cell number, then per day ordinal."""

    cells: dict[int, dict[int, DayDelta]] = field(default_factory=dict)
    events: int = 0


@dataclass
class Folded:
    """The (cell, day) rows of a set of events (one row per pair with events).

    Attributes:
        cell: Local cell number of each row (see :class:`Catalog`).
        day: Day ordinal of each row.
        sums: The :data:`SUMS` of each row, shape (rows, 5).
        active: Active users of each row (None: no launch that day).
        new: Users whose first launch in the cell among these events is that day (or None).
        lifetime: Cell -> every user with a launch in it among these events.
        events: Number of events folded.
        portrait: The exceptions of each row (:mod:`~gateway.metrics.portrait`).
    """

    cell: Int64s
    day: Int64s
    sums: Int64s
    active: list[BitMap | None]
    new: list[BitMap | None]
    lifetime: dict[int, BitMap]
    events: int
    portrait: list[Portrait] = field(default_factory=list)

    def delta(self) -> Delta:
        """The rows as a :class:`Delta` (for an incremental refresh)."""
        out = Delta(events=self.events)
        rows = zip(
            self.cell.tolist(), self.day.tolist(), self.sums.tolist(), self.active,
            self.portrait or [NO_PORTRAIT] * len(self.active), strict=True,
        )  # fmt: skip
        for cell, day, sums, active, portrait in rows:
            out.cells.setdefault(cell, {})[day] = DayDelta(sums, active, portrait)
        return out


@dataclass
class Seen:
    """Each cell's users in the ranges of days a full rebuild folded so far, oldest first.

    Attributes:
        users: Local cell number -> its users so far (its lifetime once every range is folded).
        grown: Cells whose users grew after the range that first had them, so the lifetime
            written with that range's cells is behind (written again at the end).
    """

    users: dict[int, BitMap] = field(default_factory=dict)
    grown: set[int] = field(default_factory=set)

    def follow(self, folded: Folded) -> None:
        """Make ``folded``, the fold of days after every range folded so far, continue them: a
        user seen before in a cell is not new there, and ``folded.lifetime`` becomes each of its
        cells' users so far (first days stay exact: every earlier day precedes these)."""
        for row, cell in enumerate(folded.cell.tolist()):
            new, before = folded.new[row], self.users.get(cell)
            if new is not None and before is not None:
                folded.new[row] = new - before
        for cell, users in folded.lifetime.items():
            before = self.users.get(cell)
            if before is None:
                self.users[cell] = users
                continue
            if not users <= before:
                before |= users
                self.grown.add(cell)
            folded.lifetime[cell] = before


def group_sums(keys: Int64s, values: Int64s) -> tuple[Int64s, Int64s]:
    """Distinct non-negative ``keys`` (ascending) and the sums of ``values`` (n, k) per key.

    Exact integer sums (``np.add.at``), column by column, skipping all-zero columns.
    """
    if len(keys) == 0:
        return keys, np.zeros((0, values.shape[1]), dtype=np.int64)
    unique, inverse = distinct(keys)
    sums = np.zeros((values.shape[1], len(unique)), dtype=np.int64)
    for column in range(values.shape[1]):
        part = values[:, column]
        if part.any():
            # Values are bounded per record, so this only trips past ~10^9 maximal records in
            # one batch; then it refuses loudly instead of wrapping to a negative sum. The
            # column's total (in floating point, ample for a bound) bounds every group's sum.
            if float(part.sum(dtype=np.float64)) >= _SAFE_TOTAL or int(part.min()) < 0:
                raise OverflowError(f"a sum of {len(part)} values may pass 64 bits")
            np.add.at(sums[column], inverse, part)
    return unique, sums.T


_SAFE_TOTAL = float(2**62)  # half the int64 range: float rounding never matters below it


def combo_days(chunks: list[EventChunk], first: int, span: int) -> tuple[Int64s, Int64s]:
    """Packed ``combo * span + day - first`` keys (distinct, ascending) with their summed
    values, all kinds together."""
    keys, values = [], []
    for chunk in chunks:
        k, v = group_sums(chunk.combo * span + (chunk.day - first), chunk.values)
        keys.append(k)
        values.append(v)
    return group_sums(np.concatenate(keys), np.concatenate(values))


def _place(target: Int64s, keys: Int64s, items: list[BitMap]) -> list[BitMap | None]:
    """``items`` (one per key) at the positions of their keys in ``target``; None elsewhere."""
    out: list[BitMap | None] = [None] * len(target)
    for position, item in zip(np.searchsorted(target, keys).tolist(), items, strict=True):
        out[position] = item
    return out


@dataclass
class _Offs:
    """The launches' portrait values and whether each is off its user's primary (per
    dimension), and the flags :func:`~gateway.store.rollup.users.slot_users` takes."""

    values: list[Int64s]
    off: list[npt.NDArray[np.bool_]]
    flags: Int64s


def _offs(launches: EventChunk, primaries: Mapping[str, Primaries]) -> _Offs:
    values, off = [], []
    flags = np.zeros(len(launches.uid), dtype=np.int64)
    for bit, name in enumerate(DIMENSIONS):
        found = getattr(launches, name)
        if found is None or not len(found):
            found = np.zeros(len(launches.uid), dtype=np.int64)
        away = found != primaries[name].of(launches.uid)
        flags |= away.astype(np.int64) << bit
        values.append(found)
        off.append(away)
    return _Offs(values, off, flags)


def _slot_exceptions(
    cd: Int64s, launches: EventChunk, offs: _Offs, users: SlotUsers
) -> list[dict[int, Exceptions]]:
    """The exceptions of each packed (cell, day) of one slot, per dimension: the pairs of the
    users off their primary and those only off it (found with the active users,
    :attr:`SlotUsers.only`)."""
    return [
        exceptions_from(only, key_pairs(cd[off], launches.uid[off], values[off]))
        for only, off, values in zip(users.only, offs.off, offs.values, strict=True)
    ]


@dataclass
class LaunchFold:
    """The launches' part of a fold (most of its time): per slot, the users of its (cell, day)
    keys and their exceptions, keys packed as ``cell * span + day - first``.

    Apart from the sums so that it can run in a thread while the other kinds are read
    (:func:`fold_launches`, then :func:`fold` with it)."""

    first: int
    span: int
    users: list[SlotUsers]
    exceptions: list[list[dict[int, Exceptions]] | None]


def _table(catalog: Catalog) -> Int64s:
    return np.array(catalog.combo_cells, dtype=np.int64).reshape(-1, SLOTS)


def fold_launches(
    launches: EventChunk,
    catalog: Catalog,
    first: int,
    span: int,
    primaries: Mapping[str, Primaries] | None = None,
) -> LaunchFold:
    """The :class:`LaunchFold` of ``launches`` dated from ``first`` to ``first + span``
    (exclusive); with ``primaries`` (every launch's user has one), their exceptions too."""
    table = _table(catalog)
    offs = None if primaries is None else _offs(launches, primaries)
    out = LaunchFold(first, span, [], [])
    for slot in range(SLOTS):
        cd = table[launches.combo, slot] * span + (launches.day - first)
        users = slot_users(cd, launches.uid, span, None if offs is None else offs.flags)
        out.users.append(users)
        out.exceptions.append(None if offs is None else _slot_exceptions(cd, launches, offs, users))
    return out


def _ordered(cell_keys: Int64s, found: list[dict[int, Exceptions]] | None) -> list[Portrait]:
    """The portraits of ``cell_keys``, in their order."""
    if found is None or not any(found):
        return [NO_PORTRAIT] * len(cell_keys)
    return [tuple(part.get(key) for part in found) for key in cell_keys.tolist()]


def _no_launches() -> EventChunk:
    return EventChunk("launch", *(np.zeros(0, np.int64),) * 3, np.zeros((0, 5), np.int64))


def fold(
    chunks: list[EventChunk],
    catalog: Catalog,
    primaries: Mapping[str, Primaries] | None = None,
    launched: LaunchFold | None = None,
    summed: tuple[Int64s, Int64s] | None = None,
) -> Folded:
    """Fold events of every kind (one chunk per kind) into (cell, day) rows; with
    ``primaries`` (every launch's user has one), the rows' exceptions too. ``launched``: the
    launches' part, when done already (:func:`fold_launches`, dated over every chunk's days);
    ``summed``: with it, the chunks' :func:`combo_days` over the same days, when done already."""
    events = sum(len(chunk.combo) for chunk in chunks)
    nonempty = [chunk for chunk in chunks if len(chunk.combo)]
    if not nonempty:
        empty = np.zeros(0, dtype=np.int64)
        return Folded(empty, empty, np.zeros((0, len(SUMS)), np.int64), [], [], {}, events)
    first = min(int(chunk.day.min()) for chunk in nonempty)
    span = max(int(chunk.day.max()) for chunk in nonempty) - first + 1
    if launched is None:
        if summed is not None:
            raise ValueError("summed combo days come with the launches' fold of the same days")
        launches = next((c for c in nonempty if c.kind == "launch"), _no_launches())
        launched = fold_launches(launches, catalog, first, span, primaries)
    elif not launched.first <= first or first + span > launched.first + launched.span:
        raise ValueError("the launches were folded over fewer days than the events hold")
    first, span = launched.first, launched.span
    table = _table(catalog)
    combo_keys, combo_values = combo_days(nonempty, first, span) if summed is None else summed
    keys, sums, active, new, lifetime = [], [], [], [], {}
    portrait: list[Portrait] = []
    for slot in range(SLOTS):
        cell_keys, slot_sums = group_sums(
            table[combo_keys // span, slot] * span + combo_keys % span, combo_values
        )
        users = launched.users[slot]
        keys.append(cell_keys)
        sums.append(slot_sums)
        active += _place(cell_keys, users.active_keys, users.active)
        new += _place(cell_keys, users.new_keys, users.new)
        lifetime.update(users.lifetime)
        portrait += _ordered(cell_keys, launched.exceptions[slot])
    all_keys = np.concatenate(keys)
    return Folded(
        cell=all_keys // span,
        day=all_keys % span + first,
        sums=np.concatenate(sums),
        active=active,
        new=new,
        lifetime=lifetime,
        events=events,
        portrait=portrait,
    )


def first_days(keys: Int64s, first: int, span: int, catalog: Catalog) -> dict[int, int]:
    """Each local cell of the packed (combo, day) ``keys`` of :func:`combo_days` and the
    earliest day (ordinal) of its events: the rows a refresh loads, known before the launches
    are folded."""
    if not len(keys):
        return {}
    starts = runs(keys // span)  # each combo's earliest day first
    combos, earliest = keys[starts] // span, keys[starts] % span
    cells = distinct_sorted((_table(catalog)[combos] * span + earliest[:, None]).reshape(-1))
    cell_starts = runs(cells // span)
    return dict(
        zip(
            (cells[cell_starts] // span).tolist(),
            (cells[cell_starts] % span + first).tolist(),
            strict=True,
        )
    )
