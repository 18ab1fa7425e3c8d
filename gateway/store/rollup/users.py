"""Vectorized user sets of one cell slot: active users per day, first-seen day, lifetime.

The input is every launch mapped to its cell in one slot (slots hold disjoint cells, see
:func:`~gateway.metrics.cells.event_cells`). Triples (cell, day, uid) are packed into one int64
key and sorted once; then:

- active users of (cell, day) = the uids of its run of keys;
- a user's first day in a cell = the day of the first key of its (cell, uid) pair, found with a
  stable sort by (cell, uid) (keys are already in day order within a pair);
- lifetime users of a cell = its distinct (cell, uid) pairs.

Python work is one roaring bitmap per run, built from a slice of a uint32 buffer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pyroaring import BitMap

from gateway.metrics.arrays import bitmaps, distinct, distinct_sorted, runs
from gateway.metrics.portrait import lone_runs
from gateway.store.rollup.events import Int64s

LIMIT = 1 << 62
"""Packed keys stay below this (int64 with room to spare)."""


@dataclass
class SlotUsers:
    """User sets of one slot's cells.

    Attributes:
        active_keys: Packed (cell, day) of each active run, ascending.
        active: The active-user bitmap of each run.
        new_keys: Packed (cell, day) of each day with first-seen users, ascending.
        new: The first-seen bitmap of each of those days.
        lifetime: Cell -> every user seen in it.
    """

    active_keys: Int64s
    active: list[BitMap]
    new_keys: Int64s
    new: list[BitMap]
    lifetime: dict[int, BitMap]
    only: list[tuple[Int64s, list[BitMap]]] = field(default_factory=list)
    """With launch flags, per portrait dimension: packed (cell, day) of each run with users
    whose launches there were all off their primary, and those users' bitmap."""


FLAG_BITS = 2
"""Launch flags: bit ``d`` set when the launch is off its user's primary in dimension ``d``."""


def slot_users(cd: Int64s, uids: Int64s, span: int, flags: Int64s | None = None) -> SlotUsers:
    """User sets from launches given as packed (cell, day) = ``cell * span + day`` and uid;
    with each launch's ``flags`` (:data:`FLAG_BITS`), the users only off their primary too."""
    values: Int64s | None = None
    width = int(uids.max()) + 1 if len(uids) else 1
    scale = 1 << FLAG_BITS if flags is not None else 1
    if (int(cd.max()) // span + 1 if len(cd) else 1) * span * width * scale >= LIMIT:
        values, uids = distinct(uids)  # uids renumbered 0..k-1: the packed keys fit
        width = len(values)

    def users(some: Int64s) -> Int64s:
        return some if values is None else values[some]

    only: list[tuple[Int64s, list[BitMap]]] = []
    if flags is None:
        keys = distinct_sorted(cd * width + uids)  # (cell, day, uid)
    else:  # (cell, day, uid, flags): a (cell, day, uid) run holds its launches' distinct flags
        keys, lone = lone_runs(
            distinct_sorted((cd * width + uids) * scale + flags), FLAG_BITS, width
        )
        only = [(cds, bitmaps(users(held), starts)) for cds, held, starts in lone]
    cd, codes = keys // width, keys % width
    active_starts = runs(cd)
    by_user = np.sort(((cd // span) * width + codes) * span + cd % span)  # (cell, uid, day)
    pairs = by_user // span
    pair_starts = runs(pairs)
    pairs, first_day = pairs[pair_starts], by_user[pair_starts] % span
    cells, pair_codes = pairs // width, pairs % width
    new = np.sort((cells * span + first_day) * width + pair_codes)  # (cell, first day, uid)
    new_cd = new // width
    new_starts, cell_starts = runs(new_cd), runs(cells)
    return SlotUsers(
        active_keys=cd[active_starts],
        active=bitmaps(users(codes), active_starts),
        new_keys=new_cd[new_starts],
        new=bitmaps(users(new % width), new_starts),
        lifetime=dict(
            zip(cells[cell_starts].tolist(), bitmaps(users(pair_codes), cell_starts), strict=True)
        ),
        only=only,
    )
