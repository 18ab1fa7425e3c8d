"""Per-process memos bounded by bytes, keys included.

The memos in front of the work of a request (parsed bodies, verified tokens, requests answered
before, registered documents) are keyed by what callers send: bounded by a count only, a caller
sending large distinct bodies grows them to count x size. :class:`SizedLRU` bounds the bytes
of keys and values together, evicting the least recently used.

Example:
    >>> memo = SizedLRU(max_bytes=1000, size_of=lambda key, value: len(key) + len(value))
    >>> memo["a" * 10] = "b" * 10
    >>> memo["c" * 600] = "d" * 600  # larger than the bound: not kept
    >>> list(memo), memo.currsize
    (['aaaaaaaaaa'], 20)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from cachetools import LRUCache

K = TypeVar("K")
V = TypeVar("V")

MEMO_MAX_BYTES = 16 * 1024 * 1024
"""Bound of each per-process memo, in bytes of keys and values."""
OVERHEAD = 256
"""Bytes an entry costs beyond its own text (tuples, objects, the LRU's links)."""


def size_of_parts(*parts: object) -> int:
    """The bytes of an entry made of these parts: the lengths of its text, plus overhead."""
    size = OVERHEAD
    for part in parts:
        if isinstance(part, str | bytes):
            size += len(part)
        elif isinstance(part, tuple):
            size += size_of_parts(*part) - OVERHEAD
    return size


class SizedLRU(LRUCache[K, V]):
    """An LRU whose entries' sizes (``size_of(key, value)``) add up to at most ``max_bytes``."""

    def __init__(self, max_bytes: int, size_of: Callable[[K, V], int]) -> None:
        super().__init__(maxsize=max_bytes)
        self._size_of = size_of
        self._next_size = 0

    def getsizeof(self, value: Any) -> int:  # type: ignore[override]
        """The size of the entry being stored (computed from its key in ``__setitem__``)."""
        del value
        return self._next_size

    def __setitem__(self, key: K, value: V) -> None:
        self._next_size = self._size_of(key, value)
        if self._next_size > self.maxsize:
            self.pop(key, None)  # never kept: a stale smaller entry must not stay either
            return
        super().__setitem__(key, value)
