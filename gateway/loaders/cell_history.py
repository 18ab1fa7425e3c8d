"""The event metrics' loader: rollup cell histories, a constant number of statements per batch.

A key names a cell, the days wanted and whether the daily user bitmaps are needed. One batch
answers every key with one statement for the cells' ids (none when another loader of the
request read their scopes, :mod:`~gateway.loaders.scope_cells`) and, for each of (at most) two
groups of
cells (those some key wants bitmaps for, and the rest), one :func:`read_histories` over the
group's union span (two statements). Each key then gets its slice of its cell's history, so a
dashboard showing many entities and metrics costs the same few statements as one.

Everything is read on the request's :class:`~gateway.loaders.snapshot.SnapshotReader`, so every
metric of a response comes from one snapshot; before the first refresh every history is empty.

Example:
    >>> cell = cell_of(EntityRef.workspace("w1"), Filters())
    >>> key = HistoryKey(cell, date(2026, 11, 1), date(2026, 11, 7))
    >>> history = await loaders.cell_history.load(key)                    # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.loaders.scope_cells import ScopeCells
from gateway.loaders.snapshot import Snapshot, SnapshotReader
from gateway.loaders.tracing import traced_batch
from gateway.metrics.cell_days import CellHistory
from gateway.metrics.cells import CellKey
from gateway.store.rollup import read_histories


@dataclass(frozen=True, slots=True)
class HistoryKey:
    """One cell's days from ``start`` to ``end``.

    Attributes:
        cell: The rollup cell (scope and filters).
        start: First day needed (usually the previous period's first day).
        end: Last day needed.
        bitmaps: True when the days' active-user bitmaps are needed (a distinct count over
            more than one day).
    """

    cell: CellKey
    start: date
    end: date
    bitmaps: bool = False


def slice_history(history: CellHistory, start: date, end: date) -> CellHistory:
    """The part of ``history`` from ``start`` to ``end`` (``start`` not before its start).

    ``lifetime_before`` moves forward by the users first seen on the days skipped.
    """
    if start == history.start and all(day <= end for day in history.days):
        return history
    if start < history.start:
        raise ValueError(f"slice from {start} of a history starting {history.start}")
    days = {day: row for day, row in history.days.items() if start <= day <= end}
    skipped = sum(row.new_users for day, row in history.days.items() if day < start)
    return CellHistory(start, days, history.lifetime_before + skipped)


async def _read_group(
    conn: AsyncConnection, ids: Mapping[CellKey, int], keys: Sequence[HistoryKey], bitmaps: bool
) -> dict[CellKey, CellHistory]:
    if not keys:
        return {}
    start, end = min(key.start for key in keys), max(key.end for key in keys)
    cells = sorted({key.cell for key in keys})
    found = await read_histories(conn, [ids[cell] for cell in cells], start, end, bitmaps=bitmaps)
    return {cell: found[ids[cell]] for cell in cells}


async def load_histories(
    conn: AsyncConnection,
    snapshot: Snapshot,
    keys: Sequence[HistoryKey],
    cells: ScopeCells | None = None,
) -> list[CellHistory]:
    """Answer ``keys`` in order (see the module docstring for the statements run); the cell ids
    come from ``cells`` (the request's, shared with other loaders) when given."""
    if snapshot.id == 0:  # no refresh yet: no rollups to read
        return [CellHistory(key.start) for key in keys]
    directory = ScopeCells() if cells is None else cells
    found = await directory.get(conn, {key.cell.scope for key in keys})
    known = {key.cell: found[key.cell] for key in keys if key.cell in found}
    wanted = [key for key in keys if key.cell in known]
    with_bitmaps = {key.cell for key in wanted if key.bitmaps}
    histories = await _read_group(
        conn, known, [k for k in wanted if k.cell in with_bitmaps], bitmaps=True
    )
    histories |= await _read_group(
        conn, known, [k for k in wanted if k.cell not in with_bitmaps], bitmaps=False
    )
    return [
        slice_history(histories[key.cell], key.start, key.end)
        if key.cell in histories
        else CellHistory(key.start)  # a cell with no events yet: every metric is 0
        for key in keys
    ]


class CellHistoryLoader(DataLoader[HistoryKey, CellHistory]):
    """Cell histories of one request, read on its snapshot connection."""

    def __init__(self, reader: SnapshotReader) -> None:
        self.reader = reader
        super().__init__()

    @traced_batch
    async def batch_load_fn(self, keys: list[HistoryKey]) -> list[CellHistory]:
        """Answer the batch on the request's snapshot (a constant number of statements)."""

        async def work(conn: AsyncConnection, snapshot: Snapshot) -> list[CellHistory]:
            return await load_histories(conn, snapshot, keys, self.reader.cells)

        return await self.reader.read(work)
