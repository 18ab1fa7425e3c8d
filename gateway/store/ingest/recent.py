"""Event ids of a run's latest chunks: replays caught in memory instead of by the database.

The parallel ingest (:mod:`gateway.store.ingest.parallel`) COPYs events straight into their
tables, which fails on an id already stored. Replays usually repeat an event seen shortly
before (the synthetic data replays up to four days later, a few chunks back), so every worker
keeps the ids of the latest chunks of the run, its own and those its peers announce, and drops
the events of a chunk whose id one of them holds. A replay of an older chunk (or of an earlier
run) still makes the COPY fail; the chunk then takes the exact, slower path.

Two generations of sets bound the memory: ``young`` collects ids until it holds ``span``
chunks, then becomes ``old`` (the previous ``old`` is dropped). The window so covers between
``span`` and ``2 * span`` chunks.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter

from gateway.store.records import EventRecord

ChunkIds = dict[str, list[str]]
"""Event ids a chunk stores, by kind (ids are unique per event table, not across them)."""

PackedIds = dict[str, str]
""":data:`ChunkIds` joined by NUL per kind: sent to another process without pickling each id
(a stored id holds no NUL: lines with one are quarantined)."""

_ID = attrgetter("id")


def chunk_ids(events: dict[str, list[EventRecord]]) -> ChunkIds:
    """The ids of a plan's events, by kind."""
    return {kind: list(map(_ID, records)) for kind, records in events.items() if records}


def pack(ids: ChunkIds) -> PackedIds:
    """``ids`` as one string per kind."""
    return {kind: "\0".join(values) for kind, values in ids.items()}


def unpack(packed: PackedIds) -> ChunkIds:
    """The inverse of :func:`pack`."""
    return {kind: text.split("\0") for kind, text in packed.items()}


class RecentIds:
    """The event ids of the last ``span`` to ``2 * span`` chunks of a run, by kind."""

    def __init__(self, span: int) -> None:
        self.span = span
        self.young: dict[str, set[str]] = {}
        self.old: dict[str, set[str]] = {}
        self.chunks = 0

    def add(self, ids: ChunkIds) -> None:
        """Remember the ids of one more chunk."""
        if self.chunks >= self.span:
            self.old, self.young, self.chunks = self.young, {}, 0
        for kind, values in ids.items():
            self.young.setdefault(kind, set()).update(values)
        self.chunks += 1

    def seen(self, kind: str, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` (of events of ``kind``) a remembered chunk holds."""
        ids = ids if isinstance(ids, list) else list(ids)
        found: set[str] = set()
        for generation in (self.young, self.old):
            known = generation.get(kind)
            if known:
                found.update(known.intersection(ids))
        return found

    def drop_seen(self, events: dict[str, list[EventRecord]], ids: ChunkIds) -> int:
        """Remove from ``events`` those a remembered chunk holds; how many were removed.

        ``ids`` are the ids of ``events`` (:func:`chunk_ids`), in the same order.
        """
        dropped = 0
        for kind, records in events.items():
            gone = self.seen(kind, ids[kind]) if records else set()
            if gone:
                pairs = zip(records, ids[kind], strict=True)
                events[kind] = [r for r, i in pairs if i not in gone]
                dropped += len(records) - len(events[kind])
        return dropped
