"""The parallel ingest: worker processes decode, plan and store chunks; commits stay in order.

One Python process cannot decode, check and encode much more than 150,000 events a second,
so large inputs on PostgreSQL are spread over worker processes
(:mod:`gateway.store.ingest.worker`). This process only reads the lines, hands out chunks of
``chunk_size`` lines, and merges the workers' outcomes, in input order, into one report.

The result is the serial ingest's: chunks commit one at a time in input order (each one
transaction with its ``ingest_batches`` row and quarantine rows), the first record of an event
id wins, catalog records are applied in line order. Workers are started with ``spawn`` (safe
whatever threads the parent runs) and share nothing but queues and a few counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import multiprocessing
import os
import queue
import time
from collections.abc import AsyncIterable, Callable, Iterable, Iterator
from itertools import chain, islice
from multiprocessing.context import SpawnProcess
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.ingest.report import IngestReport
from gateway.store.ingest.worker import IngestWorkerError, Links, Outcome, Task, run_worker

RECENT_IDS = 1_000_000
"""Event ids each worker remembers (about; see :class:`~gateway.store.ingest.recent.RecentIds`)."""

READ_BYTES = 256 * 1024
"""Bytes read from a binary stream at a time."""

SHUTDOWN_SECONDS = 60.0
"""How long workers get to finish a commit under way once the run stops."""


def default_workers() -> int:
    """Worker processes for this machine: one per core, at least two."""
    return max(2, os.cpu_count() or 1)


class _Group:
    """The worker processes of one run and what the parent shares with them."""

    def __init__(self, url: str, source: str, workers: int, chunk_size: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.tasks: Any = ctx.Queue()
        self.results: Any = ctx.Queue()
        # Kept on self: a semaphore is unlinked once the parent drops it, and a child that
        # starts later could not open it.
        self.turn: Any = ctx.Value("q", 0)
        self.aborted: Any = ctx.Value("b", 0)
        self.id_changes: Any = ctx.Value("q", 0)
        self.turn_changed = ctx.Condition(self.turn.get_lock())
        self.inboxes: list[Any] = [ctx.Queue() for _ in range(workers)]
        span = max(2 * workers, RECENT_IDS // (2 * chunk_size))
        self.processes: list[SpawnProcess] = []
        for number in range(workers):
            links = Links(
                url=url,
                source=source,
                number=number,
                span=span,
                tasks=self.tasks,
                results=self.results,
                inboxes=self.inboxes,
                turn=self.turn,
                turn_changed=self.turn_changed,
                aborted=self.aborted,
                id_changes=self.id_changes,
            )
            process = ctx.Process(target=run_worker, args=(links,), daemon=True)
            process.start()
            self.processes.append(process)
        self.submitted = 0
        self.finished: dict[int, Outcome] = {}

    def submit(self, task: Task) -> None:
        """Queue ``task`` for the next free worker."""
        self.tasks.put(task)
        self.submitted += 1

    async def receive(self) -> Outcome:
        """The next chunk outcome a worker reports.

        Raises:
            BaseException: A worker's failure (or :class:`IngestWorkerError` when a worker died).
        """
        gone = False
        while True:
            try:
                status, _, payload = await asyncio.to_thread(self.results.get, True, 0.5)
            except queue.Empty:
                # Once every worker has exited, one more wait: its last message may be on its way.
                if gone:
                    raise IngestWorkerError("the ingest workers stopped early") from None
                gone = self._check_alive()
                continue
            if status == "error":
                assert isinstance(payload, BaseException)
                raise payload
            if status == "done":
                assert isinstance(payload, Outcome)
                return payload
            # "stopped": a peer failed; its error message follows.

    def _check_alive(self) -> bool:
        """True when every worker has exited; raises when one of them failed to."""
        dead = [p.exitcode for p in self.processes if p.exitcode not in (None, 0)]
        if dead:
            raise IngestWorkerError(f"an ingest worker exited with status {dead[0]}")
        return all(p.exitcode is not None for p in self.processes)

    def stop(self, *, abort: bool) -> None:
        """Let the workers go (at once when ``abort``) and wait for them to exit."""
        if abort:
            with self.turn_changed:
                self.aborted.value = 1
                self.turn_changed.notify_all()
        for _ in self.processes:
            self.tasks.put(None)
        deadline = time.monotonic() + SHUTDOWN_SECONDS
        while time.monotonic() < deadline and any(p.is_alive() for p in self.processes):
            # Drain the results: a worker exits only once its last ones are in the pipe.
            with contextlib.suppress(queue.Empty):
                while True:
                    self.results.get_nowait()
            time.sleep(0.01)
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # its open transaction rolls back
            process.join()
        for q in (self.tasks, self.results, *self.inboxes):
            q.cancel_join_thread()
            q.close()


def _chunks(lines: Iterable[bytes], size: int) -> Iterator[Task]:
    """One task per ``size`` lines: a list of lines, or one block of a binary stream."""
    pieces: Iterator[tuple[list[bytes] | bytes, int]] = (
        _blocks(lines, size) if isinstance(lines, io.BufferedIOBase) else _lists(lines, size)
    )
    first = 1
    for index, (raws, count) in enumerate(pieces):
        yield Task(index, first, raws)
        first += count


def _lists(lines: Iterable[bytes], size: int) -> Iterator[tuple[list[bytes] | bytes, int]]:
    iterator = iter(lines)
    while raws := list(islice(iterator, size)):
        yield raws, len(raws)


def _blocks(stream: io.BufferedIOBase, size: int) -> Iterator[tuple[list[bytes] | bytes, int]]:
    """``size`` lines at a time as one ``bytes``: no Python object per line in this process.

    Newlines are counted in C block by block; only the last block is searched line by line
    (backwards) for the end of the ``size``-th line.
    """
    rest = b""
    while True:
        parts, count = [rest], rest.count(b"\n")
        while count < size and (block := stream.read(READ_BYTES)):
            parts.append(block)
            count += block.count(b"\n")
        data = b"".join(parts)
        if count < size:
            if data:
                yield data, count + (not data.endswith(b"\n"))
            return
        end = len(data)
        for _ in range(count - size + 1):
            end = data.rfind(b"\n", 0, end)
        rest = data[end + 1 :]
        yield data[: end + 1], size


def _merge(report: IngestReport, outcome: Outcome) -> None:
    if outcome.records:
        report.batches += 1
        report.records += outcome.records
        report.duplicates += outcome.duplicates
        for kind, count in outcome.stored_by_kind.items():
            report.add_stored(kind, count)
        for problem in outcome.problems:
            report.add_problem(problem)


async def ingest_parallel(
    engine: AsyncEngine,
    lines: Iterable[bytes],
    *,
    source: str,
    chunk_size: int,
    workers: int,
    on_progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """:func:`~gateway.store.ingest.ingest_lines` on PostgreSQL with ``workers`` processes."""
    started = time.perf_counter()
    report = IngestReport()
    url = engine.url.render_as_string(hide_password=False)
    group = _Group(url, source, workers, chunk_size)
    merged = read = 0
    aborted = True
    try:
        for task in _chunks(lines, chunk_size):
            while group.submitted - merged >= 2 * workers:
                merged, read = await _collect(group, report, merged, read, on_progress)
            group.submit(task)
        while merged < group.submitted:
            merged, read = await _collect(group, report, merged, read, on_progress)
        aborted = False
    finally:
        await asyncio.to_thread(group.stop, abort=aborted)
    report.seconds = time.perf_counter() - started
    return report


async def _collect(
    group: _Group,
    report: IngestReport,
    merged: int,
    read: int,
    on_progress: Callable[[int], None] | None,
) -> tuple[int, int]:
    """Wait for one more outcome; merge those now contiguous. Returns (merged, lines read)."""
    outcome = await group.receive()
    group.finished[outcome.index] = outcome
    while (ready := group.finished.pop(merged, None)) is not None:
        _merge(report, ready)
        merged += 1
        read += ready.lines
        if on_progress is not None:
            on_progress(read)
    return merged, read


def choose_workers(
    engine: AsyncEngine,
    lines: Iterable[bytes] | AsyncIterable[bytes],
    *,
    workers: int | None,
    pause_gc: bool,
    chunk_size: int,
) -> tuple[int, Iterable[bytes] | AsyncIterable[bytes]]:
    """How many worker processes to ingest ``lines`` with (0: in this process), and the lines.

    Workers need PostgreSQL and lines read here (an iterable, not an async one). ``workers``
    None decides by itself: the parallel path for callers that own their process
    (``pause_gc``) and inputs of more than two chunks, whose start-up (about a second) pays.
    The lines returned replace ``lines``: the ones read to decide come first.
    """
    if engine.dialect.name != "postgresql" or isinstance(lines, AsyncIterable):
        return 0, lines
    if workers is not None:
        return max(workers, 0), lines
    if not pause_gc:
        return 0, lines
    iterator = iter(lines)
    head = list(islice(iterator, 2 * chunk_size + 1))
    if len(head) <= 2 * chunk_size:
        return 0, head
    return default_workers(), chain(head, iterator)
