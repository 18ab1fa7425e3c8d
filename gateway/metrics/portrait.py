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

from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from pyroaring import BitMap

from gateway.metrics.arrays import bitmaps, distinct, distinct_sorted, runs
from gateway.metrics.breakdown import Breakdown, ShareBase, breakdown
from gateway.metrics.exceptions import (
    VALUE_MASK,
    Exceptions,
    contains,
    pack,
    unite_pairs,
    within,
    without,
)

Int64s = npt.NDArray[np.int64]


def _union(parts: Sequence[BitMap]) -> BitMap:
    """The union of ``parts`` (one of them when it is the only one: sets are not modified once
    handed on, see :class:`Exceptions`)."""
    parts = [part for part in parts if part]
    if not parts:
        return BitMap()
    return parts[0] if len(parts) == 1 else BitMap.union(*parts)


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
    pairs: list[Int64s] = []
    on = BitMap()
    for part_active, part in parts:
        seen = part_active & users
        if not seen:
            continue
        mine = within(part, seen)
        if mine is not None:
            pairs.append(mine.pairs)
            seen -= mine.only
        on |= seen
    now = Exceptions.of_pairs(unite_pairs(pairs), (active & users) - on) if pairs else None
    if now == within(found, users):  # unchanged: kept as stored (not read, not rewritten)
        return found
    kept = without(found, users)
    if kept is None:
        return now
    if now is None:
        return kept
    return Exceptions.of_pairs(unite_pairs([kept.pairs, now.pairs]), kept.only | now.only)


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
    part not at all or off there too. ``mine`` itself (its stored bytes kept) when ``other``
    adds nothing to it."""
    if not mine and not other:
        return None
    a, b = mine or Exceptions(), other or Exceptions()
    only = (a.only - other_active) | (a.only & b.only) | (b.only - active)
    if mine and contains(a.pairs, b.pairs):
        return mine if only == a.only else Exceptions.of_pairs(a.pairs, only)
    return Exceptions.of_pairs(unite_pairs([a.pairs, b.pairs]), only)


def unite(parts: Sequence[tuple[BitMap, Exceptions | None]]) -> Exceptions | None:
    """The exceptions of the union of ``parts`` disjoint in events (each its active users and
    exceptions), as :func:`merge` of all of them at once: the ``only`` users of a part are
    checked against the other parts' actives only when some part has any."""
    found = [(active, e) for active, e in parts if e]
    if not found:
        return None
    pairs = unite_pairs([e.pairs for _, e in found])
    onlys = [e.only for _, e in found if e.only]
    if not onlys:
        return Exceptions.of_pairs(pairs)
    candidates = _union(onlys)
    on = BitMap()
    for active, e in parts:
        seen = active & candidates
        if seen:
            on |= seen - e.only if e is not None else seen
    return Exceptions.of_pairs(pairs, candidates - on)


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
    per_value = np.bincount(found.pairs & VALUE_MASK)  # pairs are distinct: one per user, value
    for value in np.flatnonzero(per_value).tolist():
        counts[value] = counts.get(value, 0) + int(per_value[value])
    return counts


LIMIT = 1 << 62
"""Packed keys stay below this (int64 with room to spare)."""

Groups = tuple[Int64s, list[BitMap]]
"""Packed group keys ascending, and one user bitmap per group."""


def key_pairs(keys: Int64s, users: Int64s, values: Int64s) -> tuple[Int64s, list[Int64s]]:
    """The distinct (user, value) pairs (:func:`~gateway.metrics.exceptions.pack`) of each
    key's launches off their users' primary: the keys ascending, and each key's pairs ascending
    (by sorting, never hashing)."""
    if not len(keys):
        return keys, []
    pairs = pack(users, values)
    width = int(pairs.max()) + 1
    if (int(keys.max()) + 1) * width < LIMIT:
        packed = distinct_sorted(keys * width + pairs)
        keys, pairs = packed // width, packed % width
    else:
        order = np.lexsort((pairs, keys))
        keys, pairs = keys[order], pairs[order]
        keep = np.concatenate(([True], (keys[1:] != keys[:-1]) | (pairs[1:] != pairs[:-1])))
        keys, pairs = keys[keep], pairs[keep]
    starts = runs(keys)
    bounds = np.append(starts, len(keys)).tolist()
    return keys[starts], [pairs[a:b] for a, b in pairwise(bounds)]


def exceptions_from(only: Groups, off: tuple[Int64s, list[Int64s]]) -> dict[int, Exceptions]:
    """Each key's exceptions from its groups: the users only off their primary per key
    (:func:`only_users`), the pairs off it per key (:func:`key_pairs`)."""
    lone = dict(zip(only[0].tolist(), only[1], strict=True))
    return {
        key: Exceptions.of_pairs(pairs, lone.get(key))
        for key, pairs in zip(off[0].tolist(), off[1], strict=True)
    }


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
    result. (The fold computes the same from its own sort of the launches: :func:`key_pairs`
    of the launches off a primary, and the users only off it found with the active users.)"""
    off = values != primaries
    if not off.any():
        return {}
    return exceptions_from(
        only_users(keys, users, off), key_pairs(keys[off], users[off], values[off])
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
