"""Set operations on integer arrays by sorting, for the folds' hot paths.

NumPy's ``np.unique`` and ``np.isin`` hash since NumPy 2.3: on millions of 64-bit keys that is
20-30 times slower than a sort on this machine (1.5M keys: 3.1 s against 0.1 s with 2.2's
sort). These do the same with one ``np.sort`` and ``np.searchsorted``.

Example:

    >>> import numpy as np
    >>> member(np.array([3, 5, 7]), np.array([7, 1, 3, 3])).tolist()
    [True, False, True]
"""

from __future__ import annotations

from array import array
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from pyroaring import BitMap

Ints = npt.NDArray[np.int64]


def member(values: Ints, pool: Ints) -> npt.NDArray[np.bool_]:
    """Whether each of ``values`` is in ``pool`` (``np.isin`` by sorting ``pool``)."""
    if not len(values) or not len(pool):
        return np.zeros(len(values), dtype=bool)
    ordered = np.sort(pool)
    at = np.searchsorted(ordered, values)
    at[at == len(ordered)] = len(ordered) - 1
    return np.asarray(ordered[at] == values)


def runs(keys: Ints) -> Ints:
    """Start offsets of the runs of equal values in sorted ``keys``."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))


def distinct_sorted(keys: Ints) -> Ints:
    """The distinct ``keys``, ascending (``np.unique`` by sorting)."""
    ordered = np.sort(keys)
    return ordered[runs(ordered)]


def dense(values: Ints) -> tuple[Ints, Ints]:
    """(codes, distinct): each of ``values`` numbered by its rank among the distinct values."""
    found = distinct_sorted(values)
    return np.searchsorted(found, values).astype(np.int64), found


def bitmaps(users: Ints, starts: Ints) -> list[BitMap]:
    """One bitmap per run of ``users`` (runs begin at ``starts``), each built from a slice of
    one uint32 buffer."""
    buffer = array("I", users.astype(np.uint32).tobytes())
    bounds = np.append(starts, len(users)).tolist()
    return [BitMap(buffer[a:b]) for a, b in pairwise(bounds)]
