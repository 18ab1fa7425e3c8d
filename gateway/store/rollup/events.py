"""Reading the events of a batch range as numpy column arrays, one array set per event kind.

Only narrow integer columns are read. PostgreSQL maps app and mini program ids to their position
in the catalog in SQL (a join on ``unnest(ids) WITH ORDINALITY``), turns the ``day`` column into a
day number and streams the result with binary COPY (:mod:`~gateway.store.rollup.copyout`);
SQLite (small databases) selects the raw columns and maps them in Python. Both give the same
arrays, which :func:`combos` turns into the catalog's local combo numbers for the vectorized fold.

A full rebuild reads a range of UTC days at a time (:func:`day_counts` sizes the ranges); the
day predicate lives in :func:`_in_days` alone (on PostgreSQL it reads only those partitions).

An incremental refresh reads few new events out of day partitions holding millions of older
ones. On PostgreSQL it names the partitions of its days (:func:`new_rows`) and finds its batches
through their BRIN index alone (:func:`few_rows_plan`): with the day predicate on the parent, and
a day's statistics not yet gathered after a large ingest, the planner scanned the whole day
(1,800 new events after 2.1M: 200 ms a kind instead of 5). ``tidy`` summarizes the index's new
block ranges after each refresh, so the next one reads only the blocks written since.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Date,
    FromClause,
    Integer,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    column,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy import table as table_clause
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import DataType
from gateway.metrics.arrays import distinct
from gateway.store.partitions import partition_days, partition_name
from gateway.store.rollup.catalog import Catalog
from gateway.store.rollup.copyout import copy_int_columns
from gateway.store.rollup_tables import page_paths
from gateway.store.tables import EVENT_TABLES

logger = logging.getLogger(__name__)

Int64s = npt.NDArray[np.int64]
DATA_TYPES = [member.name for member in DataType]
EPOCH = date(1970, 1, 1)
ONE_DAY = timedelta(days=1)
EXTRA = {
    "launch": ("platform", "region"),
    "pageView": ("duration_ms", "page"),
    "adImpression": ("valid", "revenue_micros"),
}
"""Kind-specific columns read besides app, mini program, data type, uid and day."""
CHUNK_ROWS = 200_000
"""SQLite: rows converted from Python objects at a time (bounds their memory)."""
Days = tuple[date, date]
"""A range of UTC days: the first one, and the one after the last (exclusive)."""


@dataclass
class EventChunk:
    """Events of one kind as parallel arrays.

    Attributes:
        kind: ``launch``, ``pageView`` or ``adImpression``.
        combo: Local combo number of each event (see :class:`Catalog`).
        day: UTC day of each event, as a proleptic ordinal (``date.toordinal()``).
        uid: Dense user id of each event.
        values: Additive columns ``launches, page_views, duration_ms, valid_impressions,
            revenue_micros`` contributed by each event, shape (n, 5).
        page: Page number of each page view (``page_paths.id``, 0 without a page); None for
            the other kinds.
        platform: Platform code of each launch (:mod:`~gateway.store.audience_codes`); None
            for the other kinds.
        region: Region code of each launch; None for the other kinds.
    """

    kind: str
    combo: Int64s
    day: Int64s
    uid: Int64s
    values: Int64s
    page: Int64s | None = None
    platform: Int64s | None = None
    region: Int64s | None = None


def _positions(ids: list[str], name: str) -> Any:
    """``unnest(:ids) WITH ORDINALITY AS name(id, n)``: each id with its 1-based position."""
    values = func.unnest(literal(ids, ARRAY(String)))
    return values.table_valued("id", with_ordinality="n").render_derived(name=name)


def _in_days(table: Table, first: date, end: date) -> ColumnElement[bool]:
    """Events dated ``first <= day < end`` (UTC days; PostgreSQL reads only their partitions)."""
    return and_(table.c.day >= first, table.c.day < end)


def _where(table: Table, after: int, upto: int, days: Days | None) -> list[ColumnElement[bool]]:
    """Events with ``after < batch_id <= upto``, and dated within ``days`` if given."""
    where = [table.c.batch_id > after, table.c.batch_id <= upto]
    return where if days is None else [*where, _in_days(table, *days)]


async def batch_partitions(
    conn: AsyncConnection, after: int, days: Days | None
) -> list[date] | None:
    """PostgreSQL, an incremental read (``after > 0``) of ``days``: the days among them that
    have partitions, which :func:`new_rows` names. None (read the parent table) on SQLite, for
    a full rebuild, or without days."""
    if conn.dialect.name != "postgresql" or after <= 0 or days is None:
        return None
    first, end = days
    return [day for day in await partition_days(conn) if first <= day < end]


def new_rows(
    source: Table, after: int, upto: int, days: Days | None, partitions: Sequence[date] | None
) -> tuple[FromClause, list[ColumnElement[bool]]] | None:
    """Where to read the rows of ``source`` with ``after < batch_id <= upto`` within ``days``:
    the table and its predicate, or, given ``partitions`` (:func:`batch_partitions`), the union
    of those partitions' rows of the batches, named as the table (None: no partition, no row).
    A partition named has no day predicate, so its BRIN index on ``batch_id`` is the only one
    that applies (its primary key's ``day`` column would otherwise draw the planner)."""
    if partitions is None:
        return source, _where(source, after, upto, days)
    if not partitions:
        return None
    parts = []
    for day in partitions:
        columns = [column(c.name, c.type) for c in source.columns]
        part = table_clause(partition_name(source.name, day), *columns)
        parts.append(select(part).where(part.c.batch_id > after, part.c.batch_id <= upto))
    rows = parts[0] if len(parts) == 1 else union_all(*parts)
    return rows.subquery(source.name), []


@asynccontextmanager
async def few_rows_plan(conn: AsyncConnection, few: bool) -> AsyncIterator[None]:
    """PostgreSQL: plan the statements inside without nested loops and, when ``few`` (an
    incremental read of named partitions), without sequential scans, merge joins, sorts or JIT,
    restoring the settings after.

    The joins on the catalog positions (thousands of rows) must be hash joins: when the planner
    expects about one event (statistics missing, or a range past the ``at`` histogram) it picks a
    nested loop that scans every position for every event (a full rebuild of 1M events took 65 s
    instead of 1.4 s), or a merge join that sorts the events (on disk: 0.6 s for 840k page views
    of a 2.1M-event batch); the distinct page paths of new page views are hashed, not sorted
    (0.2 s of sorting on disk for the same page views). New events are found through the BRIN
    index, whatever the day's statistics say; the cost that disabling sequential scans adds to
    the small catalog tables' scans would otherwise make the planner compile the statement with
    JIT (0.22 s a statement).
    ``set_config(..., true)`` = ``SET LOCAL``: restored after the statements succeed; after an
    error the transaction is aborted and ends with its settings (restoring then would fail too,
    and hide the error).
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    few_only = ["enable_seqscan", "enable_mergejoin", "enable_sort", "jit"]
    names = ["enable_nestloop", *(few_only if few else [])]
    found = await conn.execute(select(*(func.current_setting(name) for name in names)))
    previous = found.one()
    await conn.execute(select(*(func.set_config(name, "off", True) for name in names)))
    yield
    restore = (func.set_config(n, v, True) for n, v in zip(names, previous, strict=True))
    await conn.execute(select(*restore))


def _pg_statement(kind: str, catalog: Catalog, rows: FromClause, where: list[Any]) -> Select[Any]:
    t = rows.c
    apps = _positions(list(catalog.apps), "apps")
    mps = _positions(list(catalog.mini_programs), "mps")
    data_type = case({name: i for i, name in enumerate(DATA_TYPES)}, value=t.data_type)
    columns: list[Any] = [
        cast(func.coalesce(apps.c.n, 0) - 1, Integer).label("app"),
        cast(func.coalesce(mps.c.n, 0) - 1, Integer).label("mp"),
        cast(func.coalesce(data_type, -1), Integer).label("dt"),
        cast(t.uid, Integer).label("uid"),
        cast(t.day - literal(EPOCH, Date), Integer).label("day"),
    ]
    joined = rows.outerjoin(apps, apps.c.id == t.target_app_id).outerjoin(
        mps, mps.c.id == t.mini_program_id
    )
    if kind == "pageView":
        columns.append(cast(t.duration_ms, BigInteger).label("duration_ms"))
        columns.append(cast(func.coalesce(page_paths.c.id, 0), Integer).label("page"))
        joined = joined.outerjoin(page_paths, page_paths.c.path == t.page)
    elif kind == "launch":
        columns.append(cast(t.platform, Integer).label("platform"))
        columns.append(cast(t.region, Integer).label("region"))
    elif kind == "adImpression":
        columns.append(cast(t.valid, Integer).label("valid"))
        columns.append(cast(t.revenue_micros, BigInteger).label("revenue_micros"))
    return select(*columns).select_from(joined).where(*where)


def _index(values: list[Any], positions: dict[Any, int]) -> Int64s:
    return np.array([positions.get(v, -1) for v in values], dtype=np.int64).reshape(-1)


def _convert(kind: str, rows: list[Any], catalog: Catalog) -> dict[str, Int64s]:
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in range(5 + len(EXTRA[kind]))]
    epoch = EPOCH.toordinal()
    out = {
        "app": _index(list(cols[0]), {app: i for i, app in enumerate(catalog.apps)}),
        "mp": _index(list(cols[1]), {mp: i for i, mp in enumerate(catalog.mini_programs)}),
        "dt": _index([v.name for v in cols[2]], {n: i for i, n in enumerate(DATA_TYPES)}),
        "uid": np.array(cols[3], dtype=np.int64).reshape(-1),
        "day": np.array([day.toordinal() - epoch for day in cols[4]], dtype=np.int64).reshape(-1),
    }
    for name, values in zip(EXTRA[kind], cols[5:], strict=True):
        out[name] = np.fromiter(map(int, values), dtype=np.int64, count=len(values))
    return out


async def _sqlite_columns(
    conn: AsyncConnection,
    kind: str,
    catalog: Catalog,
    after: int,
    upto: int,
    days: Days | None = None,
) -> dict[str, Int64s]:
    """The PostgreSQL query's columns, converted in Python :data:`CHUNK_ROWS` rows at a time."""
    table = EVENT_TABLES[kind]
    names = ("target_app_id", "mini_program_id", "data_type", "uid", "day", *EXTRA[kind])
    columns: list[Any] = [table.c[name] for name in names if name != "page"]
    joined: Any = table
    if kind == "pageView":  # the page's number, as on PostgreSQL: only this batch's paths
        columns.append(func.coalesce(page_paths.c.id, 0))
        joined = table.outerjoin(page_paths, page_paths.c.path == table.c.page)
    stmt = select(*columns).select_from(joined).where(*_where(table, after, upto, days))
    result = await conn.stream(stmt)
    parts = [_convert(kind, [], catalog)]  # never empty, for concatenate
    async for rows in result.partitions(CHUNK_ROWS):
        parts.append(_convert(kind, [tuple(r) for r in rows], catalog))
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def combos(catalog: Catalog, app: Int64s, mp: Int64s, dt: Int64s) -> Int64s:
    """The local combo number of each (app, mini program, data type) position; -1 if unknown."""
    if len(app) == 0:
        return np.zeros(0, dtype=np.int64)
    apps, mps = list(catalog.apps), list(catalog.mini_programs)
    width = len(DATA_TYPES) + 1
    key = ((app + 1) * (len(mps) + 1) + (mp + 1)) * width + (dt + 1)
    unique, inverse = distinct(key)
    lookup = np.empty(len(unique), dtype=np.int64)
    for i, k in enumerate(unique.tolist()):
        rest, d = divmod(k, width)
        a, m = divmod(rest, len(mps) + 1)
        known = a > 0 and m > 0 and d > 0
        lookup[i] = catalog.combo(apps[a - 1], mps[m - 1], DATA_TYPES[d - 1]) if known else -1
    return lookup[inverse]


def _values(kind: str, cols: dict[str, Int64s]) -> Int64s:
    values = np.zeros((len(cols["uid"]), 5), dtype=np.int64)
    if kind == "launch":
        values[:, 0] = 1
    elif kind == "pageView":
        values[:, 1] = 1
        values[:, 2] = cols["duration_ms"]
    else:
        valid = (cols["valid"] != 0).astype(np.int64)
        values[:, 3] = valid
        # Only valid impressions earn revenue (SPEC §4: "sum of revenue of those valid ...").
        values[:, 4] = cols["revenue_micros"] * valid
    return values


def _chunk(kind: str, cols: dict[str, Int64s], catalog: Catalog) -> EventChunk:
    combo = combos(catalog, cols["app"], cols["mp"], cols["dt"])
    day = cols["day"] + EPOCH.toordinal()
    extra = {name: cols.get(name) for name in ("page", "platform", "region")}
    known = combo >= 0
    if not known.all():
        # Ingestion validates references, so this means a catalog row was removed by hand.
        logger.warning("%d %s events name an unknown app or mini program", (~known).sum(), kind)
        combo, day, cols = combo[known], day[known], {k: v[known] for k, v in cols.items()}
        extra = {name: None if v is None else v[known] for name, v in extra.items()}
    return EventChunk(kind, combo, day, cols["uid"], _values(kind, cols), **extra)


async def _pg_columns(
    conn: AsyncConnection,
    kind: str,
    catalog: Catalog,
    after: int,
    upto: int,
    days: Days | None,
    partitions: Sequence[date] | None,
) -> dict[str, Int64s]:
    """The PostgreSQL query's columns (:func:`few_rows_plan`)."""
    found = new_rows(EVENT_TABLES[kind], after, upto, days, partitions)
    rows, where = found if found is not None else (EVENT_TABLES[kind], [literal(False)])
    async with few_rows_plan(conn, partitions is not None):
        return await copy_int_columns(conn, _pg_statement(kind, catalog, rows, where))


async def read_events(
    conn: AsyncConnection,
    catalog: Catalog,
    *,
    after: int,
    upto: int,
    days: Days | None = None,
) -> list[EventChunk]:
    """The events with ``after < batch_id <= upto`` (and dated within ``days`` if given), one
    chunk per kind."""
    partitions = await batch_partitions(conn, after, days)
    return [
        await read_kind(conn, catalog, kind, after=after, upto=upto, days=days,
                        partitions=partitions)
        for kind in EVENT_TABLES
    ]  # fmt: skip


async def read_kind(
    conn: AsyncConnection,
    catalog: Catalog,
    kind: str,
    *,
    after: int,
    upto: int,
    days: Days | None,
    partitions: Sequence[date] | None,
) -> EventChunk:
    """The events of one kind of :func:`read_events` (``partitions``: its
    :func:`batch_partitions`)."""
    if conn.dialect.name == "postgresql":
        cols = await _pg_columns(conn, kind, catalog, after, upto, days, partitions)
    else:
        cols = await _sqlite_columns(conn, kind, catalog, after, upto, days)
    return _chunk(kind, cols, catalog)


async def day_counts(conn: AsyncConnection, *, after: int, upto: int) -> dict[date, int]:
    """How many events with ``after < batch_id <= upto`` each UTC day has, all kinds together
    (one ``GROUP BY`` per event table)."""
    counts: dict[date, int] = {}
    for table in EVENT_TABLES.values():
        day = table.c.day
        stmt = select(day, func.count()).where(*_where(table, after, upto, None)).group_by(day)
        for value, count in await conn.execute(stmt):
            key = value if isinstance(value, date) else date.fromisoformat(value)
            counts[key] = counts.get(key, 0) + count
    return counts


def day_ranges(counts: dict[date, int], bound: int) -> list[Days]:
    """Consecutive day ranges, ascending, from the first counted day to the last, each holding
    at most ``bound`` events (a day holding more is a range of its own). Days without events
    join the range before them, so the ranges leave no gap.

    >>> day_ranges({date(2026, 1, 1): 3, date(2026, 1, 2): 2, date(2026, 1, 5): 9}, 5)
    ... # doctest: +NORMALIZE_WHITESPACE
    [(datetime.date(2026, 1, 1), datetime.date(2026, 1, 5)),
     (datetime.date(2026, 1, 5), datetime.date(2026, 1, 6))]
    """
    ranges: list[Days] = []
    held = 0
    for day in sorted(counts):
        if ranges and held + counts[day] > bound:
            ranges[-1] = (ranges[-1][0], day)
            ranges.append((day, day))
            held = 0
        elif not ranges:
            ranges.append((day, day))
        ranges[-1] = (ranges[-1][0], day + ONE_DAY)
        held += counts[day]
    return ranges
