"""The catalog attributes a rollup depends on, and the check that they have not changed.

An event's cells depend on its app's workspace and its mini program's type and category. The
refresh records the attributes it built with; if one of them differs now (a mini program changed
category, say), the cells whose membership changed are recomputed from the fine cells
(:mod:`gateway.store.rollup.derive`), reading no raw event. Attributes of entities never recorded
cannot be stale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.metrics.cells import CellKey, event_cells
from gateway.store.rollup_tables import rollup_catalog
from gateway.store.tables import mini_programs, target_apps


@dataclass
class Catalog:
    """App -> workspace and mini program -> (type, category), as of one refresh.

    Also the registry of "combos" (app, mini program, data type) seen in the events folded, each
    mapped to its ten cells; combos and cells are numbered locally for the vectorized fold.
    """

    apps: dict[str, str]
    mini_programs: dict[str, tuple[str, str]]
    combos: dict[tuple[str, str, str], int] = field(default_factory=dict)
    combo_cells: list[tuple[int, ...]] = field(default_factory=list)
    cells: dict[CellKey, int] = field(default_factory=dict)
    cell_keys: list[CellKey] = field(default_factory=list)

    def combo(self, app_id: str, mp_id: str, data_type: str) -> int:
        """Local number of an (app, mini program, data type); -1 when the catalog lacks one."""
        key = (app_id, mp_id, data_type)
        found = self.combos.get(key)
        if found is not None:
            return found
        workspace = self.apps.get(app_id)
        attrs = self.mini_programs.get(mp_id)
        if workspace is None or attrs is None:
            return -1
        keys = event_cells(
            workspace_id=workspace,
            app_id=app_id,
            mp_id=mp_id,
            mp_type=attrs[0],
            category=attrs[1],
            data_type=data_type,
        )
        self.combo_cells.append(tuple(self._cell(k) for k in keys))
        self.combos[key] = len(self.combo_cells) - 1
        return self.combos[key]

    def _cell(self, key: CellKey) -> int:
        found = self.cells.get(key)
        if found is None:
            found = self.cells[key] = len(self.cell_keys)
            self.cell_keys.append(key)
        return found

    def attributes(self) -> dict[tuple[str, str], str]:
        """The recorded form: (kind, id) -> attributes text."""
        out = {("app", app): ws for app, ws in self.apps.items()}
        out.update({("mp", mp): f"{t}/{c}" for mp, (t, c) in self.mini_programs.items()})
        return out


async def load_catalog(conn: AsyncConnection) -> Catalog:
    """The current catalog attributes (a few thousand rows at most)."""
    apps = await conn.execute(select(target_apps.c.id, target_apps.c.workspace_id))
    mps = await conn.execute(
        select(mini_programs.c.id, mini_programs.c.type, mini_programs.c.category)
    )
    return Catalog(
        apps={row.id: row.workspace_id for row in apps},
        mini_programs={row.id: (row.type.name, row.category) for row in mps},
    )


async def recorded_catalog(conn: AsyncConnection) -> dict[tuple[str, str], str]:
    """The attributes the rollups were built with: (kind, id) -> attributes text."""
    rows = await conn.execute(select(rollup_catalog))
    return {(row.kind, row.id): row.attributes for row in rows}


async def record_catalog(conn: AsyncConnection, catalog: Catalog) -> None:
    """Remember the attributes this refresh built with (replaces the previous record)."""
    await conn.execute(delete(rollup_catalog))
    rows = [{"kind": k, "id": i, "attributes": a} for (k, i), a in catalog.attributes().items()]
    if rows:
        await conn.execute(insert(rollup_catalog), rows)


def recorded_view(recorded: Mapping[tuple[str, str], str], catalog: Catalog) -> Catalog:
    """The catalog the rollups were built with: the recorded attributes, the current ones of
    entities never recorded (those cannot be stale)."""
    apps = {app: recorded.get(("app", app), ws) for app, ws in catalog.apps.items()}
    mps: dict[str, tuple[str, str]] = {}
    for mp, attrs in catalog.mini_programs.items():
        was_type, _, was_category = recorded.get(("mp", mp), "/".join(attrs)).partition("/")
        mps[mp] = (was_type, was_category)
    return Catalog(apps=apps, mini_programs=mps)
