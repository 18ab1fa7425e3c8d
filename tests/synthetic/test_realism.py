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
