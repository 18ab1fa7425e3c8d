"""Audience fields (issue 17, SPEC §4 "Audience"): retention tables and the page report, cold.

On the benchmark dataset (:mod:`bench.dataset`) it times, each request on a fresh context (empty
loaders, no cache: "caches cleared"), p50 and p95 of:

- a target app's 90 daily cohorts x 30 periods (``NEW_USERS``, cohorts ending 30 days before
  the dataset's last day, so every period has data);
- the largest workspace's 12 weekly cohorts x 12 periods;
- a mini program's top 20 pages over 30 days, across its apps (the mini program with most page
  views in the first app);
- a target app's portrait pair (usersByPlatform and usersByRegion over 30 days);
- on a working copy of the dataset (dropped at the end), the ingest rate of ``--ingest-events``
  recent events and the incremental refresh that folds them, against the figures measured before
  the audience's cells (:data:`BEFORE`), and the rollups' bytes those cells take (the page
  report's table, the portrait's exception columns);
- with ``--before-code DIR`` (a checkout of the code before those cells), the same ingest and
  refresh of that code and of this one alternating on this host (:mod:`bench.paired`): the
  recorded figures are another day's host, which varies by tens of percent.

It checks the answers against each other where they must agree (each daily cohort's size is that
day's newUsers; each portrait's total is the app's activeUsers, and its counts add up to at
least that) and prints the targets of issue 17.

Example:
    $ python -m bench audience --scale large --iterations 20
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import dataset as ds
from bench import paired
from bench.details_page import JWT_SECRET, READER, pick_apps
from bench.scale import ingest_rate, largest_workspace, timed_refresh
from gateway.context import Context
from gateway.schema import build_schema
from gateway.settings import Settings
from gateway.store.db import create_engine, table_bytes
from gateway.store.rollup_tables import rollup_days, rollup_pages
from gateway.store.tables import page_views
from gateway.synthetic import SCALES

TARGET_RETENTION_MS = 50.0
TARGET_PAGES_MS = 25.0
TARGET_KEPT = 0.85
"""Ingest rate and incremental refresh within 15% of :data:`BEFORE`."""
BEFORE: dict[str, tuple[float, float]] = {"large": (74_007.0, 4.49)}
"""Per scale, (ingest events/s into the loaded store, seconds of the incremental refresh of
those events) before the audience's cells: ``python -m bench scale --scales large`` at 0a93f44
(the commit before them, its own dataset; 2026-12-06 15:28 UTC, nothing else running), whose
first two steps are this benchmark's: 2.1M recent events ingested into a copy of the dataset,
then the incremental refresh that folds them."""

APP_RETENTION = """query($id: ID!, $c: TimeRangeInput!) { targetApp(id: $id) {
  retention(cohorts: $c, granularity: DAY, periods: 30) { cohorts { start size
    periods { users rate } } } } }"""
NEW_USERS = """query($id: ID!, $c: TimeRangeInput!) { targetApp(id: $id) {
  newUsers(timeRange: $c) { series { date value } } } }"""
WORKSPACE_RETENTION = """query($id: ID!, $c: TimeRangeInput!) { workspace(id: $id) {
  retention(cohorts: $c, granularity: WEEK, periods: 12) { cohorts { start size
    periods { users rate } } } } }"""
PORTRAIT = """query($id: ID!, $r: TimeRangeInput!) { targetApp(id: $id) {
  activeUsers(timeRange: $r) { value }
  usersByPlatform(timeRange: $r) { total previousTotal items { key count share previousCount } }
  usersByRegion(timeRange: $r) { total previousTotal items { key count share previousCount } }
} }"""
PAGES = """query($mp: ID!, $r: TimeRangeInput!) { miniProgram(id: $mp) {
  pages(timeRange: $r, first: 20) { totalCount
    nodes { path pageViews visitors totalTimeSeconds averageTimePerVisitor } } } }"""


async def _busiest_mini_program(engine: AsyncEngine, app: str) -> str:
    v = page_views.c
    stmt = (
        select(v.mini_program_id)
        .where(v.target_app_id == app)
        .group_by(v.mini_program_id)
        .order_by(func.count().desc(), v.mini_program_id)
        .limit(1)
    )
    async with engine.connect() as conn:
        return str((await conn.execute(stmt)).scalar_one())


async def _timed(
    settings: Settings, engine: AsyncEngine, now: dt.datetime, query: str,
    variables: dict[str, Any], iterations: int,
) -> tuple[list[float], Any]:  # fmt: skip
    schema = build_schema()
    times: list[float] = []
    data: Any = None
    for _ in range(iterations + 1):  # the first warms the process (imports, plans)
        async with Context.create(engine, settings, principal=READER, now=now) as context:
            started = time.perf_counter()
            result = await schema.execute(query, variable_values=variables, context_value=context)
            times.append((time.perf_counter() - started) * 1000)
        if result.errors:
            raise SystemExit(f"FAILED: {result.errors}")
        data = result.data
    return times[1:], data


def _line(name: str, times: list[float], target: float) -> str:
    p50, p95 = np.percentile(times, [50, 95])
    verdict = "met" if p50 <= target else "NOT MET"
    return (
        f"  {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms (target p50 <= {target:.0f} ms: {verdict})"
    )


def _check_portrait(app: dict[str, Any]) -> None:
    users = int(app["activeUsers"]["value"])
    for name in ("usersByPlatform", "usersByRegion"):
        found = app[name]
        if found["total"] != users or sum(i["count"] for i in found["items"]) < users:
            raise SystemExit(f"EXACTNESS FAILED: {name} does not add up to activeUsers ({users})")


async def main(args: argparse.Namespace) -> None:
    """Run the timings and print the targets."""
    dataset = await ds.from_args(args)
    settings = Settings(
        database_url=dataset.url, jwt_secret=SecretStr(JWT_SECRET), log_level="warning"
    )
    engine = create_engine(settings)
    end = dataset.end_date
    now = dt.datetime.combine(end, dt.time(12), dt.UTC)
    try:
        app = (await pick_apps(engine, 1))[0]
        workspace = await largest_workspace(engine)
        mp = await _busiest_mini_program(engine, app)
        last = end - dt.timedelta(days=30)
        daily = {"id": app, "c": {"days": 90, "endDate": last.isoformat()}}
        weekly = {"id": workspace, "c": {"days": 84, "endDate": end.isoformat()}}
        pages = {"mp": mp, "r": {"days": 30, "endDate": end.isoformat()}}
        print(f"audience ({dataset.scale}): app {app}, workspace {workspace}, mini program {mp}")
        lines = []
        times, data = await _timed(settings, engine, now, APP_RETENTION, daily, args.iterations)
        table = data["targetApp"]["retention"]["cohorts"]
        _, check = await _timed(settings, engine, now, NEW_USERS, daily, 0)
        news = check["targetApp"]["newUsers"]["series"]
        if [c["size"] for c in table] != [int(p["value"]) for p in news]:
            raise SystemExit("EXACTNESS FAILED: cohort sizes differ from the daily newUsers")
        lines.append(_line("target app, 90 daily cohorts x 30 periods", times,
                           TARGET_RETENTION_MS))  # fmt: skip
        times, _ = await _timed(settings, engine, now, WORKSPACE_RETENTION, weekly,
                                args.iterations)  # fmt: skip
        lines.append(_line("workspace, 12 weekly cohorts x 12 periods", times,
                           TARGET_RETENTION_MS))  # fmt: skip
        times, _ = await _timed(settings, engine, now, PAGES, pages, args.iterations)
        lines.append(_line("mini program, top 20 pages of 30 days", times, TARGET_PAGES_MS))
        portrait = {"id": app, "r": {"days": 30, "endDate": end.isoformat()}}
        times, found = await _timed(settings, engine, now, PORTRAIT, portrait, args.iterations)
        _check_portrait(found["targetApp"])
        lines.append(_line("target app, portrait pair of 30 days", times, TARGET_PAGES_MS))
    finally:
        await engine.dispose()
    lines += await _growth(args, dataset)
    print("targets (issue 17):")
    print("\n".join(lines))


async def _growth(args: argparse.Namespace, dataset: ds.Dataset) -> list[str]:
    """Ingest and incremental refresh on a working copy, and the audience cells' bytes."""
    work = f"gateway_audience_{dataset.scale}"
    await ds.recreate(work, dataset.url.rsplit("/", 1)[1])
    engine = create_engine(Settings(database_url=ds.database_url(work)))
    try:
        events = await ds.recent_event_lines(engine, dataset.end_date, args.ingest_events)
        rate = await ingest_rate(engine, events, "audience")
        seconds, _ = await timed_refresh(engine)
        await ds.compact_rollups(engine)
        total, _ = await ds.rollup_sizes(engine)
        async with engine.connect() as conn:
            pages = await table_bytes(conn, (rollup_pages,))
            d = rollup_days.c
            exceptions = func.coalesce(func.octet_length(d.platforms), 0) + func.coalesce(
                func.octet_length(d.regions), 0
            )
            portrait = int((await conn.execute(select(func.sum(exceptions)))).scalar() or 0)
    finally:
        await engine.dispose()
        await ds.drop(work)
    mib, days = 2**20, SCALES[dataset.scale].days
    lines = [
        f"  ingest {rate:,.0f} events/s into the loaded store, incremental refresh of "
        f"{len(events):,} events {seconds:.2f} s",
        f"  rollups {total / mib:,.0f} MiB compacted ({total / days / mib:.2f} MiB/day): page "
        f"report {pages / mib:,.0f} MiB ({pages / total:.0%}), portrait exceptions "
        f"{portrait / mib:,.0f} MiB ({portrait / total:.0%})",
    ]
    before = BEFORE.get(dataset.scale)
    if before is None:
        lines.append(f"  (no figures recorded before the audience's cells at {dataset.scale})")
    else:
        lines.append(
            _within("recorded before (another day's host)", rate / before[0], seconds / before[1])
        )
    if args.before_code is not None:
        found = paired.compare(
            args.before_code, dataset.url.rsplit("/", 1)[1], dataset.scale,
            count=args.ingest_events, end=dataset.end_date.isoformat(), pairs=args.pairs,
        )  # fmt: skip
        for old, new in found.pairs:
            lines.append(
                f"    before {old.rate:,.0f} events/s, {old.seconds:.2f} s; "
                f"now {new.rate:,.0f} events/s, {new.seconds:.2f} s"
            )
        lines.append(_within(f"{args.before_code} alternating", found.kept, found.slower))
    return lines


def _within(against: str, kept: float, slower: float) -> str:
    ok = kept >= TARGET_KEPT and slower <= 2 - TARGET_KEPT
    return (
        f"  ingest and refresh within 15% of {against}: {'met' if ok else 'NOT MET'} "
        f"(ingest {kept:.0%}, refresh {slower:.0%} of before)"
    )


SMOKE = (
    *("--scale", "tiny", "--iterations", "1", "--ingest-events", "2000"),
    *("--before-code", str(paired.PROJECT_ROOT), "--pairs", "1"),
)
"""The smoke run compares this checkout with itself, so that the paired runs cannot rot."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (the dataset's, see :mod:`bench.dataset`, and the runs')."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ds.add_arguments(parser)
    parser.add_argument("--iterations", type=int, default=20, help="requests per measure")
    parser.add_argument(
        "--ingest-events", type=int, default=2_100_000, help="recent events ingested and refreshed"
    )
    parser.add_argument(
        "--before-code", type=Path, default=None,
        help="a checkout of the code before the audience's cells (git worktree add DIR 0a93f44): "
        "its ingest and refresh are measured alternating with this one's (bench/paired.py)",
    )  # fmt: skip
    parser.add_argument("--pairs", type=int, default=3, help="alternating runs with --before-code")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
