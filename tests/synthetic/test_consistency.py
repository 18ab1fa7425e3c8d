"""Referential consistency: every reference resolves, and events follow the deployments."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from datetime import datetime

import pytest

from gateway.domain import DataType, DeploymentStatus
from gateway.store.records import (
    DeploymentRecord,
    MerchantRecord,
    MiniProgramRecord,
    TargetAppRecord,
    WorkspaceRecord,
)
from tests.synthetic.conftest import Dataset

DATASETS = ("tiny", "demo")
RELEASED = {DeploymentStatus.FULL_RELEASE, DeploymentStatus.GRAYSCALE_RELEASE}


def _histories(data: Dataset) -> dict[tuple[str, str], list[tuple[datetime, DeploymentStatus]]]:
    histories: defaultdict[tuple[str, str], list[tuple[datetime, DeploymentStatus]]]
    histories = defaultdict(list)
    for d in data.of(DeploymentRecord):
        histories[d.target_app_id, d.mini_program_id].append((d.at, d.status))
    return {pair: sorted(h) for pair, h in histories.items()}


@pytest.mark.parametrize("name", DATASETS)
def test_catalog_references_resolve_within_a_workspace(
    name: str, request: pytest.FixtureRequest
) -> None:
    data: Dataset = request.getfixturevalue(name)
    workspaces = {w.id for w in data.of(WorkspaceRecord)}
    apps = {a.id: a.workspace_id for a in data.of(TargetAppRecord)}
    merchants = {m.id: m.workspace_id for m in data.of(MerchantRecord)}
    mps = {m.id: m for m in data.of(MiniProgramRecord)}
    assert set(apps.values()) == workspaces
    assert set(merchants.values()) <= workspaces
    for mp in mps.values():
        assert mp.workspace_id in workspaces
        assert mp.merchant_id is None or merchants[mp.merchant_id] == mp.workspace_id
    for app_id, mp_id in _histories(data):
        assert apps[app_id] == mps[mp_id].workspace_id
    unique_keys = Counter(
        (d.target_app_id, d.mini_program_id, d.at) for d in data.of(DeploymentRecord)
    )
    assert max(unique_keys.values()) == 1  # the deployment history's key


@pytest.mark.parametrize("name", DATASETS)
def test_deployments_start_after_creation(name: str, request: pytest.FixtureRequest) -> None:
    data: Dataset = request.getfixturevalue(name)
    created = {m.id: m.created_at for m in data.of(MiniProgramRecord)}
    for (_, mp_id), history in _histories(data).items():
        assert history[0][0] >= created[mp_id]
        assert history[0][1] is DeploymentStatus.DEVELOPING


@pytest.mark.parametrize("name", DATASETS)
def test_events_belong_to_deployed_pairs_while_released(
    name: str, request: pytest.FixtureRequest
) -> None:
    data: Dataset = request.getfixturevalue(name)
    histories = _histories(data)
    statuses: Counter[DeploymentStatus] = Counter()
    for event in data.events:
        history = histories[event.target_app_id, event.mini_program_id]  # KeyError: not deployed
        assert event.at >= history[0][0]
        times = [at for at, _ in history]
        status = history[bisect_right(times, event.at) - 1][1]
        statuses[status] += 1
        if status is DeploymentStatus.PILOT_TESTING:
            assert event.data_type is DataType.NON_PRODUCTION  # only testers use pilots
    released = sum(statuses[s] for s in RELEASED)
    assert released > 0.97 * len(data.events)
