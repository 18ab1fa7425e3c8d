"""Decode a chunk of JSON lines into catalog records, event records by kind, and failures.

The hot loop of ingestion: one msgspec call per line (parsing and validation in C), then a
type lookup to sort the record into its bucket. Nothing else is allocated per record.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import msgspec

from gateway.store.ingest.report import INVALID_VALUE, MALFORMED_JSON, classify_decode_error
from gateway.store.records import (
    AdImpressionRecord,
    CatalogRecord,
    EventRecord,
    LaunchRecord,
    PageViewRecord,
    Record,
    kind_of,
)

_decode = msgspec.json.Decoder(Record).decode


class _KindOnly(msgspec.Struct):
    kind: str | None = None


_decode_kind = msgspec.json.Decoder(_KindOnly).decode


@dataclass(slots=True)
class Failure:
    """A line of a chunk that failed: its position in the chunk and why."""

    position: int
    kind: str | None
    reason_class: str
    reason: str


@dataclass(slots=True)
class DecodedChunk:
    """A chunk sorted by what it holds; positions index the chunk's list of lines."""

    catalog: list[tuple[int, CatalogRecord]] = field(default_factory=list)
    events: dict[str, list[tuple[int, EventRecord]]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    blanks: int = 0
    refused_days: frozenset[int] = frozenset()
    """Day numbers (see :func:`~gateway.store.ingest.events.event_key`) the store could not
    add for this chunk: its events on those days are quarantined (set by
    :func:`~gateway.store.ingest.chunk.make_room`)."""


EVENT_KIND_NAMES: dict[type[Any], str] = {
    cls: kind_of(cls) for cls in (LaunchRecord, PageViewRecord, AdImpressionRecord)
}
"""``kind`` tag of each event record class."""


def guess_kind(raw: bytes) -> str | None:
    """The ``kind`` a broken line claims to be, when that much can be read."""
    if len(raw) > MAX_LINE_BYTES:
        return None
    try:
        return _decode_kind(raw).kind
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None


MAX_LINE_BYTES = 1024 * 1024
"""Longest line (record) judged at all: a longer one is quarantined unread (a real record is
well under a kilobyte; its page path and name are bounded far below this)."""
TOO_LONG_REASON = f"the line is longer than {MAX_LINE_BYTES} bytes; no record is that long"
TOO_DEEP_REASON = "the JSON is nested too deeply to be a record"


YIELD_EVERY = 4_096
"""Lines decoded between two yields to the event loop by :func:`decode_chunk_cooperatively`."""


def _decode_into(chunk: DecodedChunk, raws: list[bytes], start: int, stop: int) -> None:
    buckets = {cls: chunk.events[name] for cls, name in EVENT_KIND_NAMES.items()}
    catalog, failures = chunk.catalog, chunk.failures
    for position in range(start, min(stop, len(raws))):
        raw = raws[position]
        if len(raw) > MAX_LINE_BYTES:
            failures.append(Failure(position, None, MALFORMED_JSON, TOO_LONG_REASON))
            continue
        try:
            record = _decode(raw)
        except RecursionError:  # msgspec's bound on nesting: one line fails, never the chunk
            failures.append(Failure(position, guess_kind(raw), MALFORMED_JSON, TOO_DEEP_REASON))
            continue
        except msgspec.DecodeError as exc:
            # Blank lines are rare: detecting them here keeps a pass off the hot path.
            if not raw.strip():
                chunk.blanks += 1
                continue
            reason_class, reason = classify_decode_error(exc)
            failures.append(Failure(position, guess_kind(raw), reason_class, reason))
            continue
        if b"\\u0000" in raw and _has_nul(raw):
            failures.append(Failure(position, guess_kind(raw), INVALID_VALUE, NUL_REASON))
            continue
        if isinstance(record, (LaunchRecord, PageViewRecord, AdImpressionRecord)):
            buckets[type(record)].append((position, record))
        else:
            catalog.append((position, record))


NUL_REASON = "a string contains the NUL character (\\u0000), which cannot be stored"


def _has_nul(raw: bytes) -> bool:
    """True when a string of the (valid) JSON ``raw`` holds U+0000 (PostgreSQL rejects it)."""
    try:
        pending: list[object] = [msgspec.json.decode(raw)]
    except RecursionError:  # decoded as a record above, so never this deep; kept safe anyway
        return True
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _empty_chunk() -> DecodedChunk:
    return DecodedChunk(events={name: [] for name in EVENT_KIND_NAMES.values()})


def decode_chunk(raws: list[bytes]) -> DecodedChunk:
    """Decode every line of ``raws`` in order (blank lines are only counted)."""
    chunk = _empty_chunk()
    _decode_into(chunk, raws, 0, len(raws))
    return chunk


async def decode_chunk_cooperatively(raws: list[bytes]) -> DecodedChunk:
    """:func:`decode_chunk`, yielding to the event loop every :data:`YIELD_EVERY` lines.

    The yields let the transaction of the previous chunk move on (send its next statement)
    while this one decodes, so Python and the database work at the same time.
    """
    chunk = _empty_chunk()
    for start in range(0, len(raws), YIELD_EVERY):
        _decode_into(chunk, raws, start, start + YIELD_EVERY)
        await asyncio.sleep(0)
    return chunk
