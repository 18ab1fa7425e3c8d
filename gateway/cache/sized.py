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

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar, overload

K = TypeVar("K")
V = TypeVar("V")
D = TypeVar("D")

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


class SizedLRU(Generic[K, V]):
    """An LRU whose entries' sizes (``size_of(key, value)``) add up to at most ``max_bytes``.

    Built on :class:`collections.OrderedDict` (lookups and reordering in C: a fast hit looks
    one up on every request).
    """

    def __init__(self, max_bytes: int, size_of: Callable[[K, V], int]) -> None:
        self.maxsize = max_bytes
        self.currsize = 0
        self._size_of = size_of
        self._data: OrderedDict[K, tuple[V, int]] = OrderedDict()

    @overload
    def get(self, key: K) -> V | None: ...

    @overload
    def get(self, key: K, default: D) -> V | D: ...

    def get(self, key: K, default: object = None) -> object:
        """The value of ``key`` (now the most recently used), else ``default``."""
        item = self._data.get(key)
        if item is None:
            return default
        self._data.move_to_end(key)
        return item[0]

    def __getitem__(self, key: K) -> V:
        value, _ = self._data[key]
        self._data.move_to_end(key)
        return value

    def __setitem__(self, key: K, value: V) -> None:
        size = self._size_of(key, value)
        self.pop(key, None)
        if size > self.maxsize:
            return  # never kept (a stale smaller entry is gone too)
        self._data[key] = (value, size)
        self.currsize += size
        while self.currsize > self.maxsize:
            _, (_, dropped) = self._data.popitem(last=False)
            self.currsize -= dropped

    def pop(self, key: K, default: Any = None) -> Any:
        """Remove ``key``; its value, else ``default``."""
        item = self._data.pop(key, None)
        if item is None:
            return default
        self.currsize -= item[1]
        return item[0]

    def clear(self) -> None:
        """Forget every entry."""
        self._data.clear()
        self.currsize = 0

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)
