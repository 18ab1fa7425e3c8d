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

from array import array
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from pyroaring import BitMap

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


def runs(keys: Int64s) -> Int64s:
    """Start offsets of the runs of equal values in sorted ``keys``."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))


def bitmaps(users: Int64s, starts: Int64s) -> list[BitMap]:
    """One bitmap per run of ``users`` (runs begin at ``starts``)."""
    buffer = array("I", users.astype(np.uint32).tobytes())
    bounds = np.append(starts, len(users)).tolist()
    return [BitMap(buffer[a:b]) for a, b in pairwise(bounds)]


def _dense_uids(uids: Int64s) -> tuple[Int64s, Int64s]:
    """(codes, values): uids renumbered 0..k-1 when the packed keys would overflow."""
    values, codes = np.unique(uids, return_inverse=True)
    return codes.reshape(-1).astype(np.int64), values.astype(np.int64)


def _distinct_sorted(keys: Int64s) -> Int64s:
    # np.sort + run starts: much faster than np.unique (which hashes) on millions of keys.
    ordered = np.sort(keys)
    return ordered[runs(ordered)]


def slot_users(cd: Int64s, uids: Int64s, span: int) -> SlotUsers:
    """User sets from launches given as packed (cell, day) = ``cell * span + day`` and uid."""
    values: Int64s | None = None
    width = int(uids.max()) + 1 if len(uids) else 1
    if (int(cd.max()) // span + 1 if len(cd) else 1) * span * width >= LIMIT:
        uids, values = _dense_uids(uids)
        width = len(values)
    keys = _distinct_sorted(cd * width + uids)  # (cell, day, uid)
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

    def users(some: Int64s) -> Int64s:
        return some if values is None else values[some]

    return SlotUsers(
        active_keys=cd[active_starts],
        active=bitmaps(users(codes), active_starts),
        new_keys=new_cd[new_starts],
        new=bitmaps(users(new % width), new_starts),
        lifetime=dict(
            zip(cells[cell_starts].tolist(), bitmaps(users(pair_codes), cell_starts), strict=True)
        ),
    )
