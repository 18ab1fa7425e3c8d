"""Skew like real traffic: a few popular mini programs, most users seen on few days."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC

from gateway.domain import MiniProgramType
from gateway.store.records import AdImpressionRecord, LaunchRecord, MiniProgramRecord
from tests.synthetic.conftest import Dataset


def test_mini_program_popularity_is_skewed(demo: Dataset) -> None:
    launches = Counter(r.mini_program_id for r in demo.events if isinstance(r, LaunchRecord))
    counts = sorted(launches.values(), reverse=True)
    assert counts[0] > 5 * counts[len(counts) // 2]
    assert sum(counts[: len(counts) // 10]) > 0.4 * sum(counts)


def test_most_users_are_seen_on_few_days(demo: Dataset) -> None:
    days: defaultdict[str, set[object]] = defaultdict(set)
    for r in demo.events:
        if isinstance(r, LaunchRecord):
            days[r.user_guid].add(r.at.astimezone(UTC).date())
    active_days = Counter(len(d) for d in days.values())
    assert active_days[1] > active_days[2] > active_days[5]
    assert max(active_days) >= 20  # and a few loyal users on many days


def test_weekends_are_busier(demo: Dataset) -> None:
    per_day = Counter(r.at.astimezone(UTC).date() for r in demo.events)
    weekend = [n for d, n in per_day.items() if d.weekday() >= 5]
    weekday = [n for d, n in per_day.items() if d.weekday() < 5]
    assert sum(weekend) / len(weekend) > sum(weekday) / len(weekday)


def test_ads_are_mostly_on_games(demo: Dataset) -> None:
    games = {
        r.id
        for r in demo.records
        if isinstance(r, MiniProgramRecord) and r.type is MiniProgramType.MINI_GAME
    }
    ads = demo.of(AdImpressionRecord)
    on_games = sum(a.mini_program_id in games for a in ads)
    assert 0.5 * len(ads) < on_games < len(ads)


def test_users_have_a_main_device_and_some_a_second(demo: Dataset) -> None:
    platforms: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for r in demo.events:
        if isinstance(r, LaunchRecord) and r.platform is not None:
            platforms[r.user_guid][r.platform.upper()] += 1
    overall = Counter(p for seen in platforms.values() for p in seen)
    assert overall.most_common(2)[0][0] in ("ANDROID", "IOS")
    assert len(overall) == 7  # every platform occurs
    two = [seen for seen in platforms.values() if len(seen) == 2]
    assert 0.02 * len(platforms) < len(two) < 0.25 * len(platforms)
    assert not [seen for seen in platforms.values() if len(seen) > 2]
    cased = {r.platform for r in demo.events if r.platform is not None}
    assert any(p.islower() for p in cased)
    assert any(p.isupper() for p in cased)


def test_country_mixes_differ_per_app_and_some_events_say_nothing(demo: Dataset) -> None:
    regions: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for r in demo.events:
        regions[r.target_app_id][r.region or "UNKNOWN"] += 1
    top = {app: seen.most_common(1)[0][0] for app, seen in regions.items()}
    assert len(set(top.values())) > 1
    for seen in regions.values():
        home = seen.most_common(1)[0][1]
        assert home > 0.4 * sum(seen.values())
        assert len(seen) >= 3
    silent = sum(r.region is None and r.platform is None for r in demo.events)
    assert 0.005 * len(demo.events) < silent < 0.1 * len(demo.events)
