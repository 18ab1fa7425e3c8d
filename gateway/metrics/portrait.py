"""The users' platforms and regions per cell and day, as exceptions to each user's primary value.

``usersByPlatform`` / ``usersByRegion`` (SPEC §4) count, per value, the users of the range with a
launch on that value. Storing a bitmap per value for every cell and day would double the rollups;
almost every user launches on one device from one country, so instead:

- each user has a *primary* value per dimension (:mod:`gateway.store.rollup.primaries`): the
  value of their first folded launch, kept for ever (``Π_v``: the users whose primary is ``v``);
- each (cell, day) stores its :class:`Exceptions` (a few percent of its users): ``off``, the
  (value, user) pairs of launches on another value than the user's primary, and ``only``, the
  users whose launches that day were all off their primary.

Over a range with active users ``U`` (the union of the days' ``A``), the users never on their
primary are ``F = C - ∪((A ∩ C) - only)`` with ``C = ∪ only``, and

    users(v) = |U ∩ Π_v| - |F ∩ Π_v| + |{u : (v, u) ∈ ∪ off}|

(:func:`count_values`). Exceptions of parts disjoint in events (a stored day and new events, the
members of a coarse cell) combine with their active sets (:func:`merge`).

Example (user 1's primary is 0, user 2's is 1; on day 5 user 1 launched on 0 and 1, user 2
only on 0):

    >>> day = Exceptions(BitMap64([pair(1, 1), pair(0, 2)]), BitMap([2]))
    >>> count_values([(BitMap([1, 2]), day)], BitMap([1, 2]), {0: BitMap([1]), 1: BitMap([2])})
    {0: 2, 1: 1}
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from pyroaring import BitMap, BitMap64

from gateway.metrics.breakdown import Breakdown, ShareBase, breakdown

Int64s = npt.NDArray[np.int64]

SHIFT = 32
"""An ``off`` pair is ``value << 32 | user``."""
_HEADER = struct.Struct("<I")


def pair(value: int, user: int) -> int:
    """The ``off`` pair of ``user`` launching on ``value``."""
    return value << SHIFT | user


@dataclass
class Exceptions:
    """One dimension's exceptions of a (cell, day) (see the module docstring).

    Attributes:
        off: ``value << 32 | user`` of each launch on a value other than the user's primary.
        only: The users with no launch on their primary that day.
    """

    off: BitMap64 = field(default_factory=BitMap64)
    only: BitMap = field(default_factory=BitMap)

    def __bool__(self) -> bool:
        return bool(self.off) or bool(self.only)

    def serialize(self) -> bytes:
        """Stored form: the length of ``only``'s bytes, ``only``, then ``off``."""
        only = self.only.serialize()
        return _HEADER.pack(len(only)) + only + self.off.serialize()

    @classmethod
    def deserialize(cls, raw: bytes) -> Exceptions:
        """Inverse of :meth:`serialize`."""
        (size,) = _HEADER.unpack_from(raw)
        start = _HEADER.size
        only = BitMap.deserialize(raw[start : start + size])
        return cls(BitMap64.deserialize(raw[start + size :]), only)


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
    """The column value of ``value`` (null when there is nothing to store)."""
    return value.serialize() if value else None


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
    return Exceptions(a.off | b.off, only)


def unite(parts: Sequence[tuple[BitMap, Exceptions | None]]) -> Exceptions | None:
    """The exceptions of the union of ``parts`` disjoint in events (each its active users and
    exceptions), as :func:`merge` of all of them at once: the ``only`` users of a part are
    checked against the other parts' actives only when some part has any."""
    found = [(active, e) for active, e in parts if e]
    if not found:
        return None
    off = BitMap64.union(*(e.off for _, e in found))
    onlys = [e.only for _, e in found if e.only]
    if not onlys:
        return Exceptions(off)
    candidates = BitMap.union(*onlys)
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
    if found.off:
        pairs = np.frombuffer(found.off.to_array(), dtype=np.uint64) >> np.uint64(SHIFT)
        values, sizes = np.unique(pairs, return_counts=True)
        for value, size in zip(values.tolist(), sizes.tolist(), strict=True):
            counts[value] = counts.get(value, 0) + size
    return counts


def exceptions_of_launches(
    keys: Int64s, users: Int64s, values: Int64s, primaries: Int64s
) -> dict[int, Exceptions]:
    """The exceptions of each group key (a packed (cell, day)) from its launches: each launch's
    user, value and the user's primary value. Only the keys with an exception are in the
    result; the work follows the launches off a primary (a few percent), not all of them."""
    off = values != primaries
    if not off.any():
        return {}
    off_keys, off_users, off_values = keys[off], users[off], values[off]
    order = np.lexsort((off_users, off_values, off_keys))
    off_keys, off_users, off_values = off_keys[order], off_users[order], off_values[order]
    pairs = (off_values.astype(np.uint64) << np.uint64(SHIFT)) | off_users.astype(np.uint64)
    bounds = [*(np.flatnonzero(np.diff(off_keys)) + 1).tolist(), len(off_keys)]
    out: dict[int, Exceptions] = {}
    start = 0
    for end in bounds:
        out[int(off_keys[start])] = Exceptions(BitMap64(pairs[start:end].tolist()))
        start = end
    # A user off their primary in a group who also launched on it there is not ``only``.
    lone = ~_among(off_keys, off_users, keys[~off], users[~off])
    for key, user in zip(off_keys[lone].tolist(), off_users[lone].tolist(), strict=True):
        out[key].only.add(user)
    return out


def _among(
    keys: Int64s, users: Int64s, other_keys: Int64s, other_users: Int64s
) -> npt.NDArray[np.bool_]:
    """Whether each (key, user) pair is one of the other pairs (vectorized: pairs packed into
    one integer while they fit, else compared as Python tuples)."""
    if not len(other_keys):
        return np.zeros(len(keys), dtype=bool)
    width = int(max(users.max(), other_users.max())) + 1
    if int(max(keys.max(), other_keys.max())) + 1 < (1 << 62) // width:
        return np.isin(keys * width + users, other_keys * width + other_users)
    others = set(zip(other_keys.tolist(), other_users.tolist(), strict=True))
    pairs = zip(keys.tolist(), users.tolist(), strict=True)
    return np.fromiter((pair in others for pair in pairs), dtype=bool, count=len(keys))


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
