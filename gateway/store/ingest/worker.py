"""A worker process of the parallel ingest: prepare chunks, then store each one in its turn.

Each worker takes the next chunk from the shared task queue, decodes and plans it (the Python
work that one core cannot do fast enough for a whole file), drops the replays of recent chunks
(:class:`~gateway.store.ingest.recent.RecentIds`), creates the chunk's new users, and then
waits for its *turn*: chunks commit one at a time in input order, so batch ids commit in
increasing order and a chunk's catalog checks see exactly the chunks before it. In its turn it
stores the chunk in one transaction over its own connection
(:func:`~gateway.store.ingest.chunk.apply_chunk`, which re-plans when the catalog changed
meanwhile), passes the turn on and reports the outcome to the parent.

A failure ends the run: the failing worker raises the shared ``aborted`` flag, the others stop
before their turn, and every chunk before the failing one stays committed.
"""

from __future__ import annotations

import asyncio
import gc
import pickle
import queue
import traceback
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Condition
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.settings import load_settings
from gateway.store.ingest.bounds import configure_ingest
from gateway.store.ingest.bulk import BulkState
from gateway.store.ingest.catalog import CatalogView
from gateway.store.ingest.chunk import (
    Plan,
    drop_stored_events,
    make_room,
    plan_chunk,
    store_chunk,
)
from gateway.store.ingest.decode import DecodedChunk, decode_chunk
from gateway.store.ingest.recent import ChunkIds, PackedIds, RecentIds, chunk_ids, pack, unpack
from gateway.store.ingest.report import Problem
from gateway.store.ingest.users import CACHE_LIMIT, USERS_LOCK_KEY, UidCache

POLL_SECONDS = 0.5
"""How often a waiting worker looks at the ``aborted`` flag."""


class IngestWorkerError(RuntimeError):
    """A worker failed with an exception that cannot cross processes; holds its traceback."""


@dataclass(frozen=True)
class Task:
    """Chunk ``index`` of the run: ``raws[i]`` is line ``first + i``.

    ``raws`` may also be the chunk's bytes, newlines included (cheaper to send).
    """

    index: int
    first: int
    raws: list[bytes] | bytes

    def lines(self) -> list[bytes]:
        """The chunk's lines (without their newline when they came as one block)."""
        if isinstance(self.raws, list):
            return self.raws
        lines = self.raws.split(b"\n")
        if lines[-1] == b"":
            lines.pop()  # the newline ending the block ends its last line
        return lines


@dataclass(frozen=True)
class Outcome:
    """What a committed chunk did, as the parent merges it into the report."""

    index: int
    lines: int
    records: int
    stored_by_kind: dict[str, int]
    duplicates: int
    problems: list[Problem]


@dataclass(frozen=True)
class Links:
    """What a worker shares with the parent and its peers (inherited at spawn)."""

    url: str
    source: str
    number: int
    span: int
    tasks: Queue[Task | None]
    results: Queue[tuple[str, int, Any]]
    inboxes: list[Queue[tuple[int, PackedIds]]]
    turn: Synchronized[int]
    turn_changed: Condition
    aborted: Synchronized[int]
    id_changes: Synchronized[int]
    """Bumped when a re-planned chunk stores other events than the ids it announced."""


GC_EVERY = 50
"""Chunks between two collections of a worker's cyclic garbage: without them its memory grew with
the input (from 1.5 to 2.3 GiB a worker over the 100M events of ``xlarge``)."""


class StoppedError(Exception):
    """The run was aborted elsewhere; this worker stops without touching the database."""


def run_worker(links: Links) -> None:
    """Process entry point: serve tasks until the parent sends None."""
    # A dedicated process holding millions of acyclic objects: automatic collections only cost
    # time. The few cycles each chunk's transaction leaves (asyncio and driver objects) are
    # collected every GC_EVERY chunks instead (see _Worker.serve).
    gc.disable()
    # Spawned with the parent's environment: the same ingestion bounds as the parent.
    configure_ingest(load_settings())
    # Never block the exit on peers that stopped reading ids; results are flushed at exit (a
    # failure's report must reach the parent, which reads them to the end or terminates us).
    for inbox in links.inboxes:
        inbox.cancel_join_thread()
    asyncio.run(_Worker(links).serve())


@dataclass
class _Prepared:
    """A chunk ready for its turn."""

    task: Task
    raws: list[bytes]
    decoded: DecodedChunk
    plan: Plan | None
    announced: ChunkIds = field(default_factory=dict)
    id_changes: int = 0


class _Worker:
    def __init__(self, links: Links) -> None:
        self.links = links
        self.engine: AsyncEngine = create_async_engine(links.url, pool_size=2, max_overflow=2)
        self.cache = UidCache()
        self.bulk = BulkState()
        self.recent = RecentIds(links.span)
        self.pending: dict[int, ChunkIds] = {}
        self.absorbed = 0  # chunks below this index are in self.recent
        self.id_changes = 0

    async def serve(self) -> None:
        try:
            handled = 0
            while (task := self.links.tasks.get()) is not None:
                if not await self._handle(task):
                    break
                handled += 1
                if handled % GC_EVERY == 0:
                    gc.collect()
        finally:
            await self.engine.dispose()

    async def _handle(self, task: Task) -> bool:
        """Prepare and store ``task``; False when the run is over for this worker."""
        try:
            prepared = await self._prepare(task)
            self._wait_turn(task.index)
            outcome = await self._store(prepared)
        except StoppedError:
            self.links.results.put(("stopped", task.index, None))
            return False
        except BaseException as exc:
            self._abort()
            self.links.results.put(("error", task.index, _portable(exc)))
            return False
        self._pass_turn(task.index)
        self.links.results.put(("done", task.index, outcome))
        return True

    async def _prepare(self, task: Task) -> _Prepared:
        raws = task.lines()
        decoded = decode_chunk(raws)
        if len(raws) == decoded.blanks:
            self._announce(task.index, {})
            return _Prepared(task, raws, decoded, None)
        await make_room(self.engine, decoded)
        async with self.engine.connect() as conn:
            view = await CatalogView.load(conn)
        plan = plan_chunk(decoded, view)
        plan.catalog.copy_new_users = True  # this worker creates users under the users lock
        announced = chunk_ids(plan.events)
        self._announce(task.index, announced)
        prepared = _Prepared(task, raws, decoded, plan, announced, self.links.id_changes.value)
        self._absorb(task.index, prepared.id_changes)
        before = {kind: events for kind, events in plan.events.items() if events}
        seen = self.recent.drop_seen(plan.events, announced)
        if seen:  # set aside, compared with the stored events when applied (conflicts)
            for kind, events in before.items():
                kept = set(map(id, plan.events.get(kind, ())))
                gone = [event for event in events if id(event) not in kept]
                if gone:
                    plan.dropped.setdefault(kind, []).extend(gone)
        plan.duplicates += seen
        await self._resolve_users(plan)
        if not self.bulk.direct_copy:
            await self._probe(plan)
        return prepared

    def _announce(self, index: int, ids: ChunkIds) -> None:
        """Tell the peers which ids chunk ``index`` stores; remember them for later chunks."""
        packed = pack(ids)
        for number, inbox in enumerate(self.links.inboxes):
            if number != self.links.number:
                inbox.put((index, packed))
        self.pending[index] = ids

    def _absorb(self, index: int, id_changes: int) -> None:
        """Put the ids of every chunk before ``index`` into :attr:`recent` (waiting for peers)."""
        if id_changes != self.id_changes:
            # A chunk stored other events than it announced: forget what may be wrong.
            self.id_changes, self.recent = id_changes, RecentIds(self.links.span)
        inbox = self.links.inboxes[self.links.number]
        while self.absorbed < index:
            ids = self.pending.pop(self.absorbed, None)
            if ids is None:
                try:
                    chunk, announced = inbox.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    self._check_aborted()
                    continue
                self.pending[chunk] = unpack(announced)
                continue
            self.recent.add(ids)
            self.absorbed += 1

    async def _resolve_users(self, plan: Plan) -> None:
        # One pass over the chunk's users (lookups in a cache of up to millions): most chunks
        # name only known users once the run has met them.
        missing = self.cache.missing(plan.guids)
        if missing:
            if len(self.cache.uids) + len(missing) > CACHE_LIMIT:
                missing = plan.guids  # the cache starts over: it must learn them all
            async with self.engine.begin() as conn:
                await conn.execute(select(func.pg_advisory_xact_lock(USERS_LOCK_KEY)))
                await self.cache.resolve(conn, missing)
        plan.uids = self.cache.uids

    async def _probe(self, plan: Plan) -> None:
        """Drop events stored before (an earlier run); back to blind COPYs when none are."""
        before = plan.duplicates
        async with self.engine.connect() as conn:
            await drop_stored_events(plan, conn, ())
        if plan.duplicates == before:
            self.bulk.direct_copy = True

    async def _store(self, prepared: _Prepared) -> Outcome:
        task, plan, lines = prepared.task, prepared.plan, len(prepared.raws)
        records = lines - prepared.decoded.blanks
        if not records:
            return Outcome(task.index, lines, 0, {}, 0, [])
        if self.links.id_changes.value != prepared.id_changes:
            plan = None  # replays were dropped on ids that may be wrong: plan again, exactly

        out, problems = await store_chunk(
            self.engine,
            prepared.decoded,
            plan,
            prepared.raws,
            first=task.first,
            source=self.links.source,
            cache=self.cache,
            bulk=self.bulk,
        )
        if (
            out.replanned
            and out.plan is not None
            and chunk_ids(out.plan.events) != prepared.announced
        ):
            with self.links.turn_changed:
                self.links.id_changes.value += 1
        return Outcome(task.index, lines, records, out.stored_by_kind, out.duplicates, problems)

    def _wait_turn(self, index: int) -> None:
        with self.links.turn_changed:
            while self.links.turn.value != index:
                self._check_aborted()
                self.links.turn_changed.wait(POLL_SECONDS)
        self._check_aborted()

    def _pass_turn(self, index: int) -> None:
        with self.links.turn_changed:
            self.links.turn.value = index + 1
            self.links.turn_changed.notify_all()

    def _check_aborted(self) -> None:
        if self.links.aborted.value:
            raise StoppedError

    def _abort(self) -> None:
        with self.links.turn_changed:
            self.links.aborted.value = 1
            self.links.turn_changed.notify_all()


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling (to be re-raised by the parent), else a stand-in."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        text = "".join(traceback.format_exception(exc))
        return IngestWorkerError(f"ingest worker failed: {exc!r}\n{text}")
    return exc
