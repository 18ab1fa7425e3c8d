"""The portrait loader: ``usersByPlatform`` / ``usersByRegion`` of many cells at once.

A batch reads the cells' ids (none when another loader of the request read their scopes), one
:func:`~gateway.store.rollup.read_portrait_days` per distinct range of its keys (R and its
previous period together) and the users' primary values once per request, all on the request's
snapshot, so a portrait agrees with every other field of the response.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from aiodataloader import DataLoader
from pyroaring import BitMap
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.loaders.scope_cells import ScopeCells
from gateway.loaders.snapshot import Snapshot, SnapshotReader
from gateway.loaders.tracing import traced_batch
from gateway.metrics.breakdown import Breakdown
from gateway.metrics.cells import CellKey
from gateway.metrics.portrait import Portrait, PortraitDay, portrait_breakdown
from gateway.metrics.timerange import DateRange
from gateway.store.audience_codes import platform_name, region_name
from gateway.store.rollup import read_portrait_days, read_primary_users
from gateway.store.rollup.primaries import DIMENSIONS

NAMES: dict[str, Callable[[int], str]] = {"platform": platform_name, "region": region_name}
"""The name of a code, per dimension."""


@dataclass(frozen=True, slots=True)
class PortraitKey:
    """One portrait: a cell's users over ``span`` (and its previous period) by ``dimension``
    (``platform`` or ``region``)."""

    cell: CellKey
    dimension: str
    span: DateRange


class PrimaryCache:
    """The users' primary values, read at most once per request (they belong to its one
    snapshot)."""

    def __init__(self) -> None:
        self._found: dict[str, dict[int, BitMap]] | None = None

    async def get(self, conn: AsyncConnection) -> dict[str, dict[int, BitMap]]:
        """The primaries of every dimension, read on first use."""
        if self._found is None:
            self._found = await read_primary_users(conn)
        return self._found


def _days(
    found: Mapping[date, tuple[BitMap, Portrait]], span: DateRange, dimension: int
) -> list[PortraitDay]:
    return [
        (active, portrait[dimension])
        for day, (active, portrait) in found.items()
        if span.start <= day <= span.end
    ]


async def load_portraits(
    conn: AsyncConnection,
    snapshot: Snapshot,
    keys: Sequence[PortraitKey],
    primaries: PrimaryCache,
    cells: ScopeCells | None = None,
) -> list[Breakdown]:
    """Answer ``keys`` in order (a cell without events, or no snapshot yet: no users)."""
    found = (
        {}
        if snapshot.id == 0
        else await (cells or ScopeCells()).get(conn, {key.cell.scope for key in keys})
    )
    groups: dict[DateRange, set[int]] = defaultdict(set)
    for key in keys:
        if key.cell in found:
            groups[DateRange(key.span.previous().start, key.span.end)].add(found[key.cell])
    read = {span: await read_portrait_days(conn, sorted(ids), span) for span, ids in groups.items()}
    users = await primaries.get(conn) if read else {}
    out = []
    for key in keys:
        index = DIMENSIONS.index(key.dimension)
        days: Mapping[date, tuple[BitMap, Portrait]] = {}
        if key.cell in found:
            days = read[DateRange(key.span.previous().start, key.span.end)][found[key.cell]]
        now, before = _days(days, key.span, index), _days(days, key.span.previous(), index)
        primaries_of = users.get(key.dimension, {})
        out.append(portrait_breakdown(now, before, primaries_of, NAMES[key.dimension]))
    return out


class PortraitLoader(DataLoader[PortraitKey, Breakdown]):
    """Portraits of one request, read on its snapshot connection."""

    def __init__(self, reader: SnapshotReader) -> None:
        self.reader = reader
        self.primaries = PrimaryCache()
        super().__init__()

    @traced_batch
    async def batch_load_fn(self, keys: list[PortraitKey]) -> list[Breakdown]:
        """Answer the batch on the request's snapshot."""

        async def work(conn: AsyncConnection, snapshot: Snapshot) -> list[Breakdown]:
            return await load_portraits(conn, snapshot, keys, self.primaries, self.reader.cells)

        return await self.reader.read(work)
