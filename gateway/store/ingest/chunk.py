"""One chunk: a plan made outside any transaction, then one transaction that stores it.

:func:`plan_chunk` checks a decoded chunk against a :class:`CatalogView` (catalog records
first, in line order, so that events of the same chunk can refer to them; then events) and
builds the event rows; :func:`apply_chunk` stores a plan inside one transaction together with
the chunk's ``ingest_batches`` row, so a crash leaves either the whole chunk or nothing.

Planning outside the transaction lets the next chunk be planned while the database is still
busy with the previous one. The transaction re-reads the catalog under the ingest lock and
re-plans when it differs from the plan's (another ingester added records meanwhile), so the
checks are exactly those of a fully serial ingest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.store.db import unbounded
from gateway.store.ingest.bulk import BulkState, stored_keys, write_rows
from gateway.store.ingest.catalog import CatalogBatch, CatalogView, catalog_row, naive_utc
from gateway.store.ingest.decode import YIELD_EVERY, DecodedChunk, Failure
from gateway.store.ingest.events import (
    CONFLICTING_REPLAY,
    OUT_OF_RANGE,
    EventKey,
    LazyRows,
    Row,
    build_rows,
    conflict_reason,
    day_number,
    day_span,
    event_key,
    event_keys,
    key_day,
    screen_events,
    window_days,
)
from gateway.store.ingest.quarantine import quarantine_new, to_problem
from gateway.store.ingest.replays import conflicting_keys
from gateway.store.ingest.report import INVALID_VALUE, Problem
from gateway.store.ingest.users import UidCache
from gateway.store.partitions import ensure_days
from gateway.store.records import EventRecord, UserRecord, kind_of
from gateway.store.tables import EVENT_TABLES, ingest_batches

INGEST_LOCK_KEY = 7_460_001
"""PostgreSQL advisory lock serializing the chunk transactions of concurrent ingesters.

Held from the batch row's insert to commit, it makes batch ids commit in increasing order (a
refresh that reads up to batch N never misses a later-committing batch below N) and keeps the
catalog read at the start of a chunk current until the chunk commits.
"""


@dataclass
class Plan:
    """What a chunk will write, checked against the catalog ``base``."""

    base: CatalogView
    catalog: CatalogBatch = field(default_factory=CatalogBatch)
    stored_by_kind: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    failures: list[Failure] = field(default_factory=list)
    events: dict[str, list[EventRecord]] = field(default_factory=dict)
    guids: set[str] = field(default_factory=set)
    uids: dict[str, int] | None = None
    probed: bool = False
    """True once :func:`drop_stored_events` removed the events stored before the chunk."""
    dropped: dict[str, list[EventRecord]] = field(default_factory=dict)
    """The events :func:`drop_stored_events` removed: compared with the stored ones when the
    chunk is applied (a different event under a stored id is a conflicting replay)."""


@dataclass
class ChunkOutcome:
    """What a chunk's transaction did; failure positions index the chunk's lines."""

    batch_id: int
    records: int
    stored_by_kind: dict[str, int]
    duplicates: int
    failures: list[Failure]
    replanned: bool
    plan: Plan | None = None
    """The plan written (a new one when ``replanned``)."""
    days: tuple[int, int] | None = None
    """Day numbers of the oldest and newest event written (None: no event)."""


def plan_chunk(decoded: DecodedChunk, view: CatalogView) -> Plan:
    """Check ``decoded`` against ``view``; ``view`` ends as the catalog after the chunk."""
    plan = Plan(base=view.copy(), failures=list(decoded.failures))
    for _ in _planning(decoded, view, plan):
        pass
    return plan


async def plan_chunk_cooperatively(decoded: DecodedChunk, view: CatalogView) -> Plan:
    """:func:`plan_chunk`, yielding to the event loop now and then (see the pipeline)."""
    plan = Plan(base=view.copy(), failures=list(decoded.failures))
    for _ in _planning(decoded, view, plan):
        await asyncio.sleep(0)
    return plan


def _planning(decoded: DecodedChunk, view: CatalogView, plan: Plan) -> Iterator[None]:
    """Fill ``plan``; yields between steps of a few milliseconds each."""
    users = plan.catalog.users
    for done, (position, record) in enumerate(decoded.catalog, 1):
        if type(record) is UserRecord:
            # The bulk of catalog records (millions of users), checked against nothing: a
            # short path, straight into the batch's columns.
            try:
                users[record.guid] = (record.source, naive_utc(record.created_at))
            except OverflowError:
                plan.failures.append(Failure(position, "user", INVALID_VALUE, OUT_OF_RANGE))
            else:
                plan.stored_by_kind["user"] = plan.stored_by_kind.get("user", 0) + 1
            continue
        kind = kind_of(record)
        try:
            row = catalog_row(record)
        except OverflowError:
            plan.failures.append(Failure(position, kind, INVALID_VALUE, OUT_OF_RANGE))
            continue
        problem = view.apply(record)
        if problem is None:
            plan.catalog.add(record, row)
            plan.stored_by_kind[kind] = plan.stored_by_kind.get(kind, 0) + 1
        else:
            plan.failures.append(Failure(position, kind, *problem))
        if done % YIELD_EVERY == 0:
            yield
    for kind, records in decoded.events.items():
        yield
        kept, failures, repeats = screen_events(records, view, plan.guids, decoded.refused_days)
        plan.failures.extend(Failure(pos, kind, *problem) for pos, problem in failures)
        plan.duplicates += repeats
        plan.events[kind] = kept
    plan.failures.sort(key=lambda failure: failure.position)


async def resolve_plan_users(plan: Plan, conn: AsyncConnection, cache: UidCache) -> None:
    """Find (or create, on ``conn``) the uid of every user of the plan's events."""
    plan.uids = await cache.resolve(conn, plan.guids)


async def make_room(engine: AsyncEngine, decoded: DecodedChunk) -> None:
    """PostgreSQL: create the partitions of the days ``decoded``'s events fall on, before its
    transaction (:mod:`gateway.store.partitions`); the days refused are recorded on it and
    their events quarantined when it is planned. A no-op on SQLite."""
    if engine.dialect.name != "postgresql":
        return
    days: set[int] = set()
    for records in decoded.events.values():
        days |= window_days(record for _, record in records)
    refused = await ensure_days(engine, map(key_day, days))
    decoded.refused_days = frozenset(map(day_number, refused))


ROOM_ATTEMPTS = 3
"""Transactions a chunk gets when PostgreSQL refuses a row for want of its day's partition."""

_log = logging.getLogger(__name__)
T = TypeVar("T")


def missing_partition(exc: BaseException) -> bool:
    """True when ``exc`` is PostgreSQL refusing a row whose day has no partition (raised by
    the driver directly, as a COPY does, or wrapped by SQLAlchemy)."""
    seen: BaseException | None = exc
    for _ in range(3):  # the error, SQLAlchemy's adapter, the driver's
        if seen is None:
            return False
        if getattr(seen, "sqlstate", None) == "23514" and "no partition of relation" in str(seen):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


async def with_room(
    engine: AsyncEngine,
    decoded: DecodedChunk,
    store: Callable[[AsyncConnection, bool], Awaitable[T]],
) -> T:
    """Run ``store(conn, replan)`` in a transaction of its own; if PostgreSQL refuses a row
    because its day has no partition, make room again (:func:`make_room`) and retry with
    ``replan`` True (the plan is made again, inside the transaction).

    A day can go between the chunk's :func:`make_room` and its transaction (retention drops
    the oldest day at midnight), and PostgreSQL was once seen refusing the first row of a day
    whose partition a parallel ingester had just attached (building ``large``; not reproduced
    since). The retry then stores the chunk, or quarantines the events of a day now too old,
    instead of failing the whole run.
    """
    for attempt in range(1, ROOM_ATTEMPTS + 1):
        try:
            async with engine.begin() as conn:
                return await store(conn, attempt > 1)
        except Exception as exc:
            if attempt == ROOM_ATTEMPTS or not missing_partition(exc):
                raise
            _log.warning("chunk refused for want of a partition, retrying: %s", exc)
            await make_room(engine, decoded)
    raise AssertionError("unreachable")  # pragma: no cover


async def store_chunk(
    engine: AsyncEngine,
    decoded: DecodedChunk,
    plan: Plan | None,
    raws: Sequence[bytes],
    *,
    first: int,
    source: str,
    cache: UidCache,
    bulk: BulkState,
) -> tuple[ChunkOutcome, list[Problem]]:
    """Store a chunk of new input (``raws``, its first line numbered ``first``) in a
    transaction of its own (:func:`with_room`), quarantining its failures with their lines;
    the outcome and the problems quarantined."""
    records = len(raws) - decoded.blanks

    async def store(conn: AsyncConnection, replan: bool) -> tuple[ChunkOutcome, list[Problem]]:
        await unbounded(conn)  # ingestion is not bounded by a request's timeout
        out = await apply_chunk(
            conn,
            decoded,
            None if replan else plan,
            records=records,
            source=source,
            cache=cache,
            bulk=bulk,
        )
        problems = [to_problem(f, first + f.position, source) for f in out.failures]
        await quarantine_new(conn, problems, [raws[f.position] for f in out.failures])
        return out, problems

    return await with_room(engine, decoded, store)


async def drop_stored_events(
    plan: Plan, conn: AsyncConnection, pending: Iterable[dict[str, set[EventKey]]]
) -> None:
    """PostgreSQL: drop the plan's events whose key is stored, or in a chunk of ``pending``.

    The pipeline's reader calls it ahead of the chunk's transaction, so the index probes
    overlap the writer's work; ``pending`` holds the event keys of the chunks ahead of this
    one that may not have committed yet. Dropped events count as duplicates.
    """
    for kind, events in plan.events.items():
        if not events:
            continue
        keys = event_keys(events)
        gone = await stored_keys(conn, kind, keys)
        for chunk_keys in pending:
            gone.update(chunk_keys.get(kind, set()).intersection(keys))
        if gone:
            pairs = list(zip(events, keys, strict=True))
            plan.events[kind] = [event for event, key in pairs if key not in gone]
            plan.dropped.setdefault(kind, []).extend(e for e, key in pairs if key in gone)
            plan.duplicates += len(events) - len(plan.events[kind])
    plan.probed = True


def _now() -> datetime:
    return datetime.now(UTC)


async def _open_batch(conn: AsyncConnection, source: str, records: int) -> int:
    if conn.dialect.name == "postgresql":
        await conn.execute(select(func.pg_advisory_xact_lock(INGEST_LOCK_KEY)))
    # On SQLite this first write takes the database's write lock for the whole chunk.
    values = {"source": source[:1024], "committed_at": _now(), "records": records}
    result = await conn.execute(
        insert(ingest_batches).values(**values, stored=0, duplicates=0, quarantined=0)
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def _close_batch(conn: AsyncConnection, outcome: ChunkOutcome) -> None:
    await conn.execute(
        update(ingest_batches)
        .where(ingest_batches.c.id == outcome.batch_id)
        .values(
            committed_at=_now(),
            stored=sum(outcome.stored_by_kind.values()),
            duplicates=outcome.duplicates,
            quarantined=len(outcome.failures),
            # The newest batch with catalog records is the catalog's version (cache keys).
            catalog_stored=sum(
                n for kind, n in outcome.stored_by_kind.items() if kind not in EVENT_TABLES
            ),
            # The refresh reads only these days (on PostgreSQL their partitions).
            first_day=None if outcome.days is None else key_day(outcome.days[0]),
            last_day=None if outcome.days is None else key_day(outcome.days[1]),
        )
    )


async def _conflicts(
    conn: AsyncConnection, decoded: DecodedChunk, kind: str, rows: Iterable[Row]
) -> list[Failure]:
    """The conflicting replays among ``rows`` (keys stored with other content): a failure for
    the first line of each such key in the chunk (the later ones were repeats)."""
    conflicts = await conflicting_keys(conn, kind, rows)
    failures: list[Failure] = []
    for position, record in decoded.events.get(kind, []):
        key = event_key(record)
        if key in conflicts:
            conflicts = conflicts - {key}
            failures.append(Failure(position, kind, CONFLICTING_REPLAY, conflict_reason(record.id)))
    return failures


async def apply_chunk(
    conn: AsyncConnection,
    decoded: DecodedChunk,
    plan: Plan | None,
    *,
    records: int,
    source: str,
    cache: UidCache,
    bulk: BulkState,
) -> ChunkOutcome:
    """Store a decoded chunk inside the caller's transaction on ``conn``.

    Args:
        conn: A connection inside a transaction; the caller commits.
        decoded: The chunk's records and decode failures.
        plan: The chunk's plan with users resolved, or None to plan inside the transaction.
        records: How many lines the chunk holds (for the batch row).
        source: Where the chunk came from, recorded on the batch row.
        cache: guid -> uid of this run, extended with the chunk's new users.
        bulk: The run's write-path state.
    """
    batch_id = await _open_batch(conn, source, records)
    current = await CatalogView.load(conn)
    replanned = plan is None or plan.base != current
    if plan is None or replanned:
        plan = plan_chunk(decoded, current)
        await resolve_plan_users(plan, conn, cache)
    await plan.catalog.write(conn, batch_id)
    stored_by_kind = dict(plan.stored_by_kind)
    duplicates = plan.duplicates
    failures = list(plan.failures)
    assert plan.uids is not None
    postgres = conn.dialect.name == "postgresql"
    days = day_span(plan.events.values())
    for kind, kept in plan.events.items():
        if not kept:
            continue
        rows: Sequence[Row] | LazyRows
        if postgres:
            rows = LazyRows(kind, kept, batch_id, plan.uids)
        else:
            rows = build_rows(kind, kept, batch_id, plan.uids, postgres)
        stored = await write_rows(conn, kind, rows, bulk, plan.probed)
        skipped = len(rows) - stored
        if skipped:  # ids stored before: replays, unless their content differs
            conflicts = await _conflicts(conn, decoded, kind, rows)
            failures += conflicts
            skipped -= len(conflicts)
        duplicates += skipped
        if stored:
            stored_by_kind[kind] = stored
    for kind, dropped in plan.dropped.items():  # replays the reader's probe set aside
        conflicts = await _conflicts(
            conn, decoded, kind, build_rows(kind, dropped, batch_id, plan.uids, postgres)
        )
        failures += conflicts
        duplicates -= len(conflicts)
    failures.sort(key=lambda failure: failure.position)
    out = ChunkOutcome(
        batch_id, records, stored_by_kind, duplicates, failures, replanned, plan, days
    )
    await _close_batch(conn, out)
    return out
