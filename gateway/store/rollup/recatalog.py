"""A catalog change applied by the next refresh: the changed coarse cells corrected in place.

The cells whose membership a change touches (:func:`~gateway.store.rollup.derive.changed_cells`)
are corrected from their stored state by :func:`~gateway.store.rollup.regroup.regroup`, in the
three steps of :mod:`~gateway.store.rollup.derive` (an app's type x category cells from fine
cells, its cells per type or per category from those, a workspace's cells from its apps'). Each
step hands the next the old and new state of what it changed, so a cell reads only its stored
state, the members that moved and, for the users they held, the members that stayed. No raw event
is read: the raw days may have been dropped (SPEC §2).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.metrics.cells import app_scope
from gateway.store.db import for_cached_reads
from gateway.store.rollup.catalog import Catalog, recorded_view
from gateway.store.rollup.derive import (
    active_rows,
    apps_by_workspace,
    changed_cells,
    fine_cells,
    from_fine,
    members,
    members_of,
    parts_of,
)
from gateway.store.rollup.persist import (
    ensure_cells,
    load_states,
    load_with_members,
    write_changes,
)
from gateway.store.rollup.read import MAX_PARAMS, scope_cells
from gateway.store.rollup.regroup import (
    Before,
    Change,
    Corrected,
    InMemory,
    Joined,
    Left,
    Member,
    Stored,
    regroup,
)
from gateway.store.rollup.source_counts import (
    SourceCounter,
    decode,
    encode,
    source_cell_ids,
)
from gateway.store.rollup.state import CellState


async def _load(
    conn: AsyncConnection, corrected: list[int], members: set[int]
) -> tuple[dict[int, CellState], dict[int, Stored]]:
    """The corrected cells' states and the other members' stored days (totals and serialized
    active bitmap): one read of the days table for each when the corrected cells fit one
    statement (each read of many cells' whole histories is a scan of the table).

    On PostgreSQL the members' days are read on a second connection at the same time (the
    server reads and sends them on another core while this one reads the states): they are
    committed rows no refresh changes before this point (only a refresh writes rollups, one at
    a time, and this one has not written their totals or users), so both connections see the
    same values."""
    if len(corrected) > MAX_PARAMS // 2:
        states = await load_states(conn, {1: corrected})
        out = {cell: Stored() for cell in members}
        async for cell, day, values, raw, raws in active_rows(conn, out):
            out[cell].rows[day] = (values, raw, raws)
        return states, out
    if conn.dialect.name == "postgresql" and members:
        async with conn.engine.connect() as other:
            await for_cached_reads(other)
            (states, _), (_, rows) = await asyncio.gather(
                load_with_members(conn, corrected, ()), load_with_members(other, (), members)
            )
    else:
        states, rows = await load_with_members(conn, corrected, members)
    return states, {cell: Stored(rows=rows[cell]) for cell in members}


async def rederive(
    conn: AsyncConnection,
    recorded: Mapping[tuple[str, str], str],
    catalog: Catalog,
    counter: SourceCounter,
) -> int:
    """Correct the cells a catalog change moved entities into or out of (nothing when the
    attributes the rollups were built with are still the current ones); returns how many cells
    were corrected."""
    current = catalog.attributes()
    if all(current.get(key, value) == value for key, value in recorded.items()):
        return 0
    fine = await fine_cells(conn)
    before = recorded_view(recorded, catalog)
    keys = sorted(changed_cells(before, catalog, fine))
    if not keys:
        return 0
    ids = await ensure_cells(conn, keys)
    counter.cells.update(source_cell_ids(ids))
    apps_now, apps_then = apps_by_workspace(catalog), apps_by_workspace(before)
    scopes = {key.scope for key in keys if key.scope.startswith("app:")}
    for apps_of in (apps_now, apps_then):
        scopes |= {app_scope(app) for key in keys for app in apps_of.get(key.scope, [])}
    known = {**(await scope_cells(conn, scopes)), **ids}
    then, now = members(before, fine), members(catalog, fine)
    steps: list[Plans] = [
        {
            ids[key]: (
                members_of(key, before, then.get(key.scope, [])),
                members_of(key, catalog, now.get(key.scope, [])),
            )
            for key in keys
            if from_fine(key)
        }
    ]
    for step in ("app", "ws"):
        chosen = [key for key in keys if key.scope.startswith(f"{step}:") and not from_fine(key)]
        steps.append(
            {
                ids[key]: (parts_of(key, known, apps_then), parts_of(key, known, apps_now))
                for key in chosen
            }
        )
    corrected = sorted(set(ids.values()))
    wanted = {m for plans in steps for old, new in plans.values() for m in (*old, *new)}
    states, read = await _load(conn, corrected, wanted - set(corrected))
    done: dict[int, Change] = {}
    for plans in steps:
        done.update(_correct(plans, states, done, read))
    cells = {ids[key]: states[ids[key]] for key in keys}
    await _count(conn, cells, done, counter)
    await write_changes(conn, cells, counter, counted=True)
    return len(keys)


Plans = dict[int, tuple[list[int], list[int]]]
"""The cells one step corrects: id -> its member cells before and after the change."""


def _correct(
    plans: Plans,
    states: dict[int, CellState],
    done: Mapping[int, Change],
    read: Mapping[int, Stored],
) -> dict[int, Change]:
    """Correct each cell of ``plans`` in ``states``; a member in ``done`` was corrected in an
    earlier step (its state in ``states`` is the corrected one), any other is in ``read``."""
    out: dict[int, Change] = {}
    for cell, (old, new) in plans.items():
        changed: list[Member] = []
        keep: list[Stored] = []
        for member in sorted(set(old) | set(new)):
            was, now = member in old, member in new
            if member in done:
                state, change = states[member], done[member]
                if was and now:
                    changed.append(Corrected(state, change))
                else:
                    changed.append(Left(Before(state, change)) if was else Joined(InMemory(state)))
            elif was != now:
                changed.append(Left(read[member]) if was else Joined(read[member]))
            else:
                keep.append(read[member])
        out[cell] = regroup(states[cell], changed, keep)
    return out


async def _count(
    conn: AsyncConnection,
    states: Mapping[int, CellState],
    changes: Mapping[int, Change],
    counter: SourceCounter,
) -> None:
    """Adjust the counts per source of the corrected source cells by the users whose first day
    changed (a few), instead of counting every rewritten row again."""
    items = [
        (cell, day, pair)
        for cell, change in changes.items()
        if cell in counter.cells
        for day, pair in change.firsts.items()
    ]
    if not items:
        return
    await counter.ready(conn)
    found = counter.changes([pair for _, _, pair in items])
    totals: dict[int, dict[str, int]] = defaultdict(dict)
    for (cell, day, _), change in zip(items, found, strict=True):
        if not change:
            continue
        row = states[cell].days.get(day)
        if row is not None:
            row.new_sources = encode(_plus(decode(row.new_sources), change))
        _plus(totals[cell], change)
    for cell, total in totals.items():
        states[cell].sources = encode(_plus(decode(states[cell].sources), total))


def _plus(counts: dict[str, int], change: Mapping[str, int]) -> dict[str, int]:
    """``counts`` changed in place by ``change`` (its zero counts kept; :func:`encode` drops
    them)."""
    for source, value in change.items():
        counts[source] = counts.get(source, 0) + value
    return counts
