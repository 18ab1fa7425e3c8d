"""Loader keys: frozen dataclasses naming every argument that changes a loader's answer."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.domain import DeploymentStatus, Filters


@dataclass(frozen=True, slots=True)
class PageKey:
    """One page of the children of ``parent_id`` ("" for a root list).

    Attributes:
        parent_id: The parent entity's id.
        first: Page size (already validated).
        after: The id after which the page starts (decoded cursor), or None for the start.
        filter: Mini program filters (ignored by lists that are not of mini programs).
        status: Only items whose current deployment status is this (target-app lists only).
        only: Root lists: only these ids (the caller's scope); None lists every item.
    """

    parent_id: str
    first: int
    after: str | None = None
    filter: Filters = field(default_factory=Filters)
    status: DeploymentStatus | None = None
    only: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class FilteredKey:
    """A workspace or target app id and mini program filters (what a count is over)."""

    id: str
    filter: Filters = field(default_factory=Filters)


@dataclass(frozen=True, slots=True)
class PairKey:
    """A deployment: one mini program in one target app."""

    target_app_id: str
    mini_program_id: str
