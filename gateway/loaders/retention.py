"""The retention loader: a cell's daily user sets over the days a retention table reads.

One batch runs one statement for the cells' ids (none when another loader of the request read
their scopes) and one :func:`~gateway.store.rollup.read_day_sets` per distinct (days, new days)
pair of its keys, on the request's snapshot, so a table agrees with every other field of the
response.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.loaders.scope_cells import ScopeCells
from gateway.loaders.snapshot import Snapshot, SnapshotReader
from gateway.loaders.tracing import traced_batch
from gateway.metrics.cells import CellKey
from gateway.metrics.retention import DaySets
from gateway.metrics.timerange import DateRange
from gateway.store.rollup import read_day_sets


@dataclass(frozen=True, slots=True)
class DaySetsKey:
    """One cell's active sets over ``span`` and, when ``new`` is given, its new sets over
    ``new``."""

    cell: CellKey
    span: DateRange
    new: DateRange | None


async def load_day_sets(
    conn: AsyncConnection,
    snapshot: Snapshot,
    keys: Sequence[DaySetsKey],
    cells: ScopeCells | None = None,
) -> list[DaySets]:
    """Answer ``keys`` in order (a cell without events, or no snapshot yet: no users)."""
    if snapshot.id == 0:
        return [DaySets() for _ in keys]
    found = await (cells or ScopeCells()).get(conn, {key.cell.scope for key in keys})
    groups: dict[tuple[DateRange, DateRange | None], set[int]] = defaultdict(set)
    for key in keys:
        if key.cell in found:
            groups[key.span, key.new].add(found[key.cell])
    read = {group: await read_day_sets(conn, sorted(ids), *group) for group, ids in groups.items()}
    return [
        read[key.span, key.new][found[key.cell]] if key.cell in found else DaySets() for key in keys
    ]


class DaySetsLoader(DataLoader[DaySetsKey, DaySets]):
    """Daily user sets of one request, read on its snapshot connection."""

    def __init__(self, reader: SnapshotReader) -> None:
        self.reader = reader
        super().__init__()

    @traced_batch
    async def batch_load_fn(self, keys: list[DaySetsKey]) -> list[DaySets]:
        """Answer the batch on the request's snapshot."""

        async def work(conn: AsyncConnection, snapshot: Snapshot) -> list[DaySets]:
            return await load_day_sets(conn, snapshot, keys, self.reader.cells)

        return await self.reader.read(work)
