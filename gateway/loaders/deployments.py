"""Deployment history and the catalog counts derived from current statuses.

Each loader runs one statement per batch (per distinct filter for the counts, which depends on
the query text only).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import DeploymentStatus, Filters
from gateway.loaders.base import EngineLoader
from gateway.loaders.catalog_rows import StatusChange
from gateway.loaders.current_status import current_deployments, mini_program_conditions
from gateway.loaders.keys import FilteredKey, PairKey
from gateway.metrics.status_groups import AVAILABLE_STATUSES, StatusCounts, group_counts
from gateway.store.tables import deployments, mini_programs, target_apps


class DeploymentHistoryByPairLoader(EngineLoader[PairKey, tuple[StatusChange, ...]]):
    """Status history of deployments, oldest first; empty when the pair is not associated."""

    async def load_batch(
        self, conn: AsyncConnection, keys: Sequence[PairKey]
    ) -> list[tuple[StatusChange, ...]]:
        """One ``WHERE (app, mini program) IN (...)`` for the batch."""
        pairs = {(key.target_app_id, key.mini_program_id) for key in keys}
        stmt = (
            select(deployments)
            .where(tuple_(deployments.c.target_app_id, deployments.c.mini_program_id).in_(pairs))
            .order_by(deployments.c.at)
        )
        history: dict[PairKey, list[StatusChange]] = defaultdict(list)
        for row in (await conn.execute(stmt)).mappings():
            key = PairKey(row["target_app_id"], row["mini_program_id"])
            history[key].append(StatusChange(status=row["status"], at=row["at"]))
        return [tuple(history.get(key, ())) for key in keys]


def _by_filter(keys: Sequence[FilteredKey]) -> dict[Filters, list[str]]:
    groups: dict[Filters, list[str]] = defaultdict(list)
    for key in keys:
        groups[key.filter].append(key.id)
    return groups


class StatusCountsByTargetAppLoader(EngineLoader[FilteredKey, StatusCounts]):
    """``TargetApp.miniProgramStatusCounts``: current mini program counts per status group."""

    async def load_batch(
        self, conn: AsyncConnection, keys: Sequence[FilteredKey]
    ) -> list[StatusCounts]:
        """One grouped count per distinct filter of the batch."""
        counts: dict[FilteredKey, dict[DeploymentStatus, int]] = defaultdict(dict)
        for flt, app_ids in _by_filter(keys).items():
            current = current_deployments([deployments.c.target_app_id.in_(app_ids)])
            stmt = (
                select(current.c.target_app_id, current.c.status, func.count())
                .select_from(
                    current.join(mini_programs, mini_programs.c.id == current.c.mini_program_id)
                )
                .where(*mini_program_conditions(flt))
                .group_by(current.c.target_app_id, current.c.status)
            )
            for app_id, status, count in await conn.execute(stmt):
                counts[FilteredKey(app_id, flt)][status] = count
        return [group_counts(counts.get(key, {})) for key in keys]


async def _count_available(
    conn: AsyncConnection, keys: Sequence[FilteredKey], *, by_workspace: bool
) -> list[int]:
    found: dict[FilteredKey, int] = {}
    for flt, ids in _by_filter(keys).items():
        if by_workspace:
            apps = select(target_apps.c.id).where(target_apps.c.workspace_id.in_(ids))
            where: ColumnElement[bool] = deployments.c.target_app_id.in_(apps.scalar_subquery())
        else:
            where = deployments.c.target_app_id.in_(ids)
        current = current_deployments([where])
        joined = current.join(mini_programs, mini_programs.c.id == current.c.mini_program_id)
        if by_workspace:
            joined = joined.join(target_apps, target_apps.c.id == current.c.target_app_id)
        scope = target_apps.c.workspace_id if by_workspace else current.c.target_app_id
        stmt = (
            select(scope, func.count(current.c.mini_program_id.distinct()))
            .select_from(joined)
            .where(current.c.status.in_(AVAILABLE_STATUSES), *mini_program_conditions(flt))
            .group_by(scope)
        )
        for scope_id, count in await conn.execute(stmt):
            found[FilteredKey(scope_id, flt)] = count
    return [found.get(key, 0) for key in keys]


class AvailableByTargetAppLoader(EngineLoader[FilteredKey, int]):
    """``TargetApp.availableMiniPrograms``: mini programs in full or grayscale release."""

    async def load_batch(self, conn: AsyncConnection, keys: Sequence[FilteredKey]) -> list[int]:
        """One grouped distinct count per distinct filter of the batch."""
        return await _count_available(conn, keys, by_workspace=False)


class AvailableByWorkspaceLoader(EngineLoader[FilteredKey, int]):
    """``Workspace.availableMiniPrograms``: distinct mini programs available in any of its apps."""

    async def load_batch(self, conn: AsyncConnection, keys: Sequence[FilteredKey]) -> list[int]:
        """One grouped distinct count per distinct filter of the batch."""
        return await _count_available(conn, keys, by_workspace=True)
