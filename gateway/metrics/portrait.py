"""The users' platforms and regions per cell and day, as exceptions to each user's primary value.

``usersByPlatform`` / ``usersByRegion`` (SPEC §4) count, per value, the users of the range with a
launch on that value. Storing a bitmap per value for every cell and day would double the rollups;
almost every user launches on one device from one country, so instead:

- each user has a *primary* value per dimension (:mod:`gateway.store.rollup.primaries`): the
  value of their first folded launch, kept for ever (``Π_v``: the users whose primary is ``v``);
- each (cell, day) stores its :class:`Exceptions` (a few percent of its users): ``off``, per
  value, the users with a launch on it that is not their primary, and ``only``, the users whose
  launches that day were all off their primary.

Over a range with active users ``U`` (the union of the days' ``A``), the users never on their
primary are ``F = C - ∪((A ∩ C) - only)`` with ``C = ∪ only``, and

    users(v) = |U ∩ Π_v| - |F ∩ Π_v| + |∪ off[v]|

(:func:`count_values`). Exceptions of parts disjoint in events (a stored day and new events, the
members of a coarse cell) combine with their active sets (:func:`merge`).

Example (user 1's primary is 0, user 2's is 1; on day 5 user 1 launched on 0 and 1, user 2
only on 0):

    >>> day = Exceptions({1: BitMap([1]), 0: BitMap([2])}, BitMap([2]))
    >>> count_values([(BitMap([1, 2]), day)], BitMap([1, 2]), {0: BitMap([1]), 1: BitMap([2])})
    {0: 2, 1: 1}
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt
from pyroaring import BitMap

from gateway.metrics.arrays import bitmaps, distinct, distinct_sorted, runs
from gateway.metrics.breakdown import Breakdown, ShareBase, breakdown

Int64s = npt.NDArray[np.int64]
Off = dict[int, BitMap]
"""Value -> the users with a launch on it that is not their primary (no empty bitmap)."""

_HEADER = struct.Struct("<II")
_ENTRY = struct.Struct("<II")


class Exceptions:
    """One dimension's exceptions of a (cell, day) (see the module docstring).

    Attributes:
        off: Value -> the users with a launch on that value that is not their primary.
        only: The users with no launch on their primary that day.

    Made from stored bytes (:meth:`deserialize`), it is read only when first used and written
    back as the same bytes; its sets are not modified once it is handed on.
    """

    __slots__ = ("_off", "_only", "_raw", "_users")

    def __init__(self, off: Off | None = None, only: BitMap | None = None) -> None:
        self._off: Off | None = {} if off is None else {v: b for v, b in off.items() if b}
        self._only: BitMap | None = BitMap() if only is None else only
        self._raw: bytes | None = None
        self._users: BitMap | None = None

    @property
    def off(self) -> Off:
        """See the class docstring."""
        if self._off is None:
            self._load()
        assert self._off is not None
        return self._off

    @property
    def only(self) -> BitMap:
        """See the class docstring."""
        if self._only is None:
            self._load()
        assert self._only is not None
        return self._only

    @property
    def users(self) -> BitMap:
        """The users with a launch off their primary (those of ``off``; ``only`` is among them)."""
        if self._users is None:
            if self._raw is not None and self._off is None:  # read it alone
                (size, _) = _HEADER.unpack_from(self._raw)
                self._users = BitMap.deserialize(self._raw[_HEADER.size : _HEADER.size + size])
            else:
                self._users = _union(list(self.off.values()))
        return self._users

    @property
    def raw(self) -> bytes | None:
        """The stored bytes it was made from (None when made in memory)."""
        return self._raw

    def _load(self) -> None:
        raw = self._raw
        assert raw is not None
        (skip, size) = _HEADER.unpack_from(raw)
        start = _HEADER.size + skip
        self._only = BitMap.deserialize(raw[start : start + size])
        start += size
        off: Off = {}
        while start < len(raw):
            value, size = _ENTRY.unpack_from(raw, start)
            start += _ENTRY.size
            off[value] = BitMap.deserialize(raw[start : start + size])
            start += size
        self._off = off

    def __bool__(self) -> bool:
        return bool(self.off) or bool(self.only)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Exceptions):
            return NotImplemented
        return self.off == other.off and self.only == other.only

    def __repr__(self) -> str:
        return f"Exceptions({self.off!r}, {self.only!r})"

    def serialize(self) -> bytes:
        """Stored form: the lengths of the bytes of :attr:`users` and ``only``, those two
        bitmaps (:attr:`users` first, so that it can be read alone), then for each value of
        ``off`` (ascending) the value, the length of its bitmap's bytes and the bitmap."""
        if self._raw is not None:
            return self._raw
        users, only = self.users.serialize(), self.only.serialize()
        parts = [_HEADER.pack(len(users), len(only)), users, only]
        for value in sorted(self.off):
            held = self.off[value].serialize()
            parts += [_ENTRY.pack(value, len(held)), held]
        return b"".join(parts)

    @classmethod
    def deserialize(cls, raw: bytes) -> Exceptions:
        """Inverse of :meth:`serialize` (read on first use)."""
        found = cls.__new__(cls)
        found._raw, found._users, found._off, found._only = raw, None, None, None
        return found


def _union(parts: Sequence[BitMap]) -> BitMap:
    """The union of ``parts`` (one of them when it is the only one: sets are not modified once
    handed on, see :class:`Exceptions`)."""
    parts = [part for part in parts if part]
    if not parts:
        return BitMap()
    return parts[0] if len(parts) == 1 else BitMap.union(*parts)


def _unite_offs(offs: Sequence[Off]) -> Off:
    """The users of each value over ``offs``."""
    if len(offs) == 1:
        return dict(offs[0])
    if len(offs) == 2:  # a stored day and new launches: most values are in one of them only
        out, other = dict(offs[0]), offs[1]
        for value, users in other.items():
            mine = out.get(value)
            out[value] = users if mine is None else mine | users
        return out
    by_value: dict[int, list[BitMap]] = {}
    for off in offs:
        for value, users in off.items():
            by_value.setdefault(value, []).append(users)
    return {value: _union(users) for value, users in by_value.items()}


def within(found: Exceptions | None, users: BitMap) -> Exceptions | None:
    """The exceptions of ``users`` in ``found``."""
    if found is None or not found.users.intersect(users):
        return None
    off = {v: inside for v, b in found.off.items() if (inside := b & users)}
    return Exceptions(off, found.only & users) if off else None


def without(found: Exceptions | None, users: BitMap) -> Exceptions | None:
    """The exceptions of every user but ``users`` in ``found``."""
    if found is None or not found.users.intersect(users):
        return found
    return Exceptions({v: b - users for v, b in found.off.items()}, found.only - users) or None


def correct(
    found: Exceptions | None,
    users: BitMap,
    active: BitMap,
    parts: Sequence[tuple[BitMap, Exceptions | None]],
) -> Exceptions | None:
    """The exceptions of a union of parts disjoint in events (each its active users and
    exceptions) whose exceptions were ``found`` before some parts changed, with ``users`` the
    users whose exceptions may have changed and ``active`` the union's users now: every other
    user's are kept, those of ``users`` are found again from the parts holding them."""
    if not users:
        return found
    offs: list[Off] = []
    on = BitMap()
    for part_active, part in parts:
        seen = part_active & users
        if not seen:
            continue
        mine = within(part, seen)
        if mine is not None:
            offs.append(mine.off)
            seen -= mine.only
        on |= seen
    now = Exceptions(_unite_offs(offs), (active & users) - on) if offs else None
    if now == within(found, users):  # unchanged: kept as stored (not read, not rewritten)
        return found
    kept = without(found, users)
    if kept is None:
        return now
    if now is None:
        return kept
    return Exceptions(_unite_offs([kept.off, now.off]), kept.only | now.only)


Portrait = tuple[Exceptions | None, ...]
"""A (cell, day)'s exceptions of each portrait dimension, platform then region (as
:data:`~gateway.store.rollup.primaries.DIMENSIONS`)."""
NO_PORTRAIT: Portrait = (None, None)


def portrait_of(raws: Sequence[bytes | None]) -> Portrait:
    """The portrait of a day's stored exception columns."""
    return NO_PORTRAIT if not any(raws) else tuple(loaded(raw) for raw in raws)


def unite_portraits(actives: Sequence[BitMap], portraits: Sequence[Portrait]) -> Portrait:
    """The portrait of the union of parts disjoint in events (each its active users and
    portrait), dimension by dimension (:func:`unite`)."""
    if not any(any(portrait) for portrait in portraits):
        return NO_PORTRAIT
    return tuple(
        unite([(active, portrait[i]) for active, portrait in zip(actives, portraits, strict=True)])
        for i in range(len(NO_PORTRAIT))
    )


def stored(value: Exceptions | None) -> bytes | None:
    """The column value of ``value`` (null when there is nothing to store; the bytes it was
    read from, unread, when it was loaded)."""
    if value is None:
        return None
    return value.raw if value.raw is not None else (value.serialize() if value else None)


def loaded(raw: bytes | None) -> Exceptions | None:
    """The exceptions a column holds (None for null)."""
    return None if raw is None else Exceptions.deserialize(raw)


def merge(
    active: BitMap, mine: Exceptions | None, other_active: BitMap, other: Exceptions | None
) -> Exceptions | None:
    """The exceptions of two parts disjoint in events, each with its active users: a user is
    off their primary in the whole when they are in one part and off there, and in the other
    part not at all or off there too."""
    if not mine and not other:
        return None
    a, b = mine or Exceptions(), other or Exceptions()
    only = (a.only - other_active) | (a.only & b.only) | (b.only - active)
    return Exceptions(_unite_offs([a.off, b.off]), only)


def unite(parts: Sequence[tuple[BitMap, Exceptions | None]]) -> Exceptions | None:
    """The exceptions of the union of ``parts`` disjoint in events (each its active users and
    exceptions), as :func:`merge` of all of them at once: the ``only`` users of a part are
    checked against the other parts' actives only when some part has any."""
    found = [(active, e) for active, e in parts if e]
    if not found:
        return None
    off = _unite_offs([e.off for _, e in found])
    onlys = [e.only for _, e in found if e.only]
    if not onlys:
        return Exceptions(off)
    candidates = _union(onlys)
    on = BitMap()
    for active, e in parts:
        seen = active & candidates
        if seen:
            on |= seen - e.only if e is not None else seen
    return Exceptions(off, candidates - on)


def count_values(
    days: Sequence[tuple[BitMap, Exceptions | None]],
    users: BitMap,
    primaries: Mapping[int, BitMap],
) -> dict[int, int]:
    """Users per value (non-zero counts) over ``days`` whose active users unite to ``users``,
    with ``primaries`` the users of each primary value."""
    found = unite(days) or Exceptions()
    counts: dict[int, int] = {}
    for value, members in primaries.items():
        held = users.intersection_cardinality(members)
        if held and found.only:
            held -= found.only.intersection_cardinality(members)
        if held:
            counts[value] = held
    for value, off in found.off.items():
        counts[value] = counts.get(value, 0) + len(off)
    return counts


LIMIT = 1 << 62
"""Packed keys stay below this (int64 with room to spare)."""

Groups = tuple[Int64s, list[BitMap]]
"""Packed group keys ascending, and one user bitmap per group."""


def value_users(keys: Int64s, users: Int64s, values: Int64s) -> tuple[Int64s, Int64s, list[BitMap]]:
    """The distinct users of each (key, value) of launches off their users' primary: the keys
    and values of the groups, ascending, and each group's users (by sorting, never hashing)."""
    if not len(keys):
        return keys, values, []
    top_value, width = int(values.max()) + 1, int(users.max()) + 1
    if (int(keys.max()) + 1) * top_value * width < LIMIT:
        packed = distinct_sorted((keys * top_value + values) * width + users)
        groups = packed // width
        starts = runs(groups)
        return (
            groups[starts] // top_value,
            groups[starts] % top_value,
            bitmaps(packed % width, starts),
        )
    order = np.lexsort((users, values, keys))
    keys, values, users = keys[order], values[order], users[order]
    group = np.concatenate(([True], (keys[1:] != keys[:-1]) | (values[1:] != values[:-1])))
    starts = np.flatnonzero(group)
    return keys[starts], values[starts], bitmaps(users, starts)


def exceptions_from(
    only: Groups, off: tuple[Int64s, Int64s, list[BitMap]]
) -> dict[int, Exceptions]:
    """Each key's exceptions from its groups: the users only off their primary per key
    (:func:`only_users`), the users off it per (key, value) (:func:`value_users`)."""
    found: dict[int, Off] = {}
    for key, value, held in zip(off[0].tolist(), off[1].tolist(), off[2], strict=True):
        found.setdefault(key, {})[value] = held
    lone = dict(zip(only[0].tolist(), only[1], strict=True))
    return {key: Exceptions(values, lone.get(key)) for key, values in found.items()}


def lone_runs(
    flagged: Int64s, bits: int, width: int
) -> tuple[Int64s, list[tuple[Int64s, Int64s, Int64s]]]:
    """Of the sorted distinct ``(key * width + user) << bits | flags`` of some launches (flag bit
    ``d`` set when a launch is off its user's primary in dimension ``d``): the distinct
    ``key * width + user``, and per bit the users all of whose launches under a key have it,
    as the keys, the users and where each key's run of users starts."""
    starts = runs(flagged >> bits)
    pairs = flagged[starts] >> bits
    out = []
    for bit in range(bits):
        lone = pairs[np.minimum.reduceat((flagged >> bit) & 1, starts) == 1]
        lone_keys = lone // width
        lone_starts = runs(lone_keys)
        out.append((lone_keys[lone_starts], lone % width, lone_starts))
    return pairs, out


def only_users(keys: Int64s, users: Int64s, off: npt.NDArray[np.bool_]) -> Groups:
    """Per key, the users whose launches there were all off their primary (``off``): the
    distinct (key, user, off) sorted, a (key, user) whose only flag is ``off`` is one."""
    if not len(keys):
        return keys, []
    key_values: Int64s | None = None
    user_values: Int64s | None = None
    if (int(keys.max()) + 1) * (int(users.max()) + 1) * 2 >= LIMIT:
        key_values, keys = distinct(keys)
        user_values, users = distinct(users)
    width = int(users.max()) + 1
    _, [(found, lone, starts)] = lone_runs(
        distinct_sorted((keys * width + users) * 2 + off), 1, width
    )
    lone_users = lone if user_values is None else user_values[lone]
    return (found if key_values is None else key_values[found]), bitmaps(lone_users, starts)


def exceptions_of_launches(
    keys: Int64s, users: Int64s, values: Int64s, primaries: Int64s
) -> dict[int, Exceptions]:
    """The exceptions of each group key (a packed (cell, day)) from its launches: each launch's
    user, value and the user's primary value. Only the keys with an exception are in the
    result. (The fold computes the same from its own sort of the launches: :func:`value_users`
    of the launches off a primary, and the users only off it found with the active users.)"""
    off = values != primaries
    if not off.any():
        return {}
    return exceptions_from(
        only_users(keys, users, off), value_users(keys[off], users[off], values[off])
    )


PortraitDay = tuple[BitMap, Exceptions | None]
"""One day of a cell as the portrait reads it: its active users and one dimension's exceptions."""


def portrait_breakdown(
    now: Sequence[PortraitDay],
    before: Sequence[PortraitDay],
    primaries: Mapping[int, BitMap],
    name: Callable[[int], str],
) -> Breakdown:
    """``usersByPlatform`` / ``usersByRegion`` (SPEC §4) from the days of R and of its previous
    period: users per value (``name`` of each code), a user seen on several values counting in
    each; ``total`` the distinct users, shares of the sum of the counts."""

    def counted(days: Sequence[PortraitDay]) -> tuple[dict[str, int], int]:
        actives = [active for active, _ in days if active]
        users = BitMap.union(*actives) if actives else BitMap()
        return {name(v): n for v, n in count_values(days, users, primaries).items()}, len(users)

    (counts, total), (previous, previous_total) = counted(now), counted(before)
    return breakdown(
        counts, previous, total=total, previous_total=previous_total,
        share_base=ShareBase.SUM_OF_COUNTS,
    )  # fmt: skip
