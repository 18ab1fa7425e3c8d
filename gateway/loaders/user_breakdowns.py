"""The user breakdowns' loader: ``usersBySource`` / ``usersByCategory`` of many scopes at once.

A key names a scope (a workspace or target app), what to group by, the filters, the basis and
the range. One batch answers every key in a few statements, whatever the number of scopes: the
cells of the batch's scopes (:func:`scope_cells`); for ``ACTIVE`` keys the active bitmaps of
their cells over the union of their spans and (when a key groups by source) the source bitmaps,
read once per request; for ``CUMULATIVE`` keys no bitmap at all: users per cell by each end date
(:func:`read_lifetime_counts`, one statement) and, by source, per source
(:func:`read_source_counts`, one statement).

Everything is read on the request's :class:`~gateway.loaders.snapshot.SnapshotReader`, so the
breakdowns come from the same snapshot as every other metric of the response.

Example:
    >>> key = UserBreakdownKey(app_scope("a1"), UsersBy.SOURCE, Filters(), UserBasis.ACTIVE, r)
    >>> result = await loaders.user_breakdowns.load(key)                  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from aiodataloader import DataLoader
from pyroaring import BitMap
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import Filters, UserBasis
from gateway.loaders.scope_cells import ScopeCells
from gateway.loaders.snapshot import Snapshot, SnapshotReader
from gateway.loaders.tracing import traced_batch
from gateway.metrics.breakdown import Breakdown
from gateway.metrics.cells import ANY, CellKey
from gateway.metrics.timerange import DateRange
from gateway.metrics.user_breakdowns import (
    EMPTY,
    CellUsers,
    SourceUsers,
    UsersBy,
    by_category,
    by_source,
    category_counts,
    source_breakdown,
)
from gateway.store.rollup import (
    read_active_users,
    read_lifetime_counts,
    read_source_counts,
    read_user_sources,
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

    @property
    def counted(self) -> bool:
        """Answered from users counts per cell, without bitmaps (the cumulative basis)."""
        return self.basis is UserBasis.CUMULATIVE


def _cell(key: UserBreakdownKey, category: str) -> CellKey:
    only = key.filters.type.only
    return CellKey(
        key.scope, key.filters.data_type.name, ANY if only is None else only.name, category
    )


ALL = "*"
"""The group of a by-category key's all-categories cell (its distinct users: the total)."""


def key_cells(key: UserBreakdownKey, cells: Mapping[CellKey, int]) -> dict[str, int]:
    """The cells a key reads, by group: by source, its one cell (group ""); by category, one
    cell per category of the scope with the key's type and data type, and when counted
    (:attr:`UserBreakdownKey.counted`) the all-categories cell as group :data:`ALL`."""
    if key.by is UsersBy.SOURCE:
        cell = _cell(key, ANY if key.filters.category is None else key.filters.category)
        return {"": cells[cell]} if cell in cells else {}
    want = _cell(key, ANY)
    return {
        ALL if cell.category == ANY else cell.category: cell_id
        for cell, cell_id in cells.items()
        if (cell.category != ANY or key.counted)
        and (cell.scope, cell.data_type, cell.mp_type) == (want.scope, want.data_type, want.mp_type)
    }


def _counted_cells(
    keys: Sequence[UserBreakdownKey], plans: Sequence[dict[str, int]], by: UsersBy
) -> tuple[list[int], list[date]]:
    """The cells of the counted keys grouping ``by``, and the end dates they need."""
    chosen = [
        (key, plan)
        for key, plan in zip(keys, plans, strict=True)
        if key.counted and key.by is by and plan
    ]
    ids = sorted({cell for _, plan in chosen for cell in plan.values()})
    ends = sorted({end for key, _ in chosen for end in (key.span.end, key.span.previous().end)})
    return ids, ends


async def _read_counts(
    conn: AsyncConnection, keys: Sequence[UserBreakdownKey], plans: Sequence[dict[str, int]]
) -> dict[date, dict[int, int]]:
    """Users of the counted by-category keys' cells by each end date they need."""
    ids, ends = _counted_cells(keys, plans, UsersBy.CATEGORY)
    return await read_lifetime_counts(conn, ids, ends) if ids else {}


async def _read_source_counts(
    conn: AsyncConnection, keys: Sequence[UserBreakdownKey], plans: Sequence[dict[str, int]]
) -> dict[date, dict[int, SourceUsers]]:
    """Users per source of the counted by-source keys' cells by each end date they need."""
    ids, ends = _counted_cells(keys, plans, UsersBy.SOURCE)
    return await read_source_counts(conn, ids, ends) if ids else {}


def _counted_sources(
    key: UserBreakdownKey, plan: Mapping[str, int], found: Mapping[date, Mapping[int, SourceUsers]]
) -> Breakdown:
    """A counted by-source key's breakdown from its cell's users per source by R's end and by
    the previous end."""
    if not plan:
        return source_breakdown(SourceUsers(), SourceUsers())
    cell = plan[""]
    now = found.get(key.span.end, {}).get(cell, SourceUsers())
    return source_breakdown(now, found.get(key.span.previous().end, {}).get(cell, SourceUsers()))


def _counted(
    key: UserBreakdownKey, plan: Mapping[str, int], totals: Mapping[date, Mapping[int, int]]
) -> Breakdown:
    """A counted key's breakdown from its cells' users by R's end and the previous end."""
    now, before = totals.get(key.span.end, {}), totals.get(key.span.previous().end, {})
    categories = {group: cell for group, cell in plan.items() if group != ALL}
    everyone = plan.get(ALL)
    return category_counts(
        {category: now.get(cell, 0) for category, cell in categories.items()},
        {category: before.get(cell, 0) for category, cell in categories.items()},
        0 if everyone is None else now.get(everyone, 0),
        0 if everyone is None else before.get(everyone, 0),
    )


async def _read_active(
    conn: AsyncConnection, keys: Sequence[UserBreakdownKey], plans: Sequence[dict[str, int]]
) -> dict[int, CellUsers]:
    """The active bitmaps the ``ACTIVE`` keys need (one statement)."""
    chosen = [(key, plan) for key, plan in zip(keys, plans, strict=True) if not key.counted]
    ids = sorted({cell for _, plan in chosen for cell in plan.values()})
    if not ids:
        return {}
    spans = [key.span for key, _ in chosen]
    start = min(span.previous().start for span in spans)
    return await read_active_users(conn, ids, start, max(s.end for s in spans))


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
    directory: ScopeCells | None = None,
) -> list[Breakdown]:
    """Answer ``keys`` in order (see the module docstring for the statements run); the cells of
    their scopes come from ``directory`` (the request's) when given."""
    if snapshot.id == 0:  # no refresh yet: no rollups to read, every breakdown is empty
        plans: list[dict[str, int]] = [{} for _ in keys]
    else:
        cells = await (directory or ScopeCells()).get(conn, {key.scope for key in keys})
        plans = [key_cells(key, cells) for key in keys]
    active = await _read_active(conn, keys, plans)
    totals = await _read_counts(conn, keys, plans)
    per_source = await _read_source_counts(conn, keys, plans)
    bitmaps_wanted = any(
        key.by is UsersBy.SOURCE and plan and not key.counted
        for key, plan in zip(keys, plans, strict=True)
    )
    sources = await cache.get(conn) if bitmaps_wanted else {}
    out = []
    for key, plan in zip(keys, plans, strict=True):
        if key.counted:
            counted = key.by is UsersBy.SOURCE
            out.append(
                _counted_sources(key, plan, per_source) if counted else _counted(key, plan, totals)
            )
        elif key.by is UsersBy.SOURCE:
            out.append(by_source(active[plan[""]] if plan else EMPTY, key.span, sources))
        else:
            found = {category: active[cell] for category, cell in plan.items()}
            out.append(by_category(found, key.span))
    return out


class UserBreakdownLoader(DataLoader[UserBreakdownKey, Breakdown]):
    """User breakdowns of one request, read on its snapshot connection."""

    def __init__(self, reader: SnapshotReader) -> None:
        self.reader = reader
        self.sources = SourceCache()
        super().__init__()

    @traced_batch
    async def batch_load_fn(self, keys: list[UserBreakdownKey]) -> list[Breakdown]:
        """Answer the batch on the request's snapshot (see the module docstring)."""

        async def work(conn: AsyncConnection, snapshot: Snapshot) -> list[Breakdown]:
            return await load_user_breakdowns(conn, snapshot, keys, self.sources, self.reader.cells)

        return await self.reader.read(work)
