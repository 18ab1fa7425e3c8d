"""The vectorized fold: event chunks -> per (cell, day) sums and active-user bitmaps.

Each event is expanded to its ten cells (via its combo's cell numbers), then sorted by
(cell, day): additive columns are summed with ``np.add.reduceat`` and, for launches, each
(cell, day) group's user ids become one roaring bitmap. Python work is per group, not per event.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pyroaring import BitMap

from gateway.store.rollup.catalog import Catalog
from gateway.store.rollup.events import EventChunk, Int64s

SUMS = ("launches", "page_views", "duration_ms", "valid_impressions", "revenue_micros")
"""The additive ``rollup_days`` columns, in the order of :attr:`EventChunk.values`."""


@dataclass
class DayDelta:
    """What new events add to one cell on one day."""

    sums: list[int] = field(default_factory=lambda: [0] * len(SUMS))
    active: BitMap | None = None


@dataclass
class Delta:
    """New events folded per local cell number, then per day ordinal."""

    cells: dict[int, dict[int, DayDelta]] = field(default_factory=dict)
    events: int = 0

    def day(self, cell: int, day: int) -> DayDelta:
        """The delta of ``cell`` on ``day`` (created empty)."""
        days = self.cells.setdefault(cell, {})
        found = days.get(day)
        if found is None:
            found = days[day] = DayDelta()
        return found


def _expand(chunk: EventChunk, catalog: Catalog) -> tuple[Int64s, Int64s, Int64s]:
    """(cell, day, event index) for every event x its ten cells."""
    table = np.array(catalog.combo_cells, dtype=np.int64).reshape(-1, 10)
    cells = table[chunk.combo].ravel()
    index = np.repeat(np.arange(len(chunk.combo), dtype=np.int64), 10)
    return cells, chunk.day[index], index


def _groups(keys: Int64s) -> Int64s:
    """Start offsets of the runs of equal values in sorted ``keys``."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))


def _fold_sums(delta: Delta, cells: Int64s, days: Int64s, values: Int64s) -> None:
    span = int(days.max() - days.min()) + 1
    key = cells * span + (days - days.min())
    order = np.argsort(key, kind="stable")
    starts = _groups(key[order])
    sums = np.add.reduceat(values[order], starts, axis=0)
    for start, row in zip(starts.tolist(), sums.tolist(), strict=True):
        cell, day = int(cells[order[start]]), int(days[order[start]])
        target = delta.day(cell, day).sums
        for column, value in enumerate(row):
            target[column] += value


def _fold_users(delta: Delta, cells: Int64s, days: Int64s, uids: Int64s) -> None:
    order = np.lexsort((uids, days, cells))
    cells, days = cells[order], days[order]
    users = uids[order].astype(np.uint32)
    span = int(days.max() - days.min()) + 1
    starts = _groups(cells * span + (days - days.min()))
    ends = np.append(starts[1:], len(users))
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        target = delta.day(int(cells[start]), int(days[start]))
        bitmap = BitMap(users[start:end])
        if target.active is None:
            target.active = bitmap
        else:
            target.active |= bitmap


def fold_chunk(delta: Delta, chunk: EventChunk, catalog: Catalog) -> None:
    """Add one chunk of events to ``delta``."""
    if len(chunk.combo) == 0:
        return
    cells, days, index = _expand(chunk, catalog)
    _fold_sums(delta, cells, days, chunk.values[index])
    if chunk.kind == "launch":
        _fold_users(delta, cells, days, chunk.uid[index])
    delta.events += len(chunk.combo)
