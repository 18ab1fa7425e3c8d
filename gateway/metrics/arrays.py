"""Set operations on integer arrays by sorting, for the folds' hot paths.

NumPy's ``np.unique`` and ``np.isin`` hash since NumPy 2.3: on millions of 64-bit keys that is
20-30 times slower than a sort on this machine (1.5M keys: 3.1 s against 0.1 s with 2.2's
sort). These do the same with ``np.sort`` (or a presence table for a small key space).

Example:

    >>> import numpy as np
    >>> [part.tolist() for part in distinct(np.array([7, 1, 3, 3]))]
    [[1, 3, 7], [2, 0, 1, 1]]
"""

from __future__ import annotations

from array import array
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from pyroaring import BitMap

Ints = npt.NDArray[np.int64]


def runs(keys: Ints) -> Ints:
    """Start offsets of the runs of equal values in sorted ``keys``."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))


def distinct_sorted(keys: Ints) -> Ints:
    """The distinct ``keys``, ascending (``np.unique`` by sorting)."""
    ordered = np.sort(keys)
    return ordered[runs(ordered)]


DENSE_LIMIT = 1 << 24
"""Largest key space :func:`distinct` maps with lookup tables (bytes: 9x this) instead of a sort."""


def distinct(keys: Ints) -> tuple[Ints, Ints]:
    """Distinct non-negative ``keys`` ascending, and each key's position among them: a
    presence table when the key space is small, else a sort."""
    top = int(keys.max()) + 1
    if top > DENSE_LIMIT:
        unique = distinct_sorted(keys)
        return unique, np.searchsorted(unique, keys).astype(np.int64)
    present = np.zeros(top, dtype=bool)
    present[keys] = True
    unique = np.flatnonzero(present)
    position = np.zeros(top, dtype=np.int64)
    position[unique] = np.arange(len(unique))
    return unique.astype(np.int64), position[keys]


def bitmaps(users: Ints, starts: Ints) -> list[BitMap]:
    """One bitmap per run of ``users`` (runs begin at ``starts``), each built from a slice of
    one uint32 buffer."""
    buffer = array("I", users.astype(np.uint32).tobytes())
    bounds = np.append(starts, len(users)).tolist()
    return [BitMap(buffer[a:b]) for a, b in pairwise(bounds)]
