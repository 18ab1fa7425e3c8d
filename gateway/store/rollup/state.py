"""Applying a delta to a cell's stored days, keeping first-seen days exact.

Invariants of a cell (checked by the brute-force tests):

- ``lifetime`` = every user with a launch in the cell, on any day.
- ``new`` bitmaps are disjoint across days, their union is ``lifetime``, and a user is in the
  ``new`` bitmap of the earliest day they launched in the cell.

A delta day ``d`` with active users ``A``: users of ``A`` not in ``lifetime`` are new on ``d``.
Users of ``A`` already seen whose recorded first day is *after* ``d`` (a late event) move to
``d``: removed from that later day's ``new`` bitmap and added to ``d``'s. Delta days are applied
in increasing order, so a user active on several delta days ends up new on the first of them.
Only stored days on or after the delta's first day can hold a first day after some ``d``, so the
refresh loads exactly those (plus ``lifetime``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pyroaring import BitMap

from gateway.metrics.portrait import NO_PORTRAIT, Portrait, merge, portrait_of, stored
from gateway.store.rollup.fold import SUMS, DayDelta


@dataclass
class DayState:
    """One stored or new ``rollup_days`` row of a cell."""

    sums: list[int] = field(default_factory=lambda: [0] * len(SUMS))
    active: BitMap = field(default_factory=BitMap)
    new: BitMap = field(default_factory=BitMap)
    new_sources: str | None = None
    """The stored per-source counts of ``new`` (source cells only, see
    :mod:`~gateway.store.rollup.source_counts`), as loaded."""
    stored_portrait: Sequence[bytes | None] = ()
    """The day's exception columns as loaded, read only when :attr:`portrait` is first used."""
    _portrait: Portrait | None = field(default=None, repr=False)

    @property
    def portrait(self) -> Portrait:
        """The day's exceptions of each portrait dimension (:mod:`~gateway.metrics.portrait`)."""
        if self._portrait is None:
            self._portrait = portrait_of(self.stored_portrait)
        return self._portrait

    @portrait.setter
    def portrait(self, value: Portrait) -> None:
        self._portrait = value

    def portrait_columns(self) -> Sequence[bytes | None]:
        """The exception columns to store: as loaded while :attr:`portrait` was not used."""
        if self._portrait is None:
            return self.stored_portrait or (None,) * len(NO_PORTRAIT)
        return [stored(found) for found in self._portrait]


@dataclass
class CellState:
    """A cell's users ever seen, and its days on or after the delta's first day."""

    lifetime: BitMap = field(default_factory=BitMap)
    days: dict[int, DayState] = field(default_factory=dict)
    grown: bool = False
    """True once ``lifetime`` gained users (only then is it written back)."""
    recent: BitMap = field(default_factory=BitMap)
    """The part of ``lifetime`` stored apart from its base (``recent_bitmap``), with the users
    the delta added: what an incremental refresh writes instead of the whole lifetime."""
    base: int = 0
    """How many users the stored base (``lifetime_bitmap``) holds."""
    sources: str | None = None
    """The stored per-source counts of ``lifetime`` (source cells only), as loaded."""
    whole: bool = False
    """True when ``lifetime`` may have lost users (a catalog change): written whole, never as
    a recent part."""
    changed: set[int] = field(default_factory=set)
    """The days a delta changed: its own, and later ones whose first-seen users moved earlier
    (only those rows are written back)."""

    @property
    def last_new_day(self) -> int | None:
        """The latest loaded day with a first-seen user, if any."""
        return max((day for day, row in self.days.items() if row.new), default=None)


def _move_earlier(state: CellState, day: int, row: DayState, seen: BitMap) -> None:
    for later, other in state.days.items():
        if later > day and other.new:
            moved = other.new & seen
            if moved:
                other.new -= moved
                row.new |= moved
                state.changed.add(later)


def apply_delta(state: CellState, delta: dict[int, DayDelta]) -> None:
    """Fold one cell's delta (by day ordinal) into its state."""
    last_new = state.last_new_day
    for day in sorted(delta):
        change = delta[day]
        row = state.days.get(day)
        if row is None:
            row = state.days[day] = DayState()
        state.changed.add(day)
        row.sums = [a + b for a, b in zip(row.sums, change.sums, strict=True)]
        if change.active is None:
            continue
        if any(change.portrait) or any(row.portrait):
            row.portrait = tuple(
                merge(row.active, mine, change.active, other)
                for mine, other in zip(row.portrait, change.portrait, strict=True)
            )
        row.active |= change.active
        seen = change.active & state.lifetime
        if seen and last_new is not None and last_new > day:
            _move_earlier(state, day, row, seen)
        fresh = change.active - state.lifetime
        if fresh:
            row.new |= fresh
            state.lifetime |= fresh
            state.recent |= fresh
            state.grown = True
            last_new = day if last_new is None else max(last_new, day)
