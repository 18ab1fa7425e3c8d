"""Deployment status groups: the one table behind ``miniProgramStatusCounts`` (SPEC §4).

Every :class:`~gateway.domain.DeploymentStatus` belongs to exactly one :class:`StatusGroup`;
the GraphQL counts type, its descriptions and the tests are derived from :data:`STATUS_GROUPS`.

Worked example: an app whose mini programs currently stand at FULL_RELEASE, PILOT_TESTING,
REVIEWED and OFFLINE counts ``all=4, fullRelease=1, grayscaleRelease=0, reviewing=2,
developing=0, inactive=1``:

>>> from gateway.domain import DeploymentStatus as S
>>> counts = group_counts({S.FULL_RELEASE: 1, S.PILOT_TESTING: 1, S.REVIEWED: 1, S.OFFLINE: 1})
>>> counts.all, counts.groups[StatusGroup.REVIEWING], counts.groups[StatusGroup.INACTIVE]
(4, 2, 1)
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from gateway.domain import DeploymentStatus


class StatusGroup(enum.Enum):
    """A bucket of deployment statuses counted together by ``miniProgramStatusCounts``."""

    FULL_RELEASE = "FULL_RELEASE"
    GRAYSCALE_RELEASE = "GRAYSCALE_RELEASE"
    REVIEWING = "REVIEWING"
    DEVELOPING = "DEVELOPING"
    INACTIVE = "INACTIVE"


STATUS_GROUPS: Mapping[DeploymentStatus, StatusGroup] = MappingProxyType(
    {
        DeploymentStatus.DEVELOPING: StatusGroup.DEVELOPING,
        DeploymentStatus.REVIEWING: StatusGroup.REVIEWING,
        DeploymentStatus.REVIEWED: StatusGroup.REVIEWING,
        DeploymentStatus.PILOT_TESTING: StatusGroup.REVIEWING,
        DeploymentStatus.PILOT_TESTING_COMPLETED: StatusGroup.REVIEWING,
        DeploymentStatus.GRAYSCALE_RELEASE: StatusGroup.GRAYSCALE_RELEASE,
        DeploymentStatus.GRAYSCALE_CANCELLED: StatusGroup.REVIEWING,
        DeploymentStatus.FULL_RELEASE: StatusGroup.FULL_RELEASE,
        DeploymentStatus.ARCHIVED: StatusGroup.INACTIVE,
        DeploymentStatus.OFFLINE: StatusGroup.INACTIVE,
    }
)
"""Deployment status -> the group it is counted in (every status appears exactly once)."""

AVAILABLE_STATUSES: frozenset[DeploymentStatus] = frozenset(
    {DeploymentStatus.FULL_RELEASE, DeploymentStatus.GRAYSCALE_RELEASE}
)
"""Current statuses that make a mini program count in ``availableMiniPrograms``."""


def statuses_of(group: StatusGroup) -> tuple[DeploymentStatus, ...]:
    """The statuses of ``group``, in declaration order of :class:`DeploymentStatus`."""
    return tuple(status for status in DeploymentStatus if STATUS_GROUPS[status] is group)


@dataclass(frozen=True, slots=True)
class StatusCounts:
    """Current mini program counts of one scope: the total and one count per group."""

    all: int
    groups: Mapping[StatusGroup, int]


def group_counts(by_status: Mapping[DeploymentStatus, int]) -> StatusCounts:
    """Fold per-status counts (statuses absent from the mapping count 0) into group counts."""
    groups = dict.fromkeys(StatusGroup, 0)
    for status, count in by_status.items():
        groups[STATUS_GROUPS[status]] += count
    return StatusCounts(all=sum(by_status.values()), groups=MappingProxyType(groups))
