"""Every value the dashboards and filters distinguish occurs, at the smallest scale."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, timedelta

from gateway.domain import DataType, DeploymentStatus, MerchantType, MiniProgramType
from gateway.store.records import (
    AdImpressionRecord,
    DeploymentRecord,
    MerchantRecord,
    MiniProgramRecord,
    PageViewRecord,
    UserRecord,
    kind_of,
)
from gateway.synthetic import SCALES
from tests.synthetic.conftest import END, EVENTS, Dataset


def test_every_kind_occurs(tiny: Dataset) -> None:
    kinds = {kind_of(r) for r in tiny.records}
    assert kinds == {
        "workspace",
        "targetApp",
        "merchant",
        "miniProgram",
        "deployment",
        "user",
        "launch",
        "pageView",
        "adImpression",
    }


def test_every_deployment_status_occurs(tiny: Dataset) -> None:
    statuses = {r.status for r in tiny.of(DeploymentRecord)}
    assert statuses == set(DeploymentStatus)


def test_popular_mini_programs_end_in_full_release(demo: Dataset) -> None:
    final: dict[tuple[str, str], DeploymentStatus] = {}
    for r in demo.of(DeploymentRecord):
        final[r.target_app_id, r.mini_program_id] = r.status
    launches = Counter((r.target_app_id, r.mini_program_id) for r in demo.events)
    top = [pair for pair, _ in launches.most_common(10)]
    assert sum(final[p] is DeploymentStatus.FULL_RELEASE for p in top) >= 8
    assert len(set(final.values())) >= 8  # the less popular ones are spread over statuses


def test_mini_programs_vary(tiny: Dataset) -> None:
    mps = tiny.of(MiniProgramRecord)
    assert {m.type for m in mps} == set(MiniProgramType)
    assert len({m.category for m in mps}) >= 6
    assert len({m.source for m in mps}) >= 4
    assert any(m.merchant_id is None for m in mps)
    window_start = END - timedelta(days=SCALES["tiny"].days - 1)
    created = [m.created_at.astimezone(UTC).date() for m in mps]
    assert min(created) < window_start <= max(created) <= END


def test_merchants_vary(tiny: Dataset) -> None:
    merchants = tiny.of(MerchantRecord)
    assert {m.merchant_type for m in merchants} == set(MerchantType)
    assert any(m.onboarded_at is None for m in merchants)
    window_start = END - timedelta(days=SCALES["tiny"].days - 1)
    onboarded = [m.onboarded_at.date() for m in merchants if m.onboarded_at is not None]
    assert any(d < window_start for d in onboarded)
    assert any(window_start <= d <= END for d in onboarded)


def test_users_vary_and_some_have_no_record(tiny: Dataset) -> None:
    users = tiny.of(UserRecord)
    assert len({u.source for u in users}) >= 5
    assert any(u.created_at is None for u in users)
    recorded = {u.guid for u in users}
    active = {r.user_guid for r in tiny.events}
    without = active - recorded
    assert 0.01 * len(active) < len(without) < 0.10 * len(active)


def test_data_types_both_and_sometimes_omitted(tiny: Dataset) -> None:
    events = tiny.events
    shares = Counter(r.data_type for r in events)
    assert 0.01 * len(events) < shares[DataType.NON_PRODUCTION] < 0.15 * len(events)
    event_lines = [
        line for line, r in zip(tiny.lines, tiny.records, strict=True) if isinstance(r, EVENTS)
    ]
    omitted = sum(b'"dataType"' not in line for line in event_lines)
    assert 0 < omitted < len(event_lines) // 2


def test_timestamps_use_z_and_plus_eight(tiny: Dataset) -> None:
    event_lines = [
        line for line, r in zip(tiny.lines, tiny.records, strict=True) if isinstance(r, EVENTS)
    ]
    utc = sum(b'Z","targetAppId"' in line for line in event_lines)
    east = sum(b'+08:00","targetAppId"' in line for line in event_lines)
    assert utc > 0
    assert east > 0
    assert utc + east == len(event_lines)


def test_ad_impressions_valid_and_invalid(tiny: Dataset) -> None:
    ads = tiny.of(AdImpressionRecord)
    invalid = [a for a in ads if not a.valid]
    valid = [a for a in ads if a.valid]
    assert invalid
    assert all(a.revenue == 0 for a in invalid)
    assert len(valid) > len(invalid)
    assert all(0 < a.revenue < 1 for a in valid)


def test_page_views_have_realistic_durations(demo: Dataset) -> None:
    views = demo.of(PageViewRecord)
    durations = sorted(v.duration_ms for v in views)
    assert 0 < durations.count(0) < 0.1 * len(durations)
    assert 5_000 <= durations[len(durations) // 2] <= 60_000  # median: seconds, not hours
    assert any(v.page is None for v in views)
    assert len({v.page for v in views}) >= 10
