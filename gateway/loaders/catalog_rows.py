"""Plain values the loaders hand to resolvers: one frozen dataclass per catalog row.

Datetimes are aware UTC, as the tables return them (:class:`~gateway.store.utc.UtcDateTime`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from gateway.domain import DeploymentStatus, MerchantType, MiniProgramType

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class WorkspaceRow:
    """A workspace (one super-app operator)."""

    id: str
    name: str

    @classmethod
    def from_mapping(cls, row: Mapping[Any, Any]) -> WorkspaceRow:
        """Build from a result row of the ``workspaces`` table."""
        return cls(id=row["id"], name=row["name"])


@dataclass(frozen=True, slots=True)
class TargetAppRow:
    """A target app (a super app) of a workspace."""

    id: str
    workspace_id: str
    name: str
    created_at: dt.datetime

    @classmethod
    def from_mapping(cls, row: Mapping[Any, Any]) -> TargetAppRow:
        """Build from a result row of the ``target_apps`` table."""
        return cls(
            id=row["id"],
            workspace_id=row["workspace_id"],
            name=row["name"],
            created_at=row["created_at"],
        )


@dataclass(frozen=True, slots=True)
class MerchantRow:
    """A merchant owning mini programs in a workspace."""

    id: str
    workspace_id: str
    name: str
    merchant_type: MerchantType
    onboarded_at: dt.datetime | None

    @classmethod
    def from_mapping(cls, row: Mapping[Any, Any]) -> MerchantRow:
        """Build from a result row of the ``merchants`` table."""
        return cls(
            id=row["id"],
            workspace_id=row["workspace_id"],
            name=row["name"],
            merchant_type=row["merchant_type"],
            onboarded_at=row["onboarded_at"],
        )


@dataclass(frozen=True, slots=True)
class MiniProgramRow:
    """A mini program of a workspace."""

    id: str
    workspace_id: str
    merchant_id: str | None
    name: str
    type: MiniProgramType
    category: str
    source: str
    created_at: dt.datetime

    @classmethod
    def from_mapping(cls, row: Mapping[Any, Any]) -> MiniProgramRow:
        """Build from a result row holding the ``mini_programs`` columns."""
        return cls(
            id=row["id"],
            workspace_id=row["workspace_id"],
            merchant_id=row["merchant_id"],
            name=row["name"],
            type=row["type"],
            category=row["category"],
            source=row["source"],
            created_at=row["created_at"],
        )


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One record of a deployment's status history."""

    status: DeploymentStatus
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a keyset-paginated list.

    Attributes:
        items: The page, in ascending id order.
        has_next: True when more items follow the last one.
        total: The number of items of the whole list (ignoring ``after`` and ``first``).
    """

    items: tuple[T, ...]
    has_next: bool
    total: int
