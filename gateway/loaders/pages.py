"""The page report's loader: a mini program cell's pages over a range, with their paths.

One batch reads the cells' ids (none when another loader of the request read their scopes),
then each key's days (one statement each) and the paths of the pages found (one statement),
on the request's snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.loaders.scope_cells import ScopeCells
from gateway.loaders.snapshot import Snapshot, SnapshotReader
from gateway.loaders.tracing import traced_batch
from gateway.metrics.cells import CellKey
from gateway.metrics.pages import PageReport
from gateway.metrics.timerange import DateRange
from gateway.store.rollup.pages import PageTotals, page_paths_of, read_pages


@dataclass(frozen=True, slots=True)
class PagesKey:
    """The pages of one mini program cell over ``span``."""

    cell: CellKey
    span: DateRange


async def load_pages(
    conn: AsyncConnection,
    snapshot: Snapshot,
    keys: Sequence[PagesKey],
    cells: ScopeCells | None = None,
) -> list[list[PageReport]]:
    """Answer ``keys`` in order (unsorted; no snapshot yet or a cell without events: none)."""
    if snapshot.id == 0:
        return [[] for _ in keys]
    found = await (cells or ScopeCells()).get(conn, {key.cell.scope for key in keys})
    totals: list[list[PageTotals]] = []
    for key in keys:
        cell = found.get(key.cell)
        span = key.span
        totals.append([] if cell is None else await read_pages(conn, cell, span.start, span.end))
    paths = await page_paths_of(conn, {page.page for pages in totals for page in pages})
    return [
        [PageReport(paths[t.page], t.views, t.visitors, t.duration_ms / 1000) for t in pages]
        for pages in totals
    ]


class PagesLoader(DataLoader[PagesKey, list[PageReport]]):
    """Page reports of one request, read on its snapshot connection."""

    def __init__(self, reader: SnapshotReader) -> None:
        self.reader = reader
        super().__init__()

    @traced_batch
    async def batch_load_fn(self, keys: list[PagesKey]) -> list[list[PageReport]]:
        """Answer the batch on the request's snapshot."""

        async def work(conn: AsyncConnection, snapshot: Snapshot) -> list[list[PageReport]]:
            return await load_pages(conn, snapshot, keys, self.reader.cells)

        return await self.reader.read(work)
