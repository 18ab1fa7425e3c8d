"""Event keys of a run's latest chunks: replays caught in memory instead of by the database.

The parallel ingest (:mod:`gateway.store.ingest.parallel`) COPYs events straight into their
tables, which fails on a key (id and UTC day) already stored. Replays usually repeat an event
seen shortly before (the synthetic data replays up to four days later, a few chunks back), so
every worker keeps the keys of the latest chunks of the run, its own and those its peers
announce, and drops the events of a chunk whose key one of them holds. A replay of an older
chunk (or of an earlier run) still makes the COPY fail; the chunk then takes the exact, slower
path.

Two generations of sets bound the memory: ``young`` collects keys until it holds ``span``
chunks, then becomes ``old`` (the previous ``old`` is dropped). The window so covers between
``span`` and ``2 * span`` chunks.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

from gateway.store.ingest.events import EventKey, event_keys
from gateway.store.records import EventRecord

ChunkIds = dict[str, list[EventKey]]
"""Event keys a chunk stores, by kind (keys are unique per event table, not across them)."""

PackedIds = dict[str, tuple[str, bytes]]
""":data:`ChunkIds` as, per kind, the ids joined by NUL and the day numbers as int32 bytes: sent
to another process without pickling each key (a stored id holds no NUL: lines with one are
quarantined)."""


def chunk_ids(events: dict[str, list[EventRecord]]) -> ChunkIds:
    """The keys of a plan's events, by kind."""
    return {kind: event_keys(records) for kind, records in events.items() if records}


def pack(ids: ChunkIds) -> PackedIds:
    """``ids`` as one string and one byte string per kind."""
    return {
        kind: ("\0".join(key[0] for key in keys), array("i", (key[1] for key in keys)).tobytes())
        for kind, keys in ids.items()
    }


def unpack(packed: PackedIds) -> ChunkIds:
    """The inverse of :func:`pack`."""
    out: ChunkIds = {}
    for kind, (ids, days) in packed.items():
        numbers = array("i")
        numbers.frombytes(days)
        out[kind] = list(zip(ids.split("\0"), numbers, strict=True))
    return out


class RecentIds:
    """The event keys of the last ``span`` to ``2 * span`` chunks of a run, by kind."""

    def __init__(self, span: int) -> None:
        self.span = span
        self.young: dict[str, set[EventKey]] = {}
        self.old: dict[str, set[EventKey]] = {}
        self.chunks = 0

    def add(self, ids: ChunkIds) -> None:
        """Remember the ids of one more chunk."""
        if self.chunks >= self.span:
            self.old, self.young, self.chunks = self.young, {}, 0
        for kind, values in ids.items():
            self.young.setdefault(kind, set()).update(values)
        self.chunks += 1

    def seen(self, kind: str, ids: Iterable[EventKey]) -> set[EventKey]:
        """Which of ``ids`` (keys of events of ``kind``) a remembered chunk holds."""
        ids = ids if isinstance(ids, list) else list(ids)
        found: set[EventKey] = set()
        for generation in (self.young, self.old):
            known = generation.get(kind)
            if known:
                found.update(known.intersection(ids))
        return found

    def drop_seen(self, events: dict[str, list[EventRecord]], ids: ChunkIds) -> int:
        """Remove from ``events`` those a remembered chunk holds; how many were removed.

        ``ids`` are the keys of ``events`` (:func:`chunk_ids`), in the same order.
        """
        dropped = 0
        for kind, records in events.items():
            gone = self.seen(kind, ids[kind]) if records else set()
            if gone:
                pairs = zip(records, ids[kind], strict=True)
                events[kind] = [r for r, i in pairs if i not in gone]
                dropped += len(records) - len(events[kind])
        return dropped
