"""``MiniProgramStatusCounts``; its field descriptions are printed from the status-group table."""

from __future__ import annotations

import strawberry

from gateway.domain import DeploymentStatus
from gateway.metrics.status_groups import (
    AVAILABLE_STATUSES,
    StatusCounts,
    StatusGroup,
    statuses_of,
)


def _describe(group: StatusGroup) -> str:
    names = ", ".join(status.name for status in statuses_of(group))
    return f"Mini programs whose current status in the app is {names}."


AVAILABLE_DESCRIPTION = "current status (now, not over a time range) is " + " or ".join(
    s.name for s in DeploymentStatus if s in AVAILABLE_STATUSES
)
"""The status condition of ``availableMiniPrograms``, derived from the named constant."""


@strawberry.type(
    description="Current (real-time, no time range) counts of the mini programs associated "
    "with a target app, by status group. Every associated mini program is in exactly one group."
)
class MiniProgramStatusCounts:
    """Counts of one target app and filter."""

    all: int = strawberry.field(
        description="Every mini program associated with the app (any status)."
    )
    full_release: int = strawberry.field(description=_describe(StatusGroup.FULL_RELEASE))
    grayscale_release: int = strawberry.field(description=_describe(StatusGroup.GRAYSCALE_RELEASE))
    reviewing: int = strawberry.field(description=_describe(StatusGroup.REVIEWING))
    developing: int = strawberry.field(description=_describe(StatusGroup.DEVELOPING))
    inactive: int = strawberry.field(description=_describe(StatusGroup.INACTIVE))

    @classmethod
    def from_counts(cls, counts: StatusCounts) -> MiniProgramStatusCounts:
        """The GraphQL object of loader counts."""
        groups = counts.groups
        return cls(
            all=counts.all,
            full_release=groups[StatusGroup.FULL_RELEASE],
            grayscale_release=groups[StatusGroup.GRAYSCALE_RELEASE],
            reviewing=groups[StatusGroup.REVIEWING],
            developing=groups[StatusGroup.DEVELOPING],
            inactive=groups[StatusGroup.INACTIVE],
        )
