"""Random catalogs for the catalog-metric tests, and brute-force answers computed from the rows.

The brute force works on the inserted row dicts only (no code under test): plain loops over
days, buckets built by grouping the range's days, "by day D" = ``at < D + 1 day 00:00``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store import tables

NOW = dt.datetime(2026, 6, 15, 10, 30, tzinfo=dt.UTC)
TODAY = NOW.date()
HISTORY_DAYS = 200
TYPES = ("MINI_PROGRAM", "MINI_GAME")
CATEGORIES = ("food_beverage", "games", "travel", "finance")
SOURCES = ("wallet", "merchant", "alipay_plus")
ORDER = (
    tables.workspaces,
    tables.target_apps,
    tables.merchants,
    tables.mini_programs,
    tables.deployments,
)
Rows = dict[Table, list[dict[str, Any]]]


def instant(rng: random.Random) -> dt.datetime:
    """A stored (naive UTC) instant in the last HISTORY_DAYS days; often exactly midnight."""
    day = TODAY - dt.timedelta(days=rng.randrange(HISTORY_DAYS))
    at = dt.datetime.combine(day, dt.time())
    if rng.random() < 0.7:  # else exactly 00:00, the boundary of "by day D"
        at += dt.timedelta(seconds=rng.randrange(86_400))
    return at


def random_catalog(
    rng: random.Random, workspaces: int, apps_per_workspace: int, mini_programs: int
) -> Rows:
    """Workspaces, apps, merchants (some never onboarded), mini programs, deployment histories."""
    rows: Rows = {table: [] for table in ORDER}
    ws_ids = [f"ws-{w}" for w in range(workspaces)]
    rows[tables.workspaces] = [{"id": w, "name": w} for w in ws_ids]
    apps = [f"app-{w}-{a}" for w in range(workspaces) for a in range(apps_per_workspace)]
    rows[tables.target_apps] = [
        {
            "id": app,
            "workspace_id": f"ws-{app.split('-')[1]}",
            "name": app,
            "created_at": instant(rng),
        }
        for app in apps
    ]
    for m in range(workspaces * 4):
        rows[tables.merchants].append(
            {
                "id": f"m-{m}",
                "workspace_id": rng.choice(ws_ids),
                "name": f"M{m}",
                "merchant_type": rng.choice(("TECHNICAL", "NON_TECHNICAL")),
                "onboarded_at": None if rng.random() < 0.2 else instant(rng),
            }
        )
    for i in range(mini_programs):
        mp = {
            "id": f"mp-{i:03d}",
            "workspace_id": rng.choice(ws_ids),
            "merchant_id": None,
            "name": f"Mini {i}",
            "type": rng.choice(TYPES),
            "category": rng.choice(CATEGORIES),
            "source": rng.choice(SOURCES),
            "created_at": instant(rng),
        }
        rows[tables.mini_programs].append(mp)
        # Mostly deployed in apps of its own workspace, sometimes elsewhere too.
        for app in rng.sample(apps, k=rng.randrange(min(3, len(apps)) + 1)):
            for at in {instant(rng) for _ in range(rng.randrange(1, 4))}:
                status = rng.choice(("DEVELOPING", "FULL_RELEASE", "OFFLINE", "REVIEWING"))
                rows[tables.deployments].append(
                    {"target_app_id": app, "mini_program_id": mp["id"], "status": status, "at": at}
                )
    return rows


async def insert(engine: AsyncEngine, rows: Rows) -> None:
    """Insert ``rows`` (parents first)."""
    async with engine.begin() as conn:
        for table in ORDER:
            if rows[table]:
                await conn.execute(table.insert(), rows[table])


async def wipe(engine: AsyncEngine) -> None:
    """Delete every catalog row (children first)."""
    async with engine.begin() as conn:
        for table in reversed(ORDER):
            await conn.execute(table.delete())


# --- brute force --------------------------------------------------------------------------


def bound(day: dt.date) -> dt.datetime:
    """The stored (naive) instant that ends ``day``: everything "by day" is before it."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time())


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every day from ``start`` to ``end`` inclusive."""
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def previous(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The range of equal length ending the day before ``start``."""
    n = (end - start).days + 1
    return start - dt.timedelta(days=n), start - dt.timedelta(days=1)


BUCKET_KEYS: dict[str, Callable[[dt.date], object]] = {
    "DAY": lambda d: d,
    "WEEK": lambda d: d.isocalendar()[:2],
    "MONTH": lambda d: (d.year, d.month),
}


def buckets(start: dt.date, end: dt.date, granularity: str) -> list[tuple[dt.date, dt.date]]:
    """The range's days grouped by day / ISO week / calendar month: (first, last) per group."""
    groups: dict[object, list[dt.date]] = {}
    for day in days(start, end):
        groups.setdefault(BUCKET_KEYS[granularity](day), []).append(day)
    return [(group[0], group[-1]) for group in groups.values()]


def metric(over: Callable[[dt.date, dt.date], int], start: dt.date, end: dt.date) -> dict[str, Any]:
    """The expected ``Metric`` (with DAY/WEEK/MONTH series) of a count ``over(first, last)``."""
    value, prev = over(start, end), over(*previous(start, end))
    series = {
        g.lower(): [
            {"date": b.isoformat(), "value": float(over(b, e))} for b, e in buckets(start, end, g)
        ]
        for g in BUCKET_KEYS
    }
    return {
        "value": float(value),
        "previousValue": float(prev),
        "change": float(value - prev),
        "changeRate": None if prev == 0 else (value - prev) / prev,
    } | series


def cumulative(instants: Iterable[dt.datetime]) -> Callable[[dt.date, dt.date], int]:
    """``over`` of a cumulative count: instants before the end of the last day."""
    times = list(instants)
    return lambda first, last: sum(at < bound(last) for at in times)


def within(instants: Iterable[dt.datetime]) -> Callable[[dt.date, dt.date], int]:
    """``over`` of a "new" count: instants on the days first..last."""
    times = list(instants)
    return lambda first, last: sum(
        bound(first - dt.timedelta(days=1)) <= at < bound(last) for at in times
    )


def breakdown(
    entries: dict[str, tuple[dt.datetime, str]], start: dt.date, end: dt.date
) -> dict[str, Any]:
    """The expected ``Breakdown``: ``entries`` maps an id to (associated at, group key)."""
    now = Counter(key for at, key in entries.values() if at < bound(end))
    before = Counter(key for at, key in entries.values() if at < bound(previous(start, end)[1]))
    total, prev_total = sum(now.values()), sum(before.values())
    items = []
    for key in set(now) | set(before):
        share = now[key] / total if total else 0.0
        prev_share = before[key] / prev_total if prev_total else 0.0
        items.append(
            {
                "key": key,
                "count": now[key],
                "share": share,
                "previousCount": before[key],
                "previousShare": prev_share,
                "countChange": now[key] - before[key],
                "shareChange": share - prev_share,
            }
        )
    items.sort(key=lambda item: (-item["count"], item["key"]))
    return {"total": total, "previousTotal": prev_total, "items": items}
