"""Moving cell states between the database and memory during a refresh.

A refresh touches, per affected cell, exactly the stored days on or after the first day of its
delta: it reads them, folds the delta in memory, deletes them and inserts the result. Read set and
write set are the same, so the update is a plain delete + bulk insert on both databases.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
from pyroaring import BitMap
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Date,
    Integer,
    LargeBinary,
    Table,
    Text,
    any_,
    bindparam,
    case,
    column,
    delete,
    func,
    insert,
    literal,
    select,
    table,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.metrics.arrays import distinct_sorted
from gateway.metrics.cells import CellKey
from gateway.metrics.portrait import NO_PORTRAIT, stored
from gateway.store.rollup.catalog import Catalog
from gateway.store.rollup.fold import SUMS, Folded
from gateway.store.rollup.read import (
    MAX_PARAMS,
    among,
    batched,
    cell_ids,
    fetch_rows,
    stored_bitmap,
)
from gateway.store.rollup.source_counts import (
    SourceCounter,
    decode,
    encode,
    is_source_cell,
    plus,
)
from gateway.store.rollup.state import CellState, DayState
from gateway.store.rollup_tables import rollup_cells, rollup_days

PG_SETTINGS = table("pg_settings", column("name", Text), column("enumvals", ARRAY(Text)))

Groups = dict[int, list[int]]
"""First delta day ordinal -> cell ids whose delta starts that day."""


async def ensure_cells(conn: AsyncConnection, keys: list[CellKey]) -> dict[CellKey, int]:
    """Ids of ``keys``, creating the cells that do not exist yet."""
    found = await cell_ids(conn, keys)
    missing = [key for key, cell in found.items() if cell is None]
    if missing:
        rows = [
            {"scope": k.scope, "data_type": k.data_type, "mp_type": k.mp_type,
             "category": k.category}
            for k in missing
        ]  # fmt: skip
        await conn.execute(insert(rollup_cells), rows)
        found.update(await cell_ids(conn, missing))
    return {key: cell for key, cell in found.items() if cell is not None}


def group_by_first_day(first_days: Mapping[int, int]) -> Groups:
    """Cells grouped by the first day of their delta (usually one or two groups)."""
    groups: Groups = defaultdict(list)
    for cell, day in first_days.items():
        groups[day].append(cell)
    return dict(groups)


async def _load_cells(conn: AsyncConnection, cells: Iterable[int]) -> dict[int, CellState]:
    """Each cell's state without its days: lifetime (base and recent part) and sources."""
    states: dict[int, CellState] = {}
    c = rollup_cells.c
    for part in batched(sorted(set(cells))):
        stmt = select(c.id, c.lifetime_bitmap, c.recent_bitmap, c.sources).where(c.id.in_(part))
        for row in await conn.execute(stmt):
            lifetime, recent = stored_bitmap(row.lifetime_bitmap), stored_bitmap(row.recent_bitmap)
            base = len(lifetime)
            lifetime |= recent  # in place: the base holds megabytes, never copied
            states[row.id] = CellState(
                lifetime=lifetime, recent=recent, base=base, sources=row.sources
            )
    return states


PORTRAIT_COLUMNS = ("platforms", "regions")
"""The ``rollup_days`` columns of each :data:`~gateway.store.rollup.primaries.DIMENSIONS`."""


def _day_state(values: Sequence[Any]) -> DayState:
    """A loaded day: (cell, day, *SUMS, active, new, new_sources, *portrait) by position (far
    cheaper than by name)."""
    return DayState(
        sums=list(values[2:7]),
        active=stored_bitmap(values[7]),
        new=stored_bitmap(values[8]),
        new_sources=values[9],
        stored_portrait=tuple(values[10:12]),
    )


async def load_states(conn: AsyncConnection, groups: Groups) -> dict[int, CellState]:
    """Each cell's lifetime bitmap and its stored days on or after its group's day."""
    states = await _load_cells(conn, [cell for cells in groups.values() for cell in cells])
    d = rollup_days.c
    columns = [
        *(d.cell_id, d.day),
        *(d[name] for name in SUMS),
        *(d.active_bitmap, d.new_bitmap, d.new_sources),
        *(d[name] for name in PORTRAIT_COLUMNS),
    ]
    for first, cells in groups.items():
        for part in batched(cells):
            where = [among(conn, d.cell_id, part), d.day >= date.fromordinal(first)]
            stmt = select(*columns).where(*where)
            for values in await fetch_rows(conn, stmt):
                states[values[0]].days[values[1].toordinal()] = _day_state(values)
    return states


MemberRow = tuple[Sequence[int], bytes | None, Sequence[bytes | None]]
"""A member's day as read: :data:`SUMS`, serialized active bitmap, serialized exceptions."""
MemberRows = dict[int, dict[int, MemberRow]]
"""Cell -> day -> :data:`MemberRow`: cells read for their users only."""


async def load_with_members(
    conn: AsyncConnection, cells: Sequence[int], members: Iterable[int]
) -> tuple[dict[int, CellState], MemberRows]:
    """The whole state of ``cells`` (every stored day) and the days of ``members`` (totals and
    serialized active bitmap), in one read of the days table: each read of many cells' whole
    histories is a scan of it. ``cells`` must fit one statement (:data:`MAX_PARAMS`)."""
    states = await _load_cells(conn, cells)
    mine = sorted(set(cells))
    rest = sorted(set(members) - set(mine))
    rows: MemberRows = {member: {} for member in rest}
    d = rollup_days.c
    whole = among(conn, d.cell_id, mine)
    columns = [
        *(d.cell_id, d.day),
        *(d[name] for name in SUMS),
        d.active_bitmap,
        case((whole, d.new_bitmap)),
        case((whole, d.new_sources)),
        *(d[name] for name in PORTRAIT_COLUMNS),
    ]
    for part in batched([*mine, *rest], MAX_PARAMS - len(mine)):
        stmt = select(*columns).where(among(conn, d.cell_id, part))
        for values in await fetch_rows(conn, stmt):
            cell, day = values[0], values[1].toordinal()
            if cell in rows:
                rows[cell][day] = (values[2:7], values[7], values[10:12])
            else:
                states[cell].days[day] = _day_state(values)
    return states, rows


def _serialized(bitmap: BitMap | None) -> bytes | None:
    if not bitmap:
        return None
    bitmap.run_optimize()
    return bytes(bitmap.serialize())


COLUMNS = [column.name for column in rollup_days.columns]
"""``rollup_days`` columns in table order (the tuples below follow it)."""


def _row(cell: int, day: int, state: DayState) -> tuple[object, ...]:
    by_name: dict[str, object] = dict(zip(SUMS, state.sums, strict=True))
    by_name.update(
        cell_id=cell,
        day=date.fromordinal(day),
        active_users=len(state.active),
        new_users=len(state.new),
        active_bitmap=_serialized(state.active),
        new_bitmap=_serialized(state.new),
        new_sources=state.new_sources,
    )
    by_name.update(zip(PORTRAIT_COLUMNS, state.portrait_columns(), strict=True))
    return tuple(by_name[name] for name in COLUMNS)


async def insert_rows(
    conn: AsyncConnection, rows: list[tuple[object, ...]], table: Table = rollup_days
) -> None:
    """Insert ``rows`` (tuples in ``table``'s column order) into ``table``."""
    names = [column.name for column in table.columns]
    if conn.dialect.name == "postgresql":
        # COPY: several times faster than executemany for the millions of rows of a rebuild.
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection  # the asyncpg connection of this transaction
        await driver.copy_records_to_table(table.name, records=rows, columns=names)
        return
    for chunk in batched(rows, 20_000):
        await conn.execute(insert(table), [dict(zip(names, r, strict=True)) for r in chunk])


async def fast_compression(conn: AsyncConnection) -> None:
    """PostgreSQL: compress this transaction's new bitmaps with lz4 when the server has it.

    TOAST compresses large bytea values with pglz by default, which costs more than everything
    else when an incremental refresh rewrites the big lifetime bitmaps (roaring bitmaps barely
    compress anyway); lz4 is many times faster. ``set_config(..., true)`` = ``SET LOCAL``.
    """
    if conn.dialect.name != "postgresql":
        return
    name, s = "default_toast_compression", PG_SETTINGS.c
    has_lz4 = (s.name == name) & (literal("lz4") == any_(s.enumvals))
    await conn.execute(select(func.set_config(name, "lz4", True)).where(has_lz4))


async def replace_cells(
    conn: AsyncConnection, states: dict[int, CellState], counter: SourceCounter
) -> None:
    """Replace every stored day and the lifetime of each cell of ``states`` with its state (a
    day the state lacks is deleted; an empty state empties the cell); the source cells' users
    are counted per source with ``counter``."""
    await fast_compression(conn)
    await counter.ready(conn)
    for part in batched(list(states)):
        await conn.execute(delete(rollup_days).where(rollup_days.c.cell_id.in_(part)))
    pairs = [(cell, day) for cell, state in states.items() for day in state.days]
    news = [states[cell].days[day].new for cell, day in pairs]
    counted = counter.rows([cell for cell, _ in pairs], news)
    for (cell, day), text in zip(pairs, counted, strict=True):
        states[cell].days[day].new_sources = text
    await _write_rows(conn, states, pairs)
    grown = ((cell, s.lifetime) for cell, s in states.items() if s.grown)
    await write_lifetimes(conn, grown, counter)


def _recount(cell: int, state: CellState, counter: SourceCounter) -> None:
    """Count the changed days of a source cell per source, and its lifetime's counts by
    difference (the counts of the rows replaced out, the new ones in)."""
    added: Counter[str] = Counter()
    removed: Counter[str] = Counter()
    for day in state.changed:
        row = state.days[day]
        removed.update(decode(row.new_sources))
        row.new_sources = counter.row(cell, row.new)
        added.update(decode(row.new_sources))
    state.sources = encode(plus(decode(state.sources), add=added, less=removed))


async def write_changes(
    conn: AsyncConnection,
    states: dict[int, CellState],
    counter: SourceCounter,
    *,
    counted: bool = False,
) -> None:
    """Write back only the days each state changed (and grown lifetimes): a refresh rewrites
    what it changed, not every loaded day after its earliest new event; a changed day the state
    no longer holds (a catalog change emptied it) is deleted. The changed days of source cells
    are counted per source with ``counter``, unless ``counted`` (the states' counts were
    adjusted already)."""
    await fast_compression(conn)
    recount = set() if counted else counter.cells & states.keys()
    if recount:
        await counter.ready(conn)
    for cell in recount:
        _recount(cell, states[cell], counter)
    pairs = [(cell, day) for cell, state in states.items() for day in sorted(state.changed)]
    for part in batched(pairs, 10_000):
        await delete_days(conn, part)
    held = [(cell, day) for cell, day in pairs if day in states[cell].days]
    await _write_rows(conn, states, held)
    grown = {cell: state for cell, state in states.items() if state.grown}
    whole = {cell for cell, state in grown.items() if _merge_recent(state)}
    await write_lifetimes(
        conn, ((cell, grown[cell].lifetime) for cell in sorted(whole)), counter,
        {cell: grown[cell].sources for cell in whole},
    )  # fmt: skip
    rows = [(c, grown[c].recent, len(grown[c].lifetime), grown[c].sources)
            for c in sorted(set(grown) - whole)]  # fmt: skip
    await _write_recent(conn, rows)


RECENT_SHARE = 16
"""A cell's recent lifetime users are merged into its base once they pass 1/16 of it."""
RECENT_MIN = 4096
"""... or once they pass this many users (a small base is cheap to rewrite)."""


def _merge_recent(state: CellState) -> bool:
    """Whether a refresh writes ``state``'s lifetime whole instead of its recent part."""
    return state.whole or len(state.recent) > max(RECENT_MIN, state.base // RECENT_SHARE)


async def _write_recent(
    conn: AsyncConnection, items: list[tuple[int, BitMap, int, str | None]]
) -> None:
    """Store the recent part of each ``(cell id, bitmap, users, sources)``'s lifetime (its base
    unchanged) with the lifetime's counts."""
    rows = [(cell, _serialized(b), users, sources) for cell, b, users, sources in items]
    await _update_cells(conn, "recent_bitmap", rows)


async def _write_rows(
    conn: AsyncConnection, states: dict[int, CellState], pairs: Sequence[tuple[int, int]]
) -> None:
    """Insert the ``(cell, day)`` rows of ``pairs`` from ``states``."""
    rows = [_row(cell, day, states[cell].days[day]) for cell, day in pairs]
    if rows:
        await insert_rows(conn, rows)


async def delete_days(
    conn: AsyncConnection, pairs: Sequence[tuple[int, int]], table: Table = rollup_days
) -> None:
    """Delete the ``(cell id, day ordinal)`` rows of ``pairs`` from ``table`` (keyed by
    ``cell_id`` and ``day``)."""
    d = table.c
    if conn.dialect.name == "postgresql":
        # One DELETE ... USING unnest(cells, days): a statement per row would cost seconds.
        keys = (
            func.unnest(
                literal([cell for cell, _ in pairs], ARRAY(Integer)),
                literal([date.fromordinal(day) for _, day in pairs], ARRAY(Date)),
            )
            .table_valued("cell", "day")
            .render_derived(name="changed")
        )
        stmt = delete(table).where(d.cell_id == keys.c.cell, d.day == keys.c.day)
        await conn.execute(stmt)
        return
    stmt = delete(table).where(d.cell_id == bindparam("c"), d.day == bindparam("d"))
    await conn.execute(stmt, [{"c": cell, "d": date.fromordinal(day)} for cell, day in pairs])


async def write_lifetimes(
    conn: AsyncConnection,
    items: Iterable[tuple[int, BitMap]],
    counter: SourceCounter,
    sources: Mapping[int, str | None] | None = None,
) -> None:
    """Store the lifetime bitmap of each ``(cell id, bitmap)`` whole (no recent part), with its
    users and (source cells) their counts per source: from ``sources`` when it has the cell,
    else counted with ``counter``.

    ``items`` is consumed lazily, a slice of at most :data:`UPDATE_BYTES` at a time: a full
    rebuild hands over every lifetime of the store (a gigabyte at ``xlarge``) and lets each go
    once written, instead of holding them serialized twice more.
    """
    known = {} if sources is None else sources
    rows = (
        (cell, _serialized(bitmap), len(bitmap),
         known[cell] if cell in known else counter.row(cell, bitmap))
        for cell, bitmap in items
    )  # fmt: skip
    await _update_cells(conn, "lifetime_bitmap", rows, cleared="recent_bitmap")


UPDATE_ROWS, UPDATE_BYTES = 20_000, 32 * 2**20
"""Most cells, and most bitmap bytes, one UPDATE of :func:`_update_cells` sets."""


CellValues = tuple[int, bytes | None, int, str | None]
"""A cell's id, one of its bitmaps, its users and their counts per source."""


def _slices(rows: Iterable[CellValues]) -> Iterator[list[CellValues]]:
    """Consecutive slices of ``rows`` within :data:`UPDATE_ROWS` rows and about
    :data:`UPDATE_BYTES` bytes (a single larger value makes a slice of its own)."""
    part: list[CellValues] = []
    size = 0
    for row in rows:
        part.append(row)
        size += len(row[1] or b"")
        if len(part) >= UPDATE_ROWS or size >= UPDATE_BYTES:
            yield part
            part, size = [], 0
    if part:
        yield part


async def _update_cells(
    conn: AsyncConnection,
    column: str,
    rows: Iterable[CellValues],
    *,
    cleared: str | None = None,
) -> None:
    """Set ``column``, ``users`` and ``sources`` of each ``(cell id, value, users, sources)``
    of ``rows`` (and ``cleared`` to null, in the same statement), a slice at a time
    (:func:`_slices`)."""
    nulls: dict[str, None] = {} if cleared is None else {cleared: None}
    if conn.dialect.name == "postgresql":
        # One UPDATE ... FROM unnest(ids, values): thousands of single-row updates cost seconds.
        for part in _slices(rows):
            ids, raws, users, sources = zip(*part, strict=True)
            values = (
                func.unnest(
                    literal(list(ids), ARRAY(Integer)),
                    literal(list(raws), ARRAY(LargeBinary)),
                    literal(list(users), ARRAY(BigInteger)),
                    literal(list(sources), ARRAY(Text)),
                )
                .table_valued("id", "value", "users", "sources")
                .render_derived(name="cell_values")
            )
            stmt = update(rollup_cells).where(rollup_cells.c.id == values.c.id)
            new = {column: values.c.value, "users": values.c.users, "sources": values.c.sources}
            await conn.execute(stmt.values({**new, **nulls}))
        return
    params: dict[str, object] = {
        column: bindparam("value"),
        "users": bindparam("n"),
        "sources": bindparam("s"),
    }
    stmt = update(rollup_cells).where(rollup_cells.c.id == bindparam("cell"))
    stmt = stmt.values({**params, **nulls})
    for chunk in _slices(rows):
        await conn.execute(
            stmt, [{"cell": cell, "value": raw, "n": n, "s": s} for cell, raw, n, s in chunk]
        )


async def _insert_cells(
    conn: AsyncConnection,
    catalog: Catalog,
    folded: Folded,
    ids: dict[int, int],
    counter: SourceCounter,
) -> None:
    """Insert the fold's cells that ``ids`` (local number -> id) lacks, with their lifetimes
    (counted, and per source on source cells), and add them to ``ids``."""
    local = [cell for cell in distinct_sorted(folded.cell).tolist() if cell not in ids]
    if not local:
        return
    keys = [catalog.cell_keys[cell] for cell in local]
    c = rollup_cells.c
    # Ids grow (a full rebuild is alone, under the refresh lock): the new cells are those above.
    before = (await conn.execute(select(func.coalesce(func.max(c.id), 0)))).scalar_one()
    names = ["scope", "data_type", "mp_type", "category", "lifetime_bitmap", "users", "sources"]
    rows = []
    for cell, k in zip(local, keys, strict=True):
        lifetime = folded.lifetime.get(cell)
        sources = counter.of(lifetime) if is_source_cell(k) else None
        rows.append((k.scope, k.data_type, k.mp_type, k.category, _serialized(lifetime),
                     len(lifetime or ()), sources))  # fmt: skip
    if conn.dialect.name == "postgresql":
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection  # the asyncpg connection of this transaction
        await driver.copy_records_to_table(rollup_cells.name, records=rows, columns=names)
    else:
        for chunk in batched(rows, 20_000):
            await conn.execute(
                insert(rollup_cells), [dict(zip(names, r, strict=True)) for r in chunk]
            )
    columns = (c.id, c.scope, c.data_type, c.mp_type, c.category)
    stored = await conn.execute(select(*columns).where(c.id > before))
    by_key = {CellKey(r.scope, r.data_type, r.mp_type, r.category): r.id for r in stored}
    ids.update((cell, by_key[key]) for cell, key in zip(local, keys, strict=True))


def _bitmap_columns(bitmaps: list[BitMap | None]) -> tuple[list[int], list[bytes | None]]:
    sizes = [0 if bitmap is None else len(bitmap) for bitmap in bitmaps]
    return sizes, [_serialized(bitmap) for bitmap in bitmaps]


async def write_rebuild(
    conn: AsyncConnection,
    catalog: Catalog,
    folded: Folded,
    counter: SourceCounter,
    ids: dict[int, int] | None = None,
) -> None:
    """Write a full rebuild's fold into the rollup tables: its rows, and its cells that ``ids``
    (local number -> id of the cells stored so far; default: none, the tables are empty) lacks,
    with their lifetimes. Those cells are added to ``ids`` (for the next range of days). The
    source cells' new users are counted per source with ``counter``."""
    ids = {} if ids is None else ids
    if len(folded.cell) == 0:
        return
    await fast_compression(conn)
    await counter.ready(conn)
    await _insert_cells(conn, catalog, folded, ids, counter)
    counter.cells.update(ids[cell] for cell in ids if is_source_cell(catalog.cell_keys[cell]))
    dates = {day: date.fromordinal(day) for day in np.unique(folded.day).tolist()}
    by_name: dict[str, list[Any]] = dict(zip(SUMS, folded.sums.T.tolist(), strict=True))
    by_name["cell_id"] = [ids[cell] for cell in folded.cell.tolist()]
    by_name["day"] = [dates[day] for day in folded.day.tolist()]
    by_name["active_users"], by_name["active_bitmap"] = _bitmap_columns(folded.active)
    by_name["new_users"], by_name["new_bitmap"] = _bitmap_columns(folded.new)
    by_name["new_sources"] = counter.rows(by_name["cell_id"], folded.new)
    portrait = folded.portrait or [NO_PORTRAIT] * len(folded.active)
    for position, name in enumerate(PORTRAIT_COLUMNS):
        by_name[name] = [stored(row[position]) for row in portrait]
    await insert_rows(conn, list(zip(*(by_name[name] for name in COLUMNS), strict=True)))
