"""Loaders of the catalog metrics: a scope's dated catalog entries, one statement per batch.

Each loader is keyed by a scope id only and returns every entry of the scope, unfiltered:
catalogs are small, so :mod:`gateway.metrics.catalog_counts` filters by type and category and
answers every range, previous period and bucket in Python from the one load. Two fields on one
scope with other filters or ranges therefore share the same load.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.domain import MerchantType
from gateway.loaders.base import EngineLoader
from gateway.metrics.catalog_counts import CatalogEntry
from gateway.store.tables import deployments, merchants, mini_programs, target_apps

Entries = tuple[CatalogEntry, ...]
Onboardings = tuple[tuple[MerchantType, dt.datetime], ...]


def _entry(row: Mapping[Any, Any]) -> CatalogEntry:
    return CatalogEntry(
        id=row["id"],
        at=row["at"],
        type=row["type"],
        category=row["category"],
        source=row["source"],
    )


def _group(rows: Sequence[Mapping[Any, Any]], keys: Sequence[str]) -> list[Entries]:
    found: dict[str, list[CatalogEntry]] = defaultdict(list)
    for row in rows:
        found[row["scope_id"]].append(_entry(row))
    return [tuple(found.get(key, ())) for key in keys]


def associations(scope: ColumnElement[str], where: ColumnElement[bool]) -> Select[Any]:
    """Each mini program's first deployment instant per scope, with its attributes.

    Args:
        scope: The scope column (``deployments.target_app_id`` or ``target_apps.workspace_id``).
        where: The batch's condition on that column.
    """
    first = (
        select(
            scope.label("scope_id"),
            deployments.c.mini_program_id,
            func.min(deployments.c.at).label("at"),
        )
        .select_from(deployments.join(target_apps, target_apps.c.id == deployments.c.target_app_id))
        .where(where)
        .group_by(scope, deployments.c.mini_program_id)
        .subquery("first_deployment")
    )
    return select(
        first.c.scope_id,
        first.c.at,
        mini_programs.c.id,
        mini_programs.c.type,
        mini_programs.c.category,
        mini_programs.c.source,
    ).select_from(first.join(mini_programs, mini_programs.c.id == first.c.mini_program_id))


class AssociationsByTargetAppLoader(EngineLoader[str, Entries]):
    """Mini programs associated with each target app, ``at`` = its first deployment record."""

    async def load_batch(self, conn: AsyncConnection, keys: Sequence[str]) -> list[Entries]:
        """One grouped statement for the batch's apps."""
        scope = deployments.c.target_app_id
        rows = (await conn.execute(associations(scope, scope.in_(set(keys))))).mappings().all()
        return _group(rows, keys)


class AssociationsByWorkspaceLoader(EngineLoader[str, Entries]):
    """Distinct mini programs associated with any app of each workspace, ``at`` = the first
    deployment record in any of its apps."""

    async def load_batch(self, conn: AsyncConnection, keys: Sequence[str]) -> list[Entries]:
        """One grouped statement for the batch's workspaces."""
        scope = target_apps.c.workspace_id
        rows = (await conn.execute(associations(scope, scope.in_(set(keys))))).mappings().all()
        return _group(rows, keys)


class CreatedMiniProgramsByWorkspaceLoader(EngineLoader[str, Entries]):
    """Each workspace's own mini programs, ``at`` = their ``createdAt``."""

    async def load_batch(self, conn: AsyncConnection, keys: Sequence[str]) -> list[Entries]:
        """One statement for the batch's workspaces."""
        mp = mini_programs.c
        stmt = select(
            mp.workspace_id.label("scope_id"),
            mp.created_at.label("at"),
            mp.id,
            mp.type,
            mp.category,
            mp.source,
        ).where(mp.workspace_id.in_(set(keys)))
        return _group((await conn.execute(stmt)).mappings().all(), keys)


class OnboardedMerchantsByWorkspaceLoader(EngineLoader[str, Onboardings]):
    """Each workspace's onboarded merchants as ``(merchant type, onboardedAt)`` (aware UTC)."""

    async def load_batch(self, conn: AsyncConnection, keys: Sequence[str]) -> list[Onboardings]:
        """One statement for the batch's workspaces."""
        m = merchants.c
        stmt = select(m.workspace_id, m.merchant_type, m.onboarded_at).where(
            m.workspace_id.in_(set(keys)), m.onboarded_at.is_not(None)
        )
        found: dict[str, list[tuple[MerchantType, dt.datetime]]] = defaultdict(list)
        for workspace_id, merchant_type, onboarded_at in await conn.execute(stmt):
            found[workspace_id].append((merchant_type, onboarded_at))
        return [tuple(found.get(key, ())) for key in keys]
