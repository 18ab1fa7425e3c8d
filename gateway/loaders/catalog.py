"""Catalog entities by id: one ``WHERE id IN (...)`` per batch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.loaders.base import ByIdLoader
from gateway.loaders.catalog_rows import MerchantRow, MiniProgramRow, TargetAppRow, WorkspaceRow
from gateway.store import tables


class WorkspaceByIdLoader(ByIdLoader[WorkspaceRow]):
    """Workspaces by id."""

    table = tables.workspaces

    def item(self, row: Mapping[Any, Any]) -> WorkspaceRow:
        """A workspace row."""
        return WorkspaceRow.from_mapping(row)


class TargetAppByIdLoader(ByIdLoader[TargetAppRow]):
    """Target apps by id."""

    table = tables.target_apps

    def item(self, row: Mapping[Any, Any]) -> TargetAppRow:
        """A target app row."""
        return TargetAppRow.from_mapping(row)


class MerchantByIdLoader(ByIdLoader[MerchantRow]):
    """Merchants by id."""

    table = tables.merchants

    def item(self, row: Mapping[Any, Any]) -> MerchantRow:
        """A merchant row."""
        return MerchantRow.from_mapping(row)


class MiniProgramByIdLoader(ByIdLoader[MiniProgramRow]):
    """Mini programs by id."""

    table = tables.mini_programs

    def item(self, row: Mapping[Any, Any]) -> MiniProgramRow:
        """A mini program row."""
        return MiniProgramRow.from_mapping(row)
