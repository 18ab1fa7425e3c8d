"""``refresh``: fold the events new since the last snapshot into the rollups, in one transaction.

Steps, all inside one transaction (readers see the previous snapshot or this one, never half):

1. Lock (see :func:`~gateway.store.rollup.snapshots.open_snapshot`) and insert the snapshot row.
2. New events = batches ``previous.max_batch_id < batch_id <= max(ingest_batches.id)`` (ingest
   commits batches in id order under its own lock, so no batch below the bound can appear later).
3. Fold the users whose ``user`` record arrived in those batches into the per-source bitmaps
   (:mod:`~gateway.store.rollup.user_sources`); every row written below counts its new users
   per source with them, and stored rows holding users whose source changed are recounted
   (:mod:`~gateway.store.rollup.source_counts`).
4. Full rebuild instead when asked or before the first snapshot; once a retention cut dropped
   raw days, a full rebuild derives every coarse cell from the fine cells instead. Otherwise,
   when a catalog attribute the rollups were built with has changed
   (:mod:`~gateway.store.rollup.catalog`), the cells it moved entities between are recomputed
   from the fine cells, reading no raw event (:mod:`~gateway.store.rollup.derive`).
5. Read the events as integer arrays (:mod:`~gateway.store.rollup.events`) and fold them in one
   vectorized pass (:mod:`~gateway.store.rollup.fold`), then load the affected cells' days from
   their delta's first day on, apply (:mod:`~gateway.store.rollup.state`), write back. The
   launches' users and exceptions, and the pages, are folded in threads while the other kinds
   are read and the affected days loaded (:func:`_fold_new`). A full
   rebuild instead counts the events per UTC day and reads and folds them a range of days at a
   time, oldest first, each range holding at most :data:`REBUILD_CHUNK_EVENTS` events (or a
   single larger day), so its memory follows the largest range (and the cells' lifetimes), not
   the history. Each range's fold continues the ranges before it in memory
   (:class:`~gateway.store.rollup.fold.Seen`: users already seen in a cell are not new) and is
   written as it is (bulk COPY on PostgreSQL); lifetimes that grew after their cell was written
   are written again at the end.

A refresh with no new events still records a snapshot (``events = 0``): it certifies the data as
complete at ``taken_at``, which is what ``Snapshot.takenAt`` tells clients; rollups are untouched.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.store.db import for_cached_reads, is_postgres, unbounded, vacuum
from gateway.store.partitions import ensure_ahead, summarize_new_blocks
from gateway.store.rollup.catalog import Catalog, load_catalog, record_catalog, recorded_catalog
from gateway.store.rollup.derive import rederive_all
from gateway.store.rollup.events import (
    Days,
    EventChunk,
    batch_partitions,
    day_counts,
    day_ranges,
    read_events,
    read_kind,
)
from gateway.store.rollup.fold import (
    Folded,
    Seen,
    combo_days,
    first_days,
    fold,
    fold_launches,
)
from gateway.store.rollup.pages import (
    fold_pages,
    fold_pages_by_day,
    register_pages,
    write_pages,
)
from gateway.store.rollup.persist import (
    ensure_cells,
    group_by_first_day,
    load_states,
    write_changes,
    write_lifetimes,
    write_rebuild,
)
from gateway.store.rollup.primaries import (
    Primaries,
    assign,
    give_unknown,
    launch_users,
    read_primaries,
)
from gateway.store.rollup.recatalog import rederive
from gateway.store.rollup.retention import Retention, apply_retention, horizon
from gateway.store.rollup.snapshots import (
    Snapshot,
    close_snapshot,
    open_snapshot,
    read_latest_snapshot,
)
from gateway.store.rollup.source_counts import SourceCounter, recount_moved, source_cell_ids
from gateway.store.rollup.state import CellState, apply_delta
from gateway.store.rollup.user_sources import refresh_user_sources
from gateway.store.rollup_tables import (
    CELL_TABLES,
    PAGES_BACKFILL,
    PORTRAIT_BACKFILL,
    rollup_cells,
    rollup_days,
    rollup_pages,
    rollup_pending,
)
from gateway.store.tables import ingest_batches
from gateway.utc import as_utc

logger = logging.getLogger(__name__)

REBUILD_CHUNK_EVENTS = 4_000_000
"""A full rebuild reads and folds at most this many events at a time (unless a day has more)."""


async def _clear(conn: AsyncConnection) -> None:
    await conn.execute(delete(rollup_pages))
    await conn.execute(delete(rollup_days))
    await conn.execute(delete(rollup_cells))
    await conn.execute(delete(rollup_pending))  # a rebuild does every pending backfill


async def _new_days(conn: AsyncConnection, after: int, upto: int) -> Days | None:
    """The days (first, end exclusive) holding the events of batches ``after < id <= upto``
    (None: they stored no event)."""
    b = ingest_batches.c
    span = select(func.min(b.first_day), func.max(b.last_day)).where(b.id > after, b.id <= upto)
    first, last = (await conn.execute(span)).one()
    return None if first is None or last is None else (first, last + timedelta(days=1))


async def _fold_new(
    conn: AsyncConnection, catalog: Catalog, after: int, upto: int, counter: SourceCounter
) -> int:
    """Read the events of batches ``after < id <= upto``, fold them into the stored rows they
    change and write those back; returns how many events. The launches' part of the fold
    (:func:`fold_launches`, most of its time) and the pages' fold run in threads while the next
    kinds are read and the changed rows loaded (NumPy's sorts release the GIL: the database,
    the sorts and the loop share the cores)."""
    # Only the days the new batches hold: on PostgreSQL, only their partitions are read.
    days = await _new_days(conn, after, upto) if upto > after else None
    if days is None:
        return 0
    await register_pages(conn, after, upto, days)
    partitions = await batch_partitions(conn, after, days)

    async def read(kind: str) -> EventChunk:
        return await read_kind(
            conn, catalog, kind, after=after, upto=upto, days=days, partitions=partitions
        )

    launches = await read("launch")
    primaries = await read_primaries(conn, among=launch_users([launches]))
    await assign(conn, primaries, launches)
    first, span = days[0].toordinal(), (days[1] - days[0]).days
    threads: list[asyncio.Task[Any]] = []
    try:
        launched = asyncio.create_task(
            asyncio.to_thread(fold_launches, launches, catalog, first, span, primaries)
        )
        threads.append(launched)
        views = await read("pageView")
        pages = asyncio.create_task(asyncio.to_thread(fold_pages, [views], catalog))
        threads.append(pages)
        chunks = [launches, views, await read("adImpression")]
        summed = combo_days(chunks, first, span)
        cells = first_days(summed[0], first, span, catalog)
        ids = await ensure_cells(conn, [catalog.cell_keys[local] for local in cells])
        local_ids = {local: ids[catalog.cell_keys[local]] for local in cells}
        counter.cells.update(source_cell_ids(ids))
        states = await load_states(
            conn, group_by_first_day({local_ids[local]: day for local, day in cells.items()})
        )
        await write_pages(conn, await pages, local_ids, merge=True)
        folded = fold(chunks, catalog, primaries, await launched, summed)
    except BaseException:  # a failure is reported once the threads' work is over
        await asyncio.gather(*threads, return_exceptions=True)
        raise
    for local, changes in folded.delta().cells.items():
        apply_delta(states.setdefault(local_ids[local], CellState()), changes)
    await write_changes(conn, states, counter)
    return folded.events


async def _fold_with_portrait(
    conn: AsyncConnection,
    chunks: list[EventChunk],
    catalog: Catalog,
    primaries: dict[str, Primaries],
) -> Folded:
    """:func:`fold` with the rows' exceptions, once the launches' users without a primary
    platform and region were given theirs."""
    for chunk in chunks:
        if chunk.kind == "launch":
            await assign(conn, primaries, chunk)
    return fold(chunks, catalog, primaries)


@dataclass
class _Rebuild:
    """What a full rebuild carries from one range of days to the next."""

    ids: dict[int, int] = field(default_factory=dict)
    """Local cell number -> id of the cells stored so far."""
    seen: Seen = field(default_factory=Seen)
    events: int = 0
    primaries: dict[str, Primaries] = field(default_factory=dict)
    """The users' primary platforms and regions (kept across rebuilds, grown as ranges are
    folded)."""


async def _rebuild_range(
    conn: AsyncConnection,
    catalog: Catalog,
    upto: int,
    days: Days,
    rebuild: _Rebuild,
    counter: SourceCounter,
) -> None:
    """Fold the events of one range of days, after every range before it, and write its rows."""
    chunks = await read_events(conn, catalog, after=0, upto=upto, days=days)
    folded = await _fold_with_portrait(conn, chunks, catalog, rebuild.primaries)
    rebuild.seen.follow(folded)
    await write_rebuild(conn, catalog, folded, counter, rebuild.ids)
    rebuild.events += folded.events
    del folded  # written: its bitmaps go before the pages are folded
    for pages in fold_pages_by_day(chunks, catalog):  # a day at a time: a day's pages in memory
        await write_pages(conn, pages, rebuild.ids, merge=False)


async def _rebuild(
    conn: AsyncConnection, catalog: Catalog, upto: int, counter: SourceCounter
) -> int:
    """Fold every event up to batch ``upto`` into the emptied rollups, a range of days at a time
    in ascending order; returns the number of events."""
    ranges = day_ranges(await day_counts(conn, after=0, upto=upto), REBUILD_CHUNK_EVENTS)
    await register_pages(conn, 0, upto, None)
    rebuild = _Rebuild(primaries=await read_primaries(conn))
    await counter.ready(conn)
    counter.index()  # millions of rows to count per source
    for days in ranges:
        await _rebuild_range(conn, catalog, upto, days, rebuild, counter)
    seen = rebuild.seen
    # Each lifetime is let go once written (popped): they are the rebuild's largest holding.
    grown = ((rebuild.ids[c], seen.users.pop(c)) for c in sorted(seen.grown))
    await write_lifetimes(conn, grown, counter)
    logger.debug("full rebuild: %d events in %d day ranges", rebuild.events, len(ranges))
    return rebuild.events


async def _pending(conn: AsyncConnection, name: str) -> bool:
    """Whether a migration left the backfill ``name`` to do (:data:`rollup_pending`)."""
    found = select(rollup_pending.c.name).where(rollup_pending.c.name == name)
    return (await conn.execute(found)).first() is not None


async def _backfill_pages(conn: AsyncConnection, catalog: Catalog, upto: int) -> None:
    """Pages of the events up to batch ``upto`` when the migration that added the page report
    left them to do (a range of days at a time, as a rebuild); a no-op otherwise."""
    if not await _pending(conn, PAGES_BACKFILL):
        return
    await register_pages(conn, 0, upto, None)
    counts = await day_counts(conn, after=0, upto=upto)
    for days in day_ranges(counts, REBUILD_CHUNK_EVENTS):
        chunks = await read_events(conn, catalog, after=0, upto=upto, days=days)
        for pages in fold_pages_by_day(chunks, catalog):
            cells = sorted({day.cell for day in pages})
            ids = await ensure_cells(conn, [catalog.cell_keys[local] for local in cells])
            local_ids = {local: ids[catalog.cell_keys[local]] for local in cells}
            await write_pages(conn, pages, local_ids, merge=True)
    await conn.execute(delete(rollup_pending).where(rollup_pending.c.name == PAGES_BACKFILL))


async def _refresh(conn: AsyncConnection, *, full: bool, taken_at: datetime) -> Snapshot:
    started = time.perf_counter()
    snapshot_id = await open_snapshot(conn, taken_at)
    previous = await read_latest_snapshot(conn, before=snapshot_id)
    upto = (await conn.execute(select(func.max(ingest_batches.c.id)))).scalar() or 0
    catalog = await load_catalog(conn)
    # Once raw days were dropped, a full rebuild derives every coarse cell from the fine
    # cells (which keep those days) instead of reading raw events.
    # Rollups built before the portrait existed are rebuilt once (migration 0015).
    portrait_due = await _pending(conn, PORTRAIT_BACKFILL)
    full = full or portrait_due
    derive_all = full and previous is not None and await horizon(conn) is not None
    rebuild = (full and not derive_all) or previous is None
    if portrait_due and derive_all:  # the raw days are gone: what remains is UNKNOWN
        await give_unknown(conn, await read_primaries(conn))
        await conn.execute(delete(rollup_pending).where(rollup_pending.c.name == PORTRAIT_BACKFILL))
    after = 0 if rebuild or previous is None else previous.max_batch_id
    recorded = await recorded_catalog(conn)
    # Sources first: every row written below counts its new users per source with them.
    update = await refresh_user_sources(conn, after=after, upto=upto, full=rebuild)
    counter = SourceCounter(update.sources)
    if rebuild:
        await _clear(conn)
        events = await _rebuild(conn, catalog, upto, counter)
    else:
        if derive_all:
            await rederive_all(conn, catalog, counter)
        else:
            # Stored rows holding users whose source changed, then the cells a catalog change
            # moved entities between, from the fine cells.
            await recount_moved(conn, update.moved, counter)
            await rederive(conn, recorded, catalog, counter)
        await _backfill_pages(conn, catalog, after)
        events = await _fold_new(conn, catalog, after, upto, counter)
    if recorded != catalog.attributes():  # rewritten only when it changed
        await record_catalog(conn, catalog)
    info = Snapshot(
        id=snapshot_id,
        taken_at=taken_at,
        max_batch_id=max(upto, after),
        events=events,
        seconds=time.perf_counter() - started,
        full_rebuild=rebuild or derive_all,
    )
    await close_snapshot(conn, info)
    return info


async def publish(
    engine: AsyncEngine, *, full: bool = False, now: datetime | None = None
) -> Snapshot:
    """The refresh proper (see the module docstring): its snapshot is committed, and readers
    see it, when this returns. :func:`refresh` is this and :func:`tidy`."""
    taken_at = datetime.now(UTC) if now is None else as_utc(now)
    await ensure_ahead(engine, taken_at)  # the coming days' partitions, before ingest needs them
    async with engine.begin() as conn:
        await unbounded(conn)  # a refresh is never cut short by a request's timeout
        await for_cached_reads(conn)
        info = await _refresh(conn, full=full, taken_at=taken_at)
    logger.info(
        "snapshot %d: %d events in %.2fs%s",
        info.id, info.events, info.seconds, " (full rebuild)" if info.full_rebuild else "",
    )  # fmt: skip
    return info


async def _read_days(engine: AsyncEngine, info: Snapshot) -> list[date]:
    """The UTC days of the batches snapshot ``info`` folded (none on SQLite)."""
    if not is_postgres(engine):
        return []
    async with engine.connect() as conn:
        previous = await read_latest_snapshot(conn, before=info.id)
        after = 0 if previous is None else previous.max_batch_id
        days = await _new_days(conn, after, info.max_batch_id)
    if days is None:
        return []
    first, end = days
    return [first + timedelta(days=n) for n in range((end - first).days)]


async def tidy(engine: AsyncEngine, info: Snapshot, *, retention_days: int = 0) -> Retention | None:
    """After snapshot ``info`` was published: vacuum the rows it replaced (PostgreSQL),
    summarize the raw days it read for the next refresh's reads
    (:func:`~gateway.store.partitions.summarize_new_blocks`) and drop the raw days past the
    retained window (:mod:`~gateway.store.rollup.retention`). Readers already see the snapshot;
    this keeps the store's size bounded and the next refresh's reads short. Returns the
    retention cut (None when raw events are kept for ever)."""
    # A plain VACUUM lets the next refresh reuse the space of the rows and bitmaps this one
    # replaced instead of growing the tables (48 refreshes at small: 7.6x the compacted size
    # without it, 1.2x with it, for 11 ms a refresh). After a rebuild (every row new) it also
    # gathers the tables' statistics, so readers' plans need not wait for autovacuum.
    await vacuum(engine, CELL_TABLES, analyze=info.full_rebuild)
    await summarize_new_blocks(engine, await _read_days(engine, info))
    now = info.taken_at if info.taken_at is not None else datetime.now(UTC)
    cut = await apply_retention(engine, days=retention_days, now=now)
    if cut is not None and cut.dropped:
        logger.info("dropped %d raw events dated before %s", cut.dropped, cut.kept_from)
    return cut


async def refresh(
    engine: AsyncEngine,
    *,
    full: bool = False,
    now: datetime | None = None,
    retention_days: int = 0,
) -> Snapshot:
    """Fold new events into the rollups and record a snapshot (:func:`publish`), then vacuum
    and apply the raw-event retention (:func:`tidy`).

    Args:
        engine: The database.
        full: Rebuild every rollup from all events instead of folding only new ones.
        now: The snapshot's ``taken_at`` (naive or aware UTC); defaults to the current time.
        retention_days: ``GATEWAY_RAW_EVENT_RETENTION_DAYS`` (0: keep every raw event).
    """
    info = await publish(engine, full=full, now=now)
    await tidy(engine, info, retention_days=retention_days)
    return info
