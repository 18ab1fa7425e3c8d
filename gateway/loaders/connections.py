"""Batched pages of the catalog's lists (Relay connections), one loader per list.

Each loader describes its list as a ``SELECT`` with ``parent_id`` and ``id`` columns;
:class:`~gateway.loaders.base.PageLoader` pages it for every parent of the batch at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, select

from gateway.loaders.base import PageLoader
from gateway.loaders.catalog_rows import MerchantRow, MiniProgramRow, TargetAppRow, WorkspaceRow
from gateway.loaders.current_status import current_deployments, mini_program_conditions
from gateway.loaders.keys import PageKey
from gateway.store.tables import deployments, merchants, mini_programs, target_apps, workspaces


class WorkspacePageLoader(PageLoader[WorkspaceRow]):
    """``Query.workspaces``: every workspace, by id (keys have ``parent_id=""``)."""

    root = True

    def source(self, key: PageKey, parents: Sequence[str]) -> Select[Any]:
        """All workspaces, or those of ``key.only``."""
        if key.only is None:
            return select(workspaces)
        return select(workspaces).where(workspaces.c.id.in_(sorted(key.only)))

    def item(self, row: Mapping[Any, Any]) -> WorkspaceRow:
        """A workspace row."""
        return WorkspaceRow.from_mapping(row)


class TargetAppsByWorkspaceLoader(PageLoader[TargetAppRow]):
    """``Workspace.targetApps``: a workspace's target apps, by id."""

    def source(self, key: PageKey, parents: Sequence[str]) -> Select[Any]:
        """Target apps with their workspace as parent."""
        return select(target_apps.c.workspace_id.label("parent_id"), target_apps)

    def item(self, row: Mapping[Any, Any]) -> TargetAppRow:
        """A target app row."""
        return TargetAppRow.from_mapping(row)


class MerchantsByWorkspaceLoader(PageLoader[MerchantRow]):
    """``Workspace.merchants``: a workspace's merchants, by id."""

    def source(self, key: PageKey, parents: Sequence[str]) -> Select[Any]:
        """Merchants with their workspace as parent."""
        return select(merchants.c.workspace_id.label("parent_id"), merchants)

    def item(self, row: Mapping[Any, Any]) -> MerchantRow:
        """A merchant row."""
        return MerchantRow.from_mapping(row)


class MiniProgramsByWorkspaceLoader(PageLoader[MiniProgramRow]):
    """``Workspace.miniPrograms``: a workspace's mini programs (type/category filters), by id."""

    def source(self, key: PageKey, parents: Sequence[str]) -> Select[Any]:
        """Mini programs with their workspace as parent."""
        return select(mini_programs.c.workspace_id.label("parent_id"), mini_programs).where(
            *mini_program_conditions(key.filter)
        )

    def item(self, row: Mapping[Any, Any]) -> MiniProgramRow:
        """A mini program row."""
        return MiniProgramRow.from_mapping(row)


class MiniProgramsByMerchantLoader(PageLoader[MiniProgramRow]):
    """``Merchant.miniPrograms``: a merchant's mini programs, by id."""

    def source(self, key: PageKey, parents: Sequence[str]) -> Select[Any]:
        """Mini programs with their merchant as parent (those without merchant never match)."""
        return select(mini_programs.c.merchant_id.label("parent_id"), mini_programs).where(
            mini_programs.c.merchant_id.is_not(None), *mini_program_conditions(key.filter)
        )

    def item(self, row: Mapping[Any, Any]) -> MiniProgramRow:
        """A mini program row."""
        return MiniProgramRow.from_mapping(row)


class MiniProgramsByTargetAppLoader(PageLoader[MiniProgramRow]):
    """``TargetApp.miniPrograms``: mini programs associated with an app, by id.

    Filters: type, category, and optionally the current status in that app.
    """

    def source(self, key: PageKey, parents: Sequence[str]) -> Select[Any]:
        """Mini programs with the app they are deployed in as parent."""
        # The batch's apps go inside the window so it ranks only their histories.
        current = current_deployments([deployments.c.target_app_id.in_(parents)])
        conditions = mini_program_conditions(key.filter)
        if key.status is not None:
            conditions.append(current.c.status == key.status)
        return (
            select(current.c.target_app_id.label("parent_id"), mini_programs)
            .select_from(
                current.join(mini_programs, mini_programs.c.id == current.c.mini_program_id)
            )
            .where(*conditions)
        )

    def item(self, row: Mapping[Any, Any]) -> MiniProgramRow:
        """A mini program row."""
        return MiniProgramRow.from_mapping(row)


class DeploymentsByMiniProgramLoader(PageLoader[str]):
    """``MiniProgram.deployments``: ids of the apps a mini program is associated with."""

    def source(self, key: PageKey, parents: Sequence[str]) -> Select[Any]:
        """One row per (mini program, app) pair; ``id`` is the target app id."""
        return (
            select(
                deployments.c.mini_program_id.label("parent_id"),
                deployments.c.target_app_id.label("id"),
            )
            .where(deployments.c.mini_program_id.in_(parents))
            .group_by(deployments.c.mini_program_id, deployments.c.target_app_id)
        )

    def item(self, row: Mapping[Any, Any]) -> str:
        """The target app id of the pair."""
        return str(row["id"])
