"""The user breakdowns' loader: ``usersBySource`` / ``usersByCategory`` of many scopes at once.

A key names a scope (a workspace or target app), what to group by, the filters, the basis and
the range. One batch answers every key with at most four statements, whatever the number of
scopes: the cells of the batch's scopes (:func:`scope_cells`), the active bitmaps of the
``ACTIVE`` keys' cells over the union of their spans, the lifetime and later new bitmaps of the
``CUMULATIVE`` keys' cells, and (when a key groups by source) the source bitmaps, read once per
request.

Everything is read on the request's :class:`~gateway.loaders.snapshot.SnapshotReader`, so the
breakdowns come from the same snapshot as every other metric of the response.

Example:
    >>> key = UserBreakdownKey(app_scope("a1"), UsersBy.SOURCE, Filters(), UserBasis.ACTIVE, r)
    >>> result = await loaders.user_breakdowns.load(key)                  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiodataloader import DataLoader
from pyroaring import BitMap
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import Filters, UserBasis
from gateway.loaders.snapshot import Snapshot, SnapshotReader
from gateway.metrics.breakdown import Breakdown
from gateway.metrics.cells import ANY, CellKey
from gateway.metrics.timerange import DateRange
from gateway.metrics.user_breakdowns import EMPTY, CellUsers, UsersBy, by_category, by_source
from gateway.store.rollup import (
    read_active_users,
    read_cumulative_users,
    read_user_sources,
    scope_cells,
)


@dataclass(frozen=True, slots=True)
class UserBreakdownKey:
    """One user breakdown.

    Attributes:
        scope: The cell scope (``ws:<id>`` or ``app:<id>``, see :mod:`gateway.metrics.cells`).
        by: Group by user source or by mini program category.
        filters: Type, data type and (by source only) category filters.
        basis: ``CUMULATIVE`` (users by the range's end) or ``ACTIVE`` (users during it).
        span: The range R (its previous period is computed too).
    """

    scope: str
    by: UsersBy
    filters: Filters
    basis: UserBasis
    span: DateRange


def _cell(key: UserBreakdownKey, category: str) -> CellKey:
    only = key.filters.type.only
    return CellKey(
        key.scope, key.filters.data_type.name, ANY if only is None else only.name, category
    )


def key_cells(key: UserBreakdownKey, cells: Mapping[CellKey, int]) -> dict[str, int]:
    """The cells a key reads, by group: by source, its one cell (group ""); by category, one
    cell per category of the scope with the key's type and data type."""
    if key.by is UsersBy.SOURCE:
        cell = _cell(key, ANY if key.filters.category is None else key.filters.category)
        return {"": cells[cell]} if cell in cells else {}
    want = _cell(key, ANY)
    return {
        cell.category: cell_id
        for cell, cell_id in cells.items()
        if cell.category != ANY
        and (cell.scope, cell.data_type, cell.mp_type) == (want.scope, want.data_type, want.mp_type)
    }


async def _read_basis(
    conn: AsyncConnection, keys: Sequence[UserBreakdownKey], plans: Sequence[dict[str, int]]
) -> dict[UserBasis, dict[int, CellUsers]]:
    """The bitmaps every key needs: one statement per basis present in the batch."""
    out: dict[UserBasis, dict[int, CellUsers]] = {}
    for basis in UserBasis:
        chosen = [(key, plan) for key, plan in zip(keys, plans, strict=True) if key.basis is basis]
        ids = sorted({cell for _, plan in chosen for cell in plan.values()})
        if not ids:
            continue
        spans = [key.span for key, _ in chosen]
        if basis is UserBasis.ACTIVE:
            start = min(span.previous().start for span in spans)
            out[basis] = await read_active_users(conn, ids, start, max(s.end for s in spans))
        else:
            after = min(span.previous().end for span in spans)
            out[basis] = await read_cumulative_users(conn, ids, after)
    return out


class SourceCache:
    """The source bitmaps, read at most once per request (they belong to its one snapshot)."""

    def __init__(self) -> None:
        self._sources: dict[str, BitMap] | None = None

    async def get(self, conn: AsyncConnection) -> dict[str, BitMap]:
        """The bitmaps, read on first use."""
        if self._sources is None:
            self._sources = await read_user_sources(conn)
        return self._sources


async def load_user_breakdowns(
    conn: AsyncConnection,
    snapshot: Snapshot,
    keys: Sequence[UserBreakdownKey],
    cache: SourceCache,
) -> list[Breakdown]:
    """Answer ``keys`` in order (see the module docstring for the statements run)."""
    if snapshot.id == 0:  # no refresh yet: no rollups to read, every breakdown is empty
        plans: list[dict[str, int]] = [{} for _ in keys]
    else:
        cells = await scope_cells(conn, {key.scope for key in keys})
        plans = [key_cells(key, cells) for key in keys]
    users = await _read_basis(conn, keys, plans)
    by_source_wanted = any(
        key.by is UsersBy.SOURCE and plan for key, plan in zip(keys, plans, strict=True)
    )
    sources = await cache.get(conn) if by_source_wanted else {}
    out = []
    for key, plan in zip(keys, plans, strict=True):
        read = users.get(key.basis, {})
        if key.by is UsersBy.SOURCE:
            cell = read[plan[""]] if plan else EMPTY
            out.append(by_source(cell, key.basis, key.span, sources))
        else:
            found = {category: read[cell] for category, cell in plan.items()}
            out.append(by_category(found, key.basis, key.span))
    return out


class UserBreakdownLoader(DataLoader[UserBreakdownKey, Breakdown]):
    """User breakdowns of one request, read on its snapshot connection."""

    def __init__(self, reader: SnapshotReader) -> None:
        self.reader = reader
        self.sources = SourceCache()
        super().__init__()

    async def batch_load_fn(self, keys: list[UserBreakdownKey]) -> list[Breakdown]:
        """Answer the batch on the request's snapshot (at most four statements)."""

        async def work(conn: AsyncConnection, snapshot: Snapshot) -> list[Breakdown]:
            return await load_user_breakdowns(conn, snapshot, keys, self.sources)

        return await self.reader.read(work)
