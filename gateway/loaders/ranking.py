"""Every target app of a workspace at once, for orderings a keyset page cannot do in SQL.

``Workspace.targetApps(orderBy: USER_COUNT | MINI_PROGRAM_COUNT | NAME)`` sorts by values that
live in rollups or the catalog, so the resolver ranks the workspace's whole (small) app list in
Python; this loader hands it every app of each workspace of the batch in one statement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.loaders.base import EngineLoader
from gateway.loaders.catalog_rows import TargetAppRow
from gateway.store.tables import target_apps


class AllTargetAppsByWorkspaceLoader(EngineLoader[str, tuple[TargetAppRow, ...]]):
    """Each workspace's target apps, by id."""

    async def load_batch(
        self, conn: AsyncConnection, keys: Sequence[str]
    ) -> list[tuple[TargetAppRow, ...]]:
        """One statement for the batch's workspaces."""
        stmt = (
            select(target_apps)
            .where(target_apps.c.workspace_id.in_(set(keys)))
            .order_by(target_apps.c.id)
        )
        found: dict[str, list[TargetAppRow]] = defaultdict(list)
        for row in (await conn.execute(stmt)).mappings():
            found[row["workspace_id"]].append(TargetAppRow.from_mapping(row))
        return [tuple(found.get(key, ())) for key in keys]
