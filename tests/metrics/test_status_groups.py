"""The status-group table: complete, as SPEC §4 defines it, and folded correctly."""

from __future__ import annotations

import doctest

import gateway.metrics.status_groups as module
from gateway.domain import DeploymentStatus as S
from gateway.metrics.status_groups import (
    AVAILABLE_STATUSES,
    STATUS_GROUPS,
    StatusGroup,
    group_counts,
    statuses_of,
)


def test_every_status_has_exactly_one_group() -> None:
    assert set(STATUS_GROUPS) == set(S)
    assert sorted(s.name for g in StatusGroup for s in statuses_of(g)) == sorted(s.name for s in S)


def test_groups_are_those_of_the_spec() -> None:
    assert statuses_of(StatusGroup.REVIEWING) == (
        S.REVIEWING,
        S.REVIEWED,
        S.PILOT_TESTING,
        S.PILOT_TESTING_COMPLETED,
        S.GRAYSCALE_CANCELLED,
    )
    assert statuses_of(StatusGroup.INACTIVE) == (S.ARCHIVED, S.OFFLINE)
    assert statuses_of(StatusGroup.FULL_RELEASE) == (S.FULL_RELEASE,)
    assert statuses_of(StatusGroup.GRAYSCALE_RELEASE) == (S.GRAYSCALE_RELEASE,)
    assert statuses_of(StatusGroup.DEVELOPING) == (S.DEVELOPING,)
    assert {S.FULL_RELEASE, S.GRAYSCALE_RELEASE} == AVAILABLE_STATUSES


def test_group_counts_sums_statuses_into_groups() -> None:
    counts = group_counts({S.REVIEWED: 2, S.GRAYSCALE_CANCELLED: 1, S.ARCHIVED: 4, S.DEVELOPING: 3})
    assert counts.all == 10
    assert dict(counts.groups) == {
        StatusGroup.FULL_RELEASE: 0,
        StatusGroup.GRAYSCALE_RELEASE: 0,
        StatusGroup.REVIEWING: 3,
        StatusGroup.DEVELOPING: 3,
        StatusGroup.INACTIVE: 4,
    }
    assert group_counts({}).all == 0


def test_docstring_example_holds() -> None:
    assert doctest.testmod(module).failed == 0
