"""Coarse cells derived from the finest ones: how a catalog change is applied without raw events.

Every event counts in exactly one *fine* cell, ``app:<a>|mp:<m>`` x data type: its membership
never depends on a catalog attribute. Every other cell (a workspace's or an app's, per type and
category; a mini program's across apps) is a union of fine cells under the current catalog. When
a mini program changes type or category, or an app changes workspace, the cells whose membership
changed are corrected from stored cells (:mod:`~gateway.store.rollup.recatalog`), never from raw
events, which may have been dropped by then (SPEC §2); a full rebuild after raw days were dropped
recomputes every coarse cell here (:func:`rederive_all`): an app's type x category cells from
their fine cells, its cells per type or per category from those, a workspace's cells from its
apps' (each a union of cells disjoint in events, so a few large cells are read instead of every
fine cell under them).

A coarse day is the sum of its fine days' totals and the union of their active bitmaps; a user
is new in the coarse cell on the first day they are active in it (so the fine cells' new bitmaps
need not be read):

    >>> from pyroaring import BitMap
    >>> first = {1: BitMap([7]), 3: BitMap([7, 8])}       # fine cell f: user 7 on days 1 and 3
    >>> second = {2: BitMap([7, 9])}                      # fine cell g: users 7 and 9 on day 2
    >>> new_by_day({day: first.get(day, BitMap()) | second.get(day, BitMap()) for day in (1, 2, 3)})
    {1: BitMap([7]), 2: BitMap([9]), 3: BitMap([8])}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from pyroaring import BitMap
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.metrics.cells import (
    ANY,
    FINE_SCOPES,
    CellKey,
    app_scope,
    event_cells,
    filter_cells,
    fine_pair,
    mini_program_scope,
    workspace_scope,
)
from gateway.metrics.portrait import Portrait, portrait_of, unite_portraits
from gateway.store.rollup.catalog import Catalog
from gateway.store.rollup.fold import SUMS, group_sums
from gateway.store.rollup.persist import PORTRAIT_COLUMNS, ensure_cells, replace_cells
from gateway.store.rollup.read import among, batched, fetch_rows
from gateway.store.rollup.source_counts import SourceCounter, source_cell_ids
from gateway.store.rollup.state import CellState, DayState
from gateway.store.rollup_tables import rollup_cells, rollup_days

FineCell = tuple[str, str, str]
"""A fine cell's (app, mini program, data type)."""


def new_by_day(active: Mapping[int, BitMap]) -> dict[int, BitMap]:
    """Per day, the users first seen in a cell, from its active bitmap of each day."""
    seen, out = BitMap(), {}
    for day in sorted(active):
        fresh = active[day] - seen
        seen |= fresh
        out[day] = fresh
    return out


async def fine_cells(conn: AsyncConnection) -> dict[FineCell, int]:
    """Every fine cell that has rows: (app, mini program, data type) -> cell id."""
    c = rollup_cells.c
    stmt = select(c.id, c.scope, c.data_type).where(c.scope.like(FINE_SCOPES))
    found: dict[FineCell, int] = {}
    for row in await conn.execute(stmt):
        pair = fine_pair(row.scope)
        if pair is not None:
            found[(*pair, row.data_type)] = row.id
    return found


def changed_cells(before: Catalog, catalog: Catalog, fine: Iterable[FineCell]) -> set[CellKey]:
    """The coarse cells whose membership differs between ``before`` (the attributes the rollups
    were built with, :func:`~gateway.store.rollup.catalog.recorded_view`) and ``catalog`` (now),
    among those holding a fine cell."""
    out: set[CellKey] = set()
    for app, mp, data_type in fine:
        workspace, attrs = catalog.apps.get(app), catalog.mini_programs.get(mp)
        if workspace is None or attrs is None:
            continue
        was_in, was = before.apps[app], before.mini_programs[mp]
        if was_in != workspace:  # every cell of both workspaces holding the pair
            out |= _variants(workspace_scope(was_in), data_type, [was], everything=True)
            out |= _variants(workspace_scope(workspace), data_type, [attrs], everything=True)
        elif was != attrs:
            out |= _variants(workspace_scope(workspace), data_type, [was, attrs], everything=False)
        if was != attrs:
            out |= _variants(app_scope(app), data_type, [was, attrs], everything=False)
    return out


def _variants(
    scope: str, data_type: str, attrs: list[tuple[str, str]], *, everything: bool
) -> set[CellKey]:
    """The type x category cells of ``scope`` holding a mini program with exactly one of the two
    ``attrs`` (before and after a change), or with ``everything``, every cell holding one."""
    out: set[CellKey] = set()
    for mp_type, category in attrs:
        out.update(filter_cells(scope, data_type, mp_type, category))
    if everything:
        return out
    return {key for key in out if sum(_holds(key, attr) for attr in attrs) == 1}


def _holds(key: CellKey, attrs: tuple[str, str]) -> bool:
    """Whether cell ``key`` (of a workspace or app) holds a mini program of type and category
    ``attrs``."""
    return key.mp_type in (ANY, attrs[0]) and key.category in (ANY, attrs[1])


def apps_by_workspace(catalog: Catalog) -> dict[str, list[str]]:
    """The apps of each workspace scope under ``catalog``."""
    apps_of: dict[str, list[str]] = defaultdict(list)
    for app, workspace in catalog.apps.items():
        apps_of[workspace_scope(workspace)].append(app)
    return apps_of


def members(
    catalog: Catalog, fine: Mapping[FineCell, int]
) -> dict[str, list[tuple[int, FineCell]]]:
    """The fine cells by the workspace, app and mini program scopes they belong to under
    ``catalog``."""
    by_scope: dict[str, list[tuple[int, FineCell]]] = defaultdict(list)
    for pair, cell in fine.items():
        workspace = catalog.apps.get(pair[0])
        if workspace is not None and pair[1] in catalog.mini_programs:
            by_scope[workspace_scope(workspace)].append((cell, pair))
            by_scope[app_scope(pair[0])].append((cell, pair))
            by_scope[mini_program_scope(pair[1])].append((cell, pair))
    return by_scope


def members_of(key: CellKey, catalog: Catalog, candidates: list[tuple[int, FineCell]]) -> list[int]:
    """The fine cells (of the key's scope) a coarse cell is the union of."""
    ids = []
    for cell, (_, mp, data_type) in candidates:
        mp_type, category = catalog.mini_programs[mp]
        same_type = key.mp_type in (ANY, mp_type)
        if data_type == key.data_type and same_type and key.category in (ANY, category):
            ids.append(cell)
    return ids


@dataclass
class _Accumulator:
    """One coarse cell being summed up from its fine cells' rows: each day's active bitmaps are
    collected, then unioned once (:meth:`state`), a many-way union being far cheaper than as
    many in-place ones."""

    days: dict[int, DayState] = field(default_factory=dict)
    active: dict[int, list[BitMap]] = field(default_factory=lambda: defaultdict(list))
    portrait: dict[int, list[Portrait]] = field(default_factory=lambda: defaultdict(list))

    def add(self, day: int, active: BitMap | None, portrait: Portrait) -> None:
        if active is not None:
            self.active[day].append(active)
            self.portrait[day].append(portrait)

    def state(self) -> CellState:
        union = {day: BitMap.union(*parts) for day, parts in self.active.items()}
        lifetime = BitMap()
        for day, fresh in new_by_day(union).items():
            row = self.days.setdefault(day, DayState())
            row.active, row.new = union[day], fresh
            row.portrait = unite_portraits(self.active[day], self.portrait[day])
            lifetime |= fresh
        return CellState(lifetime=lifetime, days=self.days, grown=True)


def _sum_days(
    accumulators: list[_Accumulator], rows: list[tuple[int, int]], sums: list[Sequence[int]]
) -> None:
    """Add the sums of fine rows to their coarse cells' days, vectorized: ``rows`` holds an
    (accumulator index, day ordinal) pair per fine row and coarse cell it belongs to, ``sums``
    that fine row's :data:`SUMS`."""
    if not rows:
        return
    pairs = np.array(rows, dtype=np.int64)
    first = int(pairs[:, 1].min())
    span = int(pairs[:, 1].max()) - first + 1
    keys, totals = group_sums(pairs[:, 0] * span + (pairs[:, 1] - first), np.array(sums, np.int64))
    for key, total in zip(keys.tolist(), totals.tolist(), strict=True):
        index, day = divmod(key, span)
        accumulators[index].days.setdefault(day + first, DayState()).sums = total


async def _unions(
    conn: AsyncConnection,
    groups: Mapping[int, list[int]],
    computed: Mapping[int, CellState] | None = None,
) -> dict[int, CellState]:
    """The state of each cell id of ``groups`` as the union of its member cells (disjoint
    in events: see the module docstring): a member of ``computed`` is taken from it, any other
    is read. Each stored row is read, and its bitmaps deserialized, once for every cell it
    belongs to."""
    computed = computed or {}
    cells = list(groups)
    accumulators = [_Accumulator() for _ in cells]
    into: dict[int, list[int]] = defaultdict(list)
    for index, cell in enumerate(cells):
        for member in groups[cell]:
            into[member].append(index)
    pairs: list[tuple[int, int]] = []
    sums: list[Sequence[int]] = []

    def add(
        member: int, day: int, values: Sequence[int], active: BitMap | None, portrait: Portrait
    ) -> None:
        for index in into[member]:
            accumulators[index].add(day, active, portrait)
            pairs.append((index, day))
            sums.append(values)

    for member in into.keys() & computed.keys():
        for day, held in computed[member].days.items():
            add(member, day, held.sums, held.active or None, held.portrait)
    async for cell, day, values, raw, raws in active_rows(conn, into.keys() - computed.keys()):
        active = None if raw is None else BitMap.deserialize(raw)
        add(cell, day, values, active, portrait_of(raws))
    _sum_days(accumulators, pairs, sums)
    return {
        cell: accumulator.state() for cell, accumulator in zip(cells, accumulators, strict=True)
    }


async def active_rows(
    conn: AsyncConnection, ids: Iterable[int]
) -> AsyncIterator[tuple[int, int, Sequence[int], bytes | None, Sequence[bytes | None]]]:
    """Every stored day of the cells ``ids``: (cell id, day ordinal, :data:`SUMS`, serialized
    active bitmap, serialized exceptions of each portrait dimension)."""
    d = rollup_days.c
    columns = [d.cell_id, d.day, *(d[name] for name in SUMS), d.active_bitmap]
    columns += [d[name] for name in PORTRAIT_COLUMNS]
    for part in batched(sorted(set(ids))):
        for row in await fetch_rows(conn, select(*columns).where(among(conn, d.cell_id, part))):
            yield row[0], row[1].toordinal(), row[2:7], row[7], row[8:10]


def from_fine(key: CellKey) -> bool:
    """Whether a coarse cell is derived from fine cells directly: a mini program's (across
    apps) and an app's per type and category or all-in-one. An app's cell per type only or
    per category only is the union of its type x category cells, a workspace's cell the
    union of its apps' same cells (:func:`_states`)."""
    if not key.scope.startswith("app:"):
        return key.scope.startswith("mp:")
    return (key.mp_type == ANY) == (key.category == ANY)


async def _states(
    conn: AsyncConnection,
    keys: list[CellKey],
    catalog: Catalog,
    fine: Mapping[FineCell, int],
    counter: SourceCounter,
) -> dict[int, CellState]:
    """The state of each cell of ``keys`` (created when missing), in three steps, each a union
    of disjoint parts (so sums add, bitmaps unite, first days take the earliest):

    1. a mini program's cells and an app's type x category (or all-in-one) cells, from their
       fine cells;
    2. an app's cells per type only or per category only, from its type x category cells;
    3. a workspace's cells, from the same cells of its apps (under ``catalog``).

    Steps 2 and 3 read only a few large cells instead of every fine cell under them, each
    computed in an earlier step (a rebuild recomputes every coarse cell). The source cells among
    them are added to ``counter``'s.
    """
    ids = await ensure_cells(conn, keys)
    counter.cells.update(source_cell_ids(ids))
    by_scope = members(catalog, fine)
    first = [key for key in keys if from_fine(key)]
    done = await _unions(
        conn, {ids[key]: members_of(key, catalog, by_scope.get(key.scope, [])) for key in first}
    )
    apps_of = apps_by_workspace(catalog)
    known = {key: ids[key] for key in keys}
    for step in ("app", "ws"):
        chosen = [key for key in keys if key.scope.startswith(f"{step}:") and not from_fine(key)]
        parts = {ids[key]: parts_of(key, known, apps_of) for key in chosen}
        done.update(await _unions(conn, parts, done))
    return {ids[key]: done[ids[key]] for key in keys}


def parts_of(
    key: CellKey, known: Mapping[CellKey, int], apps_of: Mapping[str, list[str]]
) -> list[int]:
    """The cells a step-2 or step-3 cell (see :func:`_states`) is the union of, among the
    ``known`` ones."""
    if key.scope.startswith("app:"):
        found = [
            cell
            for part, cell in known.items()
            if part.scope == key.scope
            and part.data_type == key.data_type
            and ANY not in (part.mp_type, part.category)
            and key.mp_type in (ANY, part.mp_type)
            and key.category in (ANY, part.category)
        ]
    else:
        found = [
            cell
            for app in apps_of.get(key.scope, [])
            if (cell := known.get(CellKey(app_scope(app), key.data_type, key.mp_type,
                                          key.category))) is not None
        ]  # fmt: skip
    return found


async def rederive_all(conn: AsyncConnection, catalog: Catalog, counter: SourceCounter) -> int:
    """Recompute every coarse cell from the fine cells under ``catalog`` (a full rebuild once
    raw days were dropped); cells no fine cell belongs to any more are emptied. Returns how many
    cells were recomputed."""
    fine = await fine_cells(conn)
    keys: set[CellKey] = set()
    for app, mp, data_type in fine:
        workspace, attrs = catalog.apps.get(app), catalog.mini_programs.get(mp)
        if workspace is not None and attrs is not None:
            cells = event_cells(workspace_id=workspace, app_id=app, mp_id=mp, mp_type=attrs[0],
                                category=attrs[1], data_type=data_type)  # fmt: skip
            keys.update(cells[:-1])  # the last is the fine cell itself
    states = await _states(conn, sorted(keys), catalog, fine, counter)
    recomputed, kept = len(states), set(fine.values())
    for cell in (await conn.execute(select(rollup_cells.c.id))).scalars():
        if cell not in states and cell not in kept:  # no fine cell belongs to it any more
            states[cell] = CellState(grown=True)  # empty: its days and lifetime go
    await replace_cells(conn, states, counter)
    return recomputed
