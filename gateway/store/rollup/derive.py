"""Coarse cells derived from the finest ones: how a catalog change is applied without raw events.

Every event counts in exactly one *fine* cell, ``app:<a>|mp:<m>`` x data type: its membership
never depends on a catalog attribute. Every other cell (a workspace's or an app's, per type and
category; a mini program's across apps) is a union of fine cells under the current catalog. When
a mini program changes type or category, or an app changes workspace, the cells whose membership
changed are recomputed from their fine cells' stored days (:func:`rederive`), never from raw
events, which may have been dropped by then (SPEC §2).

A coarse day is the sum of its fine days' totals and the union of their active bitmaps; a user
is new in the coarse cell on the first day they are new in any of its fine cells:

    >>> from pyroaring import BitMap
    >>> first = {1: BitMap([7]), 3: BitMap([8])}          # fine cell f: user 7 new on day 1
    >>> second = {2: BitMap([7, 9])}                      # fine cell g: users 7 and 9 on day 2
    >>> new_by_day({day: first.get(day, BitMap()) | second.get(day, BitMap()) for day in (1, 2, 3)})
    {1: BitMap([7]), 2: BitMap([9]), 3: BitMap([8])}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

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
from gateway.store.rollup.catalog import Catalog
from gateway.store.rollup.fold import SUMS
from gateway.store.rollup.persist import ensure_cells, replace_cells
from gateway.store.rollup.read import batched
from gateway.store.rollup.state import CellState, DayState
from gateway.store.rollup_tables import rollup_cells, rollup_days

FineCell = tuple[str, str, str]
"""A fine cell's (app, mini program, data type)."""


def new_by_day(fine_new: Mapping[int, BitMap]) -> dict[int, BitMap]:
    """Per day, the users first seen in a coarse cell, from the union of its fine cells' new
    bitmaps of each day (a user new in several fine cells is new on the earliest day)."""
    seen, out = BitMap(), {}
    for day in sorted(fine_new):
        fresh = fine_new[day] - seen
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


def changed_cells(
    recorded: Mapping[tuple[str, str], str], catalog: Catalog, fine: Iterable[FineCell]
) -> set[CellKey]:
    """The coarse cells whose membership differs between the ``recorded`` attributes (what the
    rollups were built with) and ``catalog`` (now), among those holding a fine cell."""
    out: set[CellKey] = set()
    for app, mp, data_type in fine:
        workspace, attrs = catalog.apps.get(app), catalog.mini_programs.get(mp)
        if workspace is None or attrs is None:
            continue
        was_in = recorded.get(("app", app), workspace)
        was_type, _, was_category = recorded.get(("mp", mp), "/".join(attrs)).partition("/")
        was = (was_type, was_category)
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
    """The type x category cells of ``scope`` a mini program with each of ``attrs`` is in
    (without the all-types, all-categories cell, the last of each, unless ``everything``)."""
    out: set[CellKey] = set()
    for mp_type, category in attrs:
        cells = filter_cells(scope, data_type, mp_type, category)
        out.update(cells if everything else cells[:-1])
    return out


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


def _of(key: CellKey, catalog: Catalog, candidates: list[tuple[int, FineCell]]) -> list[int]:
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
    """One coarse cell being summed up from its fine cells' rows."""

    days: dict[int, DayState] = field(default_factory=lambda: defaultdict(DayState))
    fine_new: dict[int, BitMap] = field(default_factory=lambda: defaultdict(BitMap))

    def add(self, day: int, sums: list[int], active: BitMap | None, new: BitMap | None) -> None:
        state = self.days[day]
        state.sums = [a + b for a, b in zip(state.sums, sums, strict=True)]
        if active is not None:
            state.active |= active
        if new is not None:
            self.fine_new[day] |= new

    def state(self) -> CellState:
        lifetime = BitMap()
        for day, fresh in new_by_day(self.fine_new).items():
            self.days[day].new = fresh
            lifetime |= fresh
        return CellState(lifetime=lifetime, days=dict(self.days), grown=True)


async def _unions(
    conn: AsyncConnection, members_of: Mapping[int, list[int]]
) -> dict[int, CellState]:
    """The coarse state of each cell id of ``members_of`` from its fine cells (see the module
    docstring). Each fine row is read once and added to every coarse cell it belongs to."""
    into: dict[int, list[_Accumulator]] = defaultdict(list)
    accumulators = {cell: _Accumulator() for cell in members_of}
    for cell, fine_ids in members_of.items():
        for fine_id in fine_ids:
            into[fine_id].append(accumulators[cell])
    d = rollup_days.c
    for part in batched(sorted(into)):
        for row in await conn.execute(select(rollup_days).where(d.cell_id.in_(part))):
            sums = [int(getattr(row, name)) for name in SUMS]
            active = None if row.active_bitmap is None else BitMap.deserialize(row.active_bitmap)
            new = None if row.new_bitmap is None else BitMap.deserialize(row.new_bitmap)
            for accumulator in into[row.cell_id]:
                accumulator.add(row.day.toordinal(), sums, active, new)
    return {cell: accumulator.state() for cell, accumulator in accumulators.items()}


async def _states(
    conn: AsyncConnection, keys: list[CellKey], catalog: Catalog, fine: Mapping[FineCell, int]
) -> dict[int, CellState]:
    """The state of each cell of ``keys`` (created when missing) from its fine cells."""
    by_scope = members(catalog, fine)
    ids = await ensure_cells(conn, keys)
    members_of = {ids[key]: _of(key, catalog, by_scope.get(key.scope, [])) for key in keys}
    return await _unions(conn, members_of)


async def rederive(
    conn: AsyncConnection, recorded: Mapping[tuple[str, str], str], catalog: Catalog
) -> int:
    """Recompute, from their fine cells, the cells a catalog change moved entities into or out
    of (nothing when the attributes the rollups were built with are still the current ones);
    returns how many cells were recomputed."""
    current = catalog.attributes()
    if all(current.get(key, value) == value for key, value in recorded.items()):
        return 0
    fine = await fine_cells(conn)
    keys = sorted(changed_cells(recorded, catalog, fine))
    if not keys:
        return 0
    await replace_cells(conn, await _states(conn, keys, catalog, fine))
    return len(keys)


async def rederive_all(conn: AsyncConnection, catalog: Catalog) -> int:
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
    states = await _states(conn, sorted(keys), catalog, fine)
    recomputed, kept = len(states), set(fine.values())
    for cell in (await conn.execute(select(rollup_cells.c.id))).scalars():
        if cell not in states and cell not in kept:  # no fine cell belongs to it any more
            states[cell] = CellState(grown=True)  # empty: its days and lifetime go
    await replace_cells(conn, states)
    return recomputed
