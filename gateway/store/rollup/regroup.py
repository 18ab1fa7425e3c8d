"""One coarse cell after a catalog change, corrected in place from what changed under it.

A coarse cell is the union of member cells disjoint in events (:mod:`~gateway.store.rollup.derive`).
When a catalog change moves a few members in or out of it, or corrects some (one step below),
recomputing the union from every member costs a many-way union over the whole cell.
:func:`regroup` corrects the stored state instead, in time that grows with what changed:

- a day's totals change by what its changed members add and remove;
- a user a changed member no longer holds that day (:meth:`Member.lost`) leaves the day only if
  no member gained them, and no member, changed (:meth:`Member.holds`) or not (``keep``), holds
  them: the other members are only intersected with those few candidates;
- a day no member holds any more is dropped;
- only the users whose set of active days changed can change their first day in the cell;
  theirs are found again, every other user keeps theirs.

It returns what it changed (a :class:`Change`), which is how the corrected cell takes part, as a
:class:`Corrected` member, in the correction of the cells above it.

Example (a cell of members ``f`` and ``g``, both holding user 7 on day 1; ``f`` leaves it):

    >>> from pyroaring import BitMap
    >>> f = Stored({1: ([1, 0, 0, 0, 0], BitMap([7]).serialize(), (None, None))})
    >>> g = Stored({1: ([1, 0, 0, 0, 0], BitMap([7, 9]).serialize(), (None, None)),
    ...             2: ([1, 0, 0, 0, 0], BitMap([8]).serialize(), (None, None))})
    >>> cell = CellState(lifetime=BitMap([7, 8, 9]), days={
    ...     1: DayState(sums=[2, 0, 0, 0, 0], active=BitMap([7, 9]), new=BitMap([7, 9])),
    ...     2: DayState(sums=[1, 0, 0, 0, 0], active=BitMap([8]), new=BitMap([8]))})
    >>> change = regroup(cell, [Left(f)], [g])
    >>> cell.days[1].sums, cell.days[1].active, change.days[1].lost
    ([1, 0, 0, 0, 0], BitMap([7, 9]), BitMap([]))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pyroaring import BitMap

from gateway.metrics.portrait import NO_PORTRAIT, Portrait, correct, portrait_of
from gateway.store.rollup.fold import SUMS
from gateway.store.rollup.state import CellState, DayState

EMPTY = BitMap()
"""Shared empty bitmap (never modified)."""


StoredRow = tuple[Sequence[int], bytes | None, Sequence[bytes | None]]
"""A stored day as read: its totals, serialized active bitmap and serialized exceptions of each
portrait dimension."""


@dataclass
class Stored:
    """A stored cell's days as read: each day's totals, serialized active bitmap and exceptions,
    deserialized only when a day's users are asked for."""

    rows: dict[int, StoredRow] = field(default_factory=dict)
    _cache: dict[int, BitMap] = field(default_factory=dict)
    _portraits: dict[int, Portrait] = field(default_factory=dict)

    def portrait(self, day: int) -> Portrait:
        """See :class:`CellContent` (made once, on first use)."""
        found = self._portraits.get(day)
        if found is None:
            row = self.rows.get(day)
            found = self._portraits[day] = NO_PORTRAIT if row is None else portrait_of(row[2])
        return found

    def days(self) -> Iterable[int]:
        """See :class:`CellContent`."""
        return self.rows.keys()

    def sums(self, day: int) -> Sequence[int] | None:
        """See :class:`CellContent`."""
        row = self.rows.get(day)
        return None if row is None else row[0]

    def active(self, day: int) -> BitMap:
        """See :class:`CellContent` (deserialized once, on first use)."""
        found = self._cache.get(day)
        if found is None:
            row = self.rows.get(day)
            raw = None if row is None else row[1]
            found = self._cache[day] = EMPTY if raw is None else BitMap.deserialize(raw)
        return found


@dataclass
class DayChange:
    """What a correction changed on one day of a cell."""

    delta: list[int]
    """Change of each of :data:`SUMS`."""
    lost: BitMap
    """Users the day no longer holds."""
    gained: BitMap
    """Users the day holds and did not."""
    existed: bool
    """Whether the day was stored before."""
    touched: BitMap = field(default_factory=BitMap)
    """Users whose exceptions (:mod:`~gateway.metrics.portrait`) the day may have changed."""


@dataclass
class Change:
    """What :func:`regroup` changed in a cell, by day ordinal."""

    days: dict[int, DayChange] = field(default_factory=dict)
    firsts: dict[int, tuple[BitMap, BitMap]] = field(default_factory=dict)
    """The days whose first-seen users changed: (users no longer first seen that day, users
    now first seen that day)."""


class Member(Protocol):
    """A member whose contribution to the cell changed, seen one day at a time."""

    def days(self) -> Iterable[int]:
        """The days its contribution changed on."""

    def delta(self, day: int) -> Sequence[int] | None:
        """How its totals of ``day`` changed (None: they did not)."""

    def lost(self, day: int) -> BitMap:
        """The users of ``day`` it no longer contributes."""

    def gained(self, day: int) -> BitMap:
        """The users of ``day`` it contributes and did not."""

    def holds(self, day: int) -> BitMap:
        """The users of ``day`` it contributes now."""

    def present(self, day: int) -> bool:
        """Whether it contributes a row for ``day`` now."""

    def portrait(self, day: int) -> Portrait:
        """The exceptions of ``day`` it contributes now."""

    def touched(self, day: int) -> BitMap:
        """The users of ``day`` whose exceptions it contributes may have changed while the
        users it holds did not."""


class CellContent(Protocol):
    """A member's days: what a :class:`Stored` or a state in memory answers."""

    def days(self) -> Iterable[int]:
        """The days it holds a row for."""

    def sums(self, day: int) -> Sequence[int] | None:
        """The totals of ``day`` (None: no row that day)."""

    def active(self, day: int) -> BitMap:
        """The active users of ``day`` (never modified by the caller)."""

    def portrait(self, day: int) -> Portrait:
        """The exceptions of ``day``."""


@dataclass
class InMemory:
    """A :class:`~gateway.store.rollup.state.CellState` seen as :class:`CellContent`."""

    state: CellState

    def days(self) -> Iterable[int]:
        return self.state.days.keys()

    def sums(self, day: int) -> Sequence[int] | None:
        row = self.state.days.get(day)
        return None if row is None else row.sums

    def active(self, day: int) -> BitMap:
        row = self.state.days.get(day)
        return EMPTY if row is None else row.active

    def portrait(self, day: int) -> Portrait:
        row = self.state.days.get(day)
        return NO_PORTRAIT if row is None else row.portrait


@dataclass
class Left:
    """A member that left the cell, with the content it had."""

    content: CellContent

    def days(self) -> Iterable[int]:
        return self.content.days()

    def delta(self, day: int) -> Sequence[int] | None:
        sums = self.content.sums(day)
        return None if sums is None else [-value for value in sums]

    def lost(self, day: int) -> BitMap:
        return self.content.active(day)

    def gained(self, day: int) -> BitMap:
        return EMPTY

    def holds(self, day: int) -> BitMap:
        return EMPTY

    def present(self, day: int) -> bool:
        return False

    def portrait(self, day: int) -> Portrait:
        return NO_PORTRAIT

    def touched(self, day: int) -> BitMap:
        return EMPTY


@dataclass
class Joined:
    """A member that joined the cell, with its content."""

    content: CellContent

    def days(self) -> Iterable[int]:
        return self.content.days()

    def delta(self, day: int) -> Sequence[int] | None:
        return self.content.sums(day)

    def lost(self, day: int) -> BitMap:
        return EMPTY

    def gained(self, day: int) -> BitMap:
        return self.content.active(day)

    def holds(self, day: int) -> BitMap:
        return self.content.active(day)

    def present(self, day: int) -> bool:
        return self.content.sums(day) is not None

    def portrait(self, day: int) -> Portrait:
        return self.content.portrait(day)

    def touched(self, day: int) -> BitMap:
        return EMPTY


@dataclass
class Corrected:
    """A member that stayed and was corrected by :func:`regroup` (its state now, and the
    change)."""

    state: CellState
    change: Change

    def days(self) -> Iterable[int]:
        return self.change.days.keys()

    def delta(self, day: int) -> Sequence[int] | None:
        found = self.change.days.get(day)
        return None if found is None else found.delta

    def lost(self, day: int) -> BitMap:
        found = self.change.days.get(day)
        return EMPTY if found is None else found.lost

    def gained(self, day: int) -> BitMap:
        found = self.change.days.get(day)
        return EMPTY if found is None else found.gained

    def holds(self, day: int) -> BitMap:
        row = self.state.days.get(day)
        return EMPTY if row is None else row.active

    def present(self, day: int) -> bool:
        return day in self.state.days

    def portrait(self, day: int) -> Portrait:
        row = self.state.days.get(day)
        return NO_PORTRAIT if row is None else row.portrait

    def touched(self, day: int) -> BitMap:
        found = self.change.days.get(day)
        return EMPTY if found is None else found.touched


@dataclass
class Before:
    """A corrected member's content before its correction (for a member that also left)."""

    state: CellState
    change: Change

    def days(self) -> Iterable[int]:
        now = (day for day in self.state.days if day not in self.change.days)
        was = (day for day, found in self.change.days.items() if found.existed)
        return [*now, *was]

    def sums(self, day: int) -> Sequence[int] | None:
        found, row = self.change.days.get(day), self.state.days.get(day)
        if found is None:
            return None if row is None else row.sums
        if not found.existed:
            return None
        now = row.sums if row is not None else [0] * len(SUMS)
        return [a - b for a, b in zip(now, found.delta, strict=True)]

    def active(self, day: int) -> BitMap:
        found, row = self.change.days.get(day), self.state.days.get(day)
        now = EMPTY if row is None else row.active
        return now if found is None else (now - found.gained) | found.lost

    def portrait(self, day: int) -> Portrait:
        """Not kept (a member's content before its correction only ever leaves a cell, and a
        member that left contributes no exceptions)."""
        return NO_PORTRAIT


def _union(parts: Sequence[BitMap]) -> BitMap:
    parts = [part for part in parts if part]
    if not parts:
        return BitMap()
    return BitMap(parts[0]) if len(parts) == 1 else BitMap.union(*parts)


def regroup(cell: CellState, changed: Sequence[Member], keep: Sequence[CellContent]) -> Change:
    """Correct ``cell`` in place (see the module docstring): ``changed`` are the members whose
    contribution changed, ``keep`` the unchanged ones. Returns what changed."""
    out = Change()
    moved = BitMap()  # users whose set of active days changed
    days: set[int] = set()
    for member in changed:
        days.update(member.days())
    for day in sorted(days):
        row = cell.days.get(day)
        delta = [0] * len(SUMS)
        touched = present = False
        for member in changed:
            found = member.delta(day)
            if found is not None:
                delta = [a + b for a, b in zip(delta, found, strict=True)]
                touched = True
            present = present or member.present(day)
        if not touched:
            continue
        gained = _union([member.gained(day) for member in changed])
        gone = _union([member.lost(day) for member in changed])
        gone -= gained
        if gone:  # unless another member holds them
            held = [member.holds(day) & gone for member in changed]
            held += [part.active(day) & gone for part in keep if part.sums(day) is not None]
            gone -= _union(held)
        if row is not None and not present:
            present = any(part.sums(day) is not None for part in keep)
        existed = row is not None
        if row is None:
            if not present:
                continue
            row = cell.days[day] = DayState()
        elif not present:  # nothing holds this day any more
            del cell.days[day]
            cell.changed.add(day)
            moved |= row.active
            delta = [-value for value in row.sums]
            out.days[day] = DayChange(delta, row.active, BitMap(), existed=True)
            if row.new:
                out.firsts[day] = (row.new, BitMap())
            continue
        gained -= row.active
        row.sums = [a + b for a, b in zip(row.sums, delta, strict=True)]
        row.active -= gone
        row.active |= gained
        suspects = _touched(day, row.portrait, changed)
        row.portrait = _portrait(day, row, suspects, changed, keep)
        moved |= gone
        moved |= gained
        out.days[day] = DayChange(delta, gone, gained, existed=existed, touched=suspects)
        cell.changed.add(day)
    _first_days(cell, moved, out)
    return out


def _exceptional(portrait: Portrait, among: BitMap) -> BitMap:
    """The users of ``among`` with a launch off their primary in any dimension of ``portrait``."""
    return _union([among & found.users for found in portrait if found is not None])


def _touched(day: int, portrait: Portrait, changed: Sequence[Member]) -> BitMap:
    """The users of a corrected day whose exceptions may change: those a changed member
    gained or lost, or changed the exceptions of, with exceptions in the day before or in
    that member now (anyone else launched on their primaries only, before and after)."""
    out, everyone = BitMap(), BitMap()
    for member in changed:
        moved = member.lost(day) | member.gained(day)
        if moved:
            everyone |= moved
            out |= _exceptional(member.portrait(day), moved)
        out |= member.touched(day)
    if everyone and any(found is not None for found in portrait):
        out |= _exceptional(portrait, everyone)
    return out


def _portrait(
    day: int, row: DayState, touched: BitMap, changed: Sequence[Member], keep: Sequence[CellContent]
) -> Portrait:
    """A corrected day's exceptions: those of ``touched`` users found again from the members
    holding them now (:func:`~gateway.metrics.portrait.correct`), everyone else's kept."""
    if not touched:
        return row.portrait
    parts: list[tuple[BitMap, Portrait]] = []
    holding: list[tuple[BitMap, Member | CellContent]]
    holding = [(m.holds(day), m) for m in changed if m.present(day)]
    holding += [(part.active(day), part) for part in keep if part.sums(day) is not None]
    for active, member in holding:
        seen = active & touched  # a member's exceptions are read only when it holds one of them
        if seen:
            parts.append((seen, member.portrait(day)))
    found = tuple(
        correct(old, touched, row.active, [(active, portrait[i]) for active, portrait in parts])
        for i, old in enumerate(row.portrait)
    )
    return found if any(part is not None for part in found) else NO_PORTRAIT


def _first_days(cell: CellState, moved: BitMap, out: Change) -> None:
    """Find again the first day of the users of ``moved`` (whose active days changed)."""
    if not moved:
        return
    seen, pending = BitMap(), BitMap(moved)  # pending: not seen yet (shrinks, and so the ANDs)
    for day in sorted(cell.days):
        row = cell.days[day]
        fresh = row.active & pending if pending else BitMap()
        pending -= fresh
        seen |= fresh
        left = row.new & moved
        if left != fresh:
            row.new -= left
            row.new |= fresh
            out.firsts[day] = (left - fresh, fresh - left)
            cell.changed.add(day)
    cell.lifetime -= moved
    cell.lifetime |= seen
    cell.grown = cell.whole = True
