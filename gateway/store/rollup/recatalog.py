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

from collections import defaultdict
from collections.abc import Iterable, Mapping

from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.metrics.cells import CellKey, app_scope
from gateway.store.rollup.catalog import Catalog, recorded_view
from gateway.store.rollup.derive import (
    FineCell,
    active_rows,
    apps_by_workspace,
    changed_cells,
    fine_cells,
    from_fine,
    members,
    members_of,
    parts_of,
)
from gateway.store.rollup.persist import ensure_cells, load_states, write_changes
from gateway.store.rollup.read import scope_cells
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


async def _read(conn: AsyncConnection, ids: Iterable[int]) -> dict[int, Stored]:
    """The stored days (totals and serialized active bitmap) of each cell of ``ids``."""
    out = {cell: Stored() for cell in ids}
    async for cell, day, values, raw in active_rows(conn, out):
        out[cell].rows[day] = (values, raw)
    return out


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
    states = await load_states(conn, {1: sorted(set(ids.values()))})
    done = await _step_one(conn, [k for k in keys if from_fine(k)], ids, states, before,
                           catalog, fine)  # fmt: skip
    apps_now, apps_then = apps_by_workspace(catalog), apps_by_workspace(before)
    scopes = {key.scope for key in keys if key.scope.startswith("app:")}
    for apps_of in (apps_now, apps_then):
        scopes |= {app_scope(app) for key in keys for app in apps_of.get(key.scope, [])}
    known = {**(await scope_cells(conn, scopes)), **ids}
    for step in ("app", "ws"):
        chosen = [key for key in keys if key.scope.startswith(f"{step}:") and not from_fine(key)]
        plans = {
            ids[key]: (parts_of(key, known, apps_then), parts_of(key, known, apps_now))
            for key in chosen
        }
        done.update(await _correct(conn, plans, states, done))
    corrected = {ids[key]: states[ids[key]] for key in keys}
    await _count(conn, corrected, done, counter)
    await write_changes(conn, corrected, counter, counted=True)
    return len(keys)


async def _step_one(
    conn: AsyncConnection,
    keys: list[CellKey],
    ids: Mapping[CellKey, int],
    states: dict[int, CellState],
    before: Catalog,
    catalog: Catalog,
    fine: Mapping[FineCell, int],
) -> dict[int, Change]:
    """Step 1: cells made of fine cells, whose membership changed with the catalog (the fine
    cells themselves never change)."""
    then, now = members(before, fine), members(catalog, fine)
    plans = {
        ids[key]: (
            members_of(key, before, then.get(key.scope, [])),
            members_of(key, catalog, now.get(key.scope, [])),
        )
        for key in keys
    }
    return await _correct(conn, plans, states, {})


async def _correct(
    conn: AsyncConnection,
    plans: Mapping[int, tuple[list[int], list[int]]],
    states: dict[int, CellState],
    done: Mapping[int, Change],
) -> dict[int, Change]:
    """Correct each cell of ``plans`` (id -> its member cells before and after the change) in
    ``states``; a member in ``done`` was corrected in an earlier step (its state in ``states``
    is the corrected one), any other is read from the store."""
    wanted: set[int] = set()
    for old, new in plans.values():
        wanted |= {cell for cell in (*old, *new) if cell not in done}
    read = await _read(conn, wanted)
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
