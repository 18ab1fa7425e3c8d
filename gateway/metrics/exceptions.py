"""One portrait dimension's exceptions of a (cell, day), held as packed arrays.

The exceptions (see :mod:`~gateway.metrics.portrait`) are the users' launches off their primary
value: per (user, value) pair, and the users with no launch on their primary at all (``only``).
A day-cell has a few of them per hundred users but often dozens of values (countries), so they
are held as one sorted array of ``user << VALUE_BITS | value`` pairs, not a bitmap per value:
folding, merging and storing a row is then a handful of array operations whatever its values.

Stored form (little-endian): ``<III`` (:data:`MAGIC`, pairs, only users), the packed pairs as
``i8`` (read without a copy), then the ``only`` users as ``u4``. The first form (a roaring
bitmap per value, written before the magic existed) is still read; a row is written in this
form when it changes.

Example:
    >>> found = Exceptions.of_pairs(pack(np.array([3, 3, 9]), np.array([1, 4, 1])), BitMap([9]))
    >>> sorted((v, list(b)) for v, b in found.off.items()), list(found.users)
    ([(1, [3, 9]), (4, [3])], [3, 9])
    >>> Exceptions.deserialize(found.serialize()) == found
    True
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from pyroaring import BitMap

from gateway.metrics.arrays import bitmaps, distinct_sorted, runs

Int64s = npt.NDArray[np.int64]
Off = dict[int, BitMap]
"""Value -> the users with a launch on it that is not their primary (no empty bitmap)."""

VALUE_BITS = 16
"""Bits of a value in a packed pair (codes are int16, see
:mod:`~gateway.store.rollup.primaries`)."""
VALUE_MASK = (1 << VALUE_BITS) - 1
MAGIC = 0xFFFF_FFFF
"""First word of the stored form (the first form began with a bitmap's length, never this)."""

_HEADER = struct.Struct("<III")
_FIRST_HEADER = struct.Struct("<II")
_FIRST_ENTRY = struct.Struct("<II")
_NO_PAIRS = np.zeros(0, dtype=np.int64)


def pack(users: npt.NDArray[np.integer[Any]], values: npt.NDArray[np.integer[Any]]) -> Int64s:
    """``user << VALUE_BITS | value`` of each pair."""
    return (users.astype(np.int64) << VALUE_BITS) | values.astype(np.int64)


def unite_pairs(parts: Sequence[Int64s]) -> Int64s:
    """The distinct pairs of ``parts``, ascending."""
    parts = [part for part in parts if len(part)]
    if not parts:
        return _NO_PAIRS
    return parts[0] if len(parts) == 1 else distinct_sorted(np.concatenate(parts))


def _found(ordered: npt.NDArray[Any], values: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """Whether each of ``values`` is in the non-empty ascending ``ordered``."""
    at = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    found: npt.NDArray[np.bool_] = ordered[at] == values
    return found


def contains(pairs: Int64s, some: Int64s) -> bool:
    """Whether every pair of ``some`` is in ``pairs`` (both ascending)."""
    if not len(some):
        return True
    if len(some) > len(pairs):
        return False
    return bool(_found(pairs, some).all())


def _members(pairs: Int64s, users: BitMap) -> npt.NDArray[np.bool_]:
    """Whether each pair's user is in ``users``."""
    owners = (pairs >> VALUE_BITS).astype(np.uint32)
    inside = BitMap(array("I", owners.tobytes())) & users
    if not inside:
        return np.zeros(len(pairs), dtype=bool)
    return _found(np.frombuffer(inside.to_array(), dtype=np.uint32), owners)


class Exceptions:
    """One dimension's exceptions of a (cell, day).

    Attributes:
        pairs: ``user << VALUE_BITS | value`` of each (user, value) of a launch off the user's
            primary, distinct and ascending.
        only: The users with no launch on their primary that day (all among the pairs').

    Made from stored bytes (:meth:`deserialize`), it is read only when first used and written
    back as the same bytes; its arrays and sets are not modified once it is handed on.
    """

    __slots__ = ("_off", "_only", "_pairs", "_raw", "_users")

    def __init__(self, off: Off | None = None, only: BitMap | None = None) -> None:
        """From bitmaps per value (tests and small cases; folds use :meth:`of_pairs`)."""
        parts = [
            pack(np.array(b, dtype=np.int64), np.full(len(b), v)) for v, b in (off or {}).items()
        ]
        self._pairs: Int64s | None = unite_pairs(parts)
        self._only: BitMap | None = BitMap() if only is None else only
        self._off: Off | None = None
        self._raw: bytes | None = None
        self._users: BitMap | None = None

    @classmethod
    def _made(cls, pairs: Int64s | None, only: BitMap | None, raw: bytes | None) -> Exceptions:
        found = cls.__new__(cls)
        found._pairs, found._only, found._raw = pairs, only, raw
        found._users, found._off = None, None
        return found

    @classmethod
    def of_pairs(cls, pairs: Int64s, only: BitMap | None = None) -> Exceptions:
        """From distinct ascending packed pairs (:func:`pack`) and the ``only`` users."""
        return cls._made(pairs, BitMap() if only is None else only, None)

    def _counts(self) -> tuple[int, int] | None:
        """Pairs and ``only`` users, from the stored form's header (None: not made from it)."""
        raw = self._raw
        if raw is None or raw[:4] != _MAGIC_BYTES:
            return None
        (_, count, lone) = _HEADER.unpack_from(raw)
        return count, lone

    @property
    def pairs(self) -> Int64s:
        """See the class docstring (read alone from the stored form: no copy)."""
        if self._pairs is None:
            assert self._raw is not None
            counts = self._counts()
            if counts is None:
                self._load_first(self._raw)
            else:
                self._pairs = np.frombuffer(
                    self._raw, dtype="<i8", count=counts[0], offset=_HEADER.size
                )
        assert self._pairs is not None
        return self._pairs

    @property
    def only(self) -> BitMap:
        """See the class docstring."""
        if self._only is None:
            assert self._raw is not None
            counts = self._counts()
            if counts is None:
                self._load_first(self._raw)
            else:
                start = _HEADER.size + 8 * counts[0]
                self._only = BitMap(array("I", self._raw[start : start + 4 * counts[1]]))
        assert self._only is not None
        return self._only

    @property
    def off(self) -> Off:
        """Value -> the users with a launch on it off their primary."""
        if self._off is None:
            pairs = self.pairs
            values = pairs & VALUE_MASK
            order = np.argsort(values, kind="stable")  # users stay ascending within a value
            values = values[order]
            starts = runs(values)
            held = bitmaps(pairs[order] >> VALUE_BITS, starts)
            self._off = dict(zip(values[starts].tolist(), held, strict=True))
        return self._off

    @property
    def users(self) -> BitMap:
        """The users with a launch off their primary (``only`` is among them)."""
        if self._users is None:
            raw = self._raw
            if raw is not None and self._pairs is None and raw[:4] != _MAGIC_BYTES:
                (size, _) = _FIRST_HEADER.unpack_from(raw)
                start = _FIRST_HEADER.size
                self._users = BitMap.deserialize(raw[start : start + size])
            else:
                owners = self.pairs >> VALUE_BITS
                self._users = BitMap(array("I", owners.astype(np.uint32).tobytes()))
        return self._users

    @property
    def raw(self) -> bytes | None:
        """The stored bytes it was made from (None when made in memory)."""
        return self._raw

    def _load_first(self, raw: bytes) -> None:
        """The first stored form: users, ``only``, then each value's bitmap."""
        (skip, size) = _FIRST_HEADER.unpack_from(raw)
        start = _FIRST_HEADER.size + skip
        self._only = BitMap.deserialize(raw[start : start + size])
        start += size
        parts = []
        while start < len(raw):
            value, size = _FIRST_ENTRY.unpack_from(raw, start)
            start += _FIRST_ENTRY.size
            held = np.frombuffer(
                BitMap.deserialize(raw[start : start + size]).to_array(), np.uint32
            )
            parts.append(pack(held, np.full(len(held), value)))
            start += size
        self._pairs = unite_pairs(parts)

    def __bool__(self) -> bool:
        counts = self._counts()  # from the header alone when stored
        if counts is not None:
            return counts != (0, 0)
        return len(self.pairs) > 0 or bool(self.only)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Exceptions):
            return NotImplemented
        return np.array_equal(self.pairs, other.pairs) and self.only == other.only

    def __repr__(self) -> str:
        return f"Exceptions({self.off!r}, {self.only!r})"

    def serialize(self) -> bytes:
        """The stored form (see the module docstring); the bytes it was read from when it was."""
        if self._raw is not None:
            return self._raw
        pairs, only = self.pairs, self.only
        lone = np.frombuffer(only.to_array(), dtype=np.uint32).astype("<u4").tobytes()
        header = _HEADER.pack(MAGIC, len(pairs), len(only))
        return b"".join((header, pairs.astype("<i8").tobytes(), lone))

    @classmethod
    def deserialize(cls, raw: bytes) -> Exceptions:
        """Inverse of :meth:`serialize` (read on first use), or the first stored form."""
        return cls._made(None, None, raw)


_MAGIC_BYTES = struct.pack("<I", MAGIC)


def within(found: Exceptions | None, users: BitMap) -> Exceptions | None:
    """The exceptions of ``users`` in ``found``."""
    if found is None or not found.users.intersect(users):
        return None
    pairs = found.pairs
    inside = pairs[_members(pairs, users)]
    return Exceptions.of_pairs(inside, found.only & users) if len(inside) else None


def without(found: Exceptions | None, users: BitMap) -> Exceptions | None:
    """The exceptions of every user but ``users`` in ``found``."""
    if found is None or not found.users.intersect(users):
        return found
    pairs = found.pairs
    kept = pairs[~_members(pairs, users)]
    return Exceptions.of_pairs(kept, found.only - users) or None
