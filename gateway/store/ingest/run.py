"""The entry points: :func:`ingest_lines` and :func:`replay_quarantine`.

Input is read in chunks of ``chunk_size`` lines. Two coroutines form a pipeline: the reader
decodes and plans chunk N+1 (see :mod:`gateway.store.ingest.chunk`), yielding now and then,
while the writer stores chunk N in one transaction with the quarantine rows of its bad lines;
so Python and the database work at the same time. Chunks are stored in input order, one at a
time. Once the input has repeated a stored event id, the reader also probes each chunk's ids
(:func:`~gateway.store.ingest.chunk.drop_stored_events`) so the writer can COPY directly.

Large inputs on PostgreSQL (``workers``, or callers that own their process: ``pause_gc``) go
to worker processes instead (:mod:`gateway.store.ingest.parallel`), with the same results.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.store.db import unbounded
from gateway.store.ingest.bulk import BulkState
from gateway.store.ingest.catalog import CatalogView
from gateway.store.ingest.chunk import (
    ChunkOutcome,
    Plan,
    apply_chunk,
    drop_stored_events,
    make_room,
    plan_chunk_cooperatively,
    resolve_plan_users,
    store_chunk,
    with_room,
)
from gateway.store.ingest.decode import DecodedChunk, decode_chunk, decode_chunk_cooperatively
from gateway.store.ingest.events import EventKey, event_keys
from gateway.store.ingest.parallel import choose_workers, ingest_parallel
from gateway.store.ingest.quarantine import (
    quarantine_page,
    quarantine_retried,
    to_problem,
)
from gateway.store.ingest.report import IngestReport, Problem
from gateway.store.ingest.users import UidCache

DEFAULT_CHUNK_SIZE = 50_000
IN_FLIGHT = 2
"""Prepared chunks that may be uncommitted while the reader prepares the next: the one the
writer stores and the one waiting in the queue (whose size is ``IN_FLIGHT - 1``)."""
REPLAY_SOURCE = "replay:quarantine"


@dataclass(slots=True)
class _Chunk:
    """Consecutive input lines; ``raws[i]`` is line ``first + i``."""

    first: int
    raws: list[bytes]
    decoded: DecodedChunk | None = None
    plan: Plan | None = None

    @property
    def records(self) -> int:
        """Non-blank lines (known once decoded)."""
        assert self.decoded is not None
        return len(self.raws) - self.decoded.blanks


async def _chunks(
    lines: Iterable[bytes] | AsyncIterable[bytes], size: int
) -> AsyncIterator[_Chunk]:
    """One :class:`_Chunk` per ``size`` lines."""
    first = 1
    if isinstance(lines, AsyncIterable):
        batch: list[bytes] = []
        async for line in lines:
            batch.append(line)
            if len(batch) >= size:
                yield _Chunk(first, batch)
                first, batch = first + len(batch), []
        if batch:
            yield _Chunk(first, batch)
        return
    iterator = iter(lines)
    while batch := list(islice(iterator, size)):
        yield _Chunk(first, batch)
        first += len(batch)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    # Decoding allocates millions of long-lived objects; the cyclic collector would rescan
    # them again and again (a third of the run time) though records hold no cycles.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _merge(report: IngestReport, outcome: ChunkOutcome) -> None:
    report.batches += 1
    report.records += outcome.records
    report.duplicates += outcome.duplicates
    for kind, count in outcome.stored_by_kind.items():
        report.add_stored(kind, count)


class _Pipeline:
    """The reader's and the writer's state for one :func:`ingest_lines` run."""

    def __init__(
        self, engine: AsyncEngine, source: str, on_progress: Callable[[int], None] | None
    ) -> None:
        self.engine, self.source, self.on_progress = engine, source, on_progress
        self.report = IngestReport()
        self.cache = UidCache()
        self.bulk = BulkState()
        self.read = 0
        self.view: CatalogView | None = None
        self.view_stale = True
        # Event keys by kind of the last chunks prepared while probing: those not committed
        # yet when the next chunk is probed (see prepare()).
        self.in_flight: deque[dict[str, set[EventKey]]] = deque(maxlen=IN_FLIGHT)

    async def prepare(self, chunk: _Chunk) -> None:
        """Reader: decode and plan ``chunk`` and create its new users, before its transaction.

        The plan is checked against the catalog as it will be once the chunks ahead of it
        have committed; the writer re-plans if the database says otherwise.
        """
        chunk.decoded = await decode_chunk_cooperatively(chunk.raws)
        if not chunk.records:
            return
        await make_room(self.engine, chunk.decoded)
        if self.view is None or self.view_stale:
            self.view_stale = False
            async with self.engine.connect() as conn:
                self.view = await CatalogView.load(conn)
        chunk.plan = await plan_chunk_cooperatively(chunk.decoded, self.view)
        # New users commit in their own short transaction ahead of their chunk: a user row
        # without events counts nowhere, and this keeps the work out of the writer's way.
        async with self.engine.begin() as conn:
            await unbounded(conn)  # ingestion is not bounded by a request's timeout
            await resolve_plan_users(chunk.plan, conn, self.cache)
            if not self.bulk.direct_copy:
                # The input repeats stored ids: probe here, while the writer works, not in
                # its transaction. A COPY that still conflicts falls back there (safe).
                await drop_stored_events(chunk.plan, conn, self.in_flight)
        if chunk.plan.probed:
            keys = {kind: set(event_keys(events)) for kind, events in chunk.plan.events.items()}
            self.in_flight.append(keys)

    async def write(self, chunk: _Chunk) -> None:
        """Writer: store ``chunk`` in one transaction and add its outcome to the report."""
        assert chunk.decoded is not None
        self.read += len(chunk.raws)
        if chunk.records:
            out, problems = await store_chunk(
                self.engine,
                chunk.decoded,
                chunk.plan,
                chunk.raws,
                first=chunk.first,
                source=self.source,
                cache=self.cache,
                bulk=self.bulk,
            )
            self.view_stale = self.view_stale or out.replanned
            _merge(self.report, out)
            for problem in problems:
                self.report.add_problem(problem)
        if self.on_progress is not None:
            self.on_progress(self.read)

    async def drain(self, queue: asyncio.Queue[_Chunk | None]) -> None:
        """Writer loop: store chunks from ``queue`` until it yields None."""
        while (chunk := await queue.get()) is not None:
            await self.write(chunk)


async def _hand_over(
    queue: asyncio.Queue[_Chunk | None], item: _Chunk | None, writer: asyncio.Task[None]
) -> None:
    """Put ``item`` on ``queue``; raise the writer's exception if it stops first."""
    put = asyncio.ensure_future(queue.put(item))
    await asyncio.wait({put, writer}, return_when=asyncio.FIRST_COMPLETED)
    if not put.done():
        put.cancel()
    if writer.done():
        writer.result()  # re-raises the writer's failure


async def ingest_lines(
    engine: AsyncEngine,
    lines: Iterable[bytes] | AsyncIterable[bytes],
    *,
    source: str,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_progress: Callable[[int], None] | None = None,
    pause_gc: bool = False,
    workers: int | None = None,
) -> IngestReport:
    """Ingest JSON lines (SPEC §2): upsert catalog records, append events, quarantine the rest.

    Args:
        engine: The database (migrated).
        lines: One JSON record per item, as bytes, with or without the newline; blank lines
            are skipped but counted for line numbers.
        source: Where the lines come from (a file name, ``"-"``, ``"http"``); kept on batch
            and quarantine rows and in each :class:`Problem`.
        chunk_size: Lines per transaction; a crash loses at most the chunk in flight.
        on_progress: Called after each committed chunk with the number of lines read so far.
        pause_gc: Pause the cyclic garbage collector for the run (about a third faster on
            large inputs). It is process-wide, so only a process that does nothing else
            meanwhile (the CLI, the demo loader, a benchmark) should ask for it; a server
            ingesting ``POST /v1/events`` must not.
        workers: PostgreSQL only: worker processes that decode and store chunks in parallel
            (:mod:`gateway.store.ingest.parallel`, same results); 0 keeps the run in this
            process. None: workers for ``pause_gc`` callers with more than two chunks of lines.

    Returns:
        The counts and the first problems. Bad records are quarantined, never raised; a
        database error propagates after the chunks before it were committed.
    """
    count, lines = choose_workers(
        engine, lines, workers=workers, pause_gc=pause_gc, chunk_size=chunk_size
    )
    if count:
        assert not isinstance(lines, AsyncIterable)
        with _gc_paused() if pause_gc else contextlib.nullcontext():
            return await ingest_parallel(
                engine,
                lines,
                source=source,
                chunk_size=chunk_size,
                workers=count,
                on_progress=on_progress,
            )
    started = time.perf_counter()
    pipeline = _Pipeline(engine, source, on_progress)
    queue: asyncio.Queue[_Chunk | None] = asyncio.Queue(maxsize=IN_FLIGHT - 1)
    writer = asyncio.create_task(pipeline.drain(queue))
    try:
        with _gc_paused() if pause_gc else contextlib.nullcontext():
            async for chunk in _chunks(lines, chunk_size):
                await pipeline.prepare(chunk)
                await _hand_over(queue, chunk, writer)
            await _hand_over(queue, None, writer)
            await writer
    finally:
        if not writer.done():
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
    pipeline.report.seconds = time.perf_counter() - started
    return pipeline.report


async def _replay_page(
    engine: AsyncEngine, rows: Sequence[Any], cache: UidCache, bulk: BulkState
) -> tuple[ChunkOutcome, dict[int, Problem]]:
    """Retry one page of quarantine ``rows`` in one transaction; the problems left, by row id."""
    raws = [row.raw.encode() for row in rows]
    decoded = decode_chunk(raws)
    records = len(raws) - decoded.blanks
    await make_room(engine, decoded)

    async def store(conn: AsyncConnection, _: bool) -> tuple[ChunkOutcome, dict[int, Problem]]:
        await unbounded(conn)
        out = await apply_chunk(
            conn, decoded, None, records=records, source=REPLAY_SOURCE, cache=cache, bulk=bulk
        )
        failed: dict[int, Problem] = {
            rows[f.position].id: to_problem(f, rows[f.position].line, rows[f.position].source)
            for f in out.failures
        }
        await quarantine_retried(conn, [row.id for row in rows], failed)
        return out, failed

    return await with_room(engine, decoded, store)


async def replay_quarantine(
    engine: AsyncEngine, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> IngestReport:
    """Retry every quarantined record, oldest first, through the same path as new input.

    Records that now succeed are stored and leave the quarantine (an event already stored
    counts as a duplicate and leaves too); the others stay, with ``attempts`` incremented and
    the new reason.
    """
    started = time.perf_counter()
    report = IngestReport()
    cache, bulk = UidCache(), BulkState()
    last_id = 0
    while True:
        async with engine.connect() as conn:
            rows = await quarantine_page(conn, last_id, chunk_size)
        if not rows:
            break
        out, failed = await _replay_page(engine, rows, cache, bulk)
        last_id = rows[-1].id
        _merge(report, out)
        for problem in failed.values():
            report.add_problem(problem)
    report.seconds = time.perf_counter() - started
    return report
