"""Cost against the length of history: the same work on `large` and `xlarge` in one run (SPEC §9).

For each scale it builds (or reuses) the benchmark dataset (:mod:`bench.dataset`), copies it
into a working database (``gateway_scale_<scale>``, dropped at the end) and an *empty store*
(the same catalog, no events), then measures:

- ingest rate of the same ``--ingest-events`` file (recent events by existing users on existing
  deployments) into the empty store and into the one holding the dataset;
- the incremental refresh of those events (2.1M: 30 minutes of a 100M-events-a-day stream), and
  of ``--increment`` (1,800) more;
- the details page (:mod:`bench.details_page`) and the workspace overview (every event metric of
  the workspace with most apps over 90 days, with daily series), caches cleared (a fresh context
  per request), p50 and p95; the details page of one app is checked against the naive
  implementation (exit status 1 when they differ);
- the refresh after a catalog change (10 mini programs moved to another category, one changing
  type), which must not rebuild: the time until its snapshot is committed (when readers see the
  change, the target), and the vacuum after it;
- a full rebuild (``gateway refresh --full`` in a child process): time and peak RSS;
- disk bytes per raw event and rollup bytes per day of history;
- the rollups' size after ``--refreshes`` (48) incremental refreshes of ``--increment`` events
  against their compacted size (``VACUUM FULL``).

Then it prints SPEC §9's targets, met or not, with the ratios between the scales.

Example:
    $ python -m bench scale                      # large and xlarge (xlarge: ~20 GB, hours)
    $ python -m bench scale --scales small large
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import SecretStr
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import dataset as ds
from bench.details_page import (
    JWT_SECRET,
    PAGE_FIELDS,
    in_process,
    page_query,
    pick_apps,
    reader_context,
    schema_fields,
    variables_for,
)
from bench.naive import NaiveContext, build_naive_schema
from bench.naive.compare import differences
from gateway.metrics.registry import EVENT_METRICS
from gateway.schema import build_schema
from gateway.settings import Settings
from gateway.store.db import create_engine
from gateway.store.ingest import ingest_lines
from gateway.store.rollup import refresh
from gateway.store.rollup.refresh import publish, tidy
from gateway.store.tables import (
    EVENT_TABLES,
    mini_programs,
    target_apps,
)
from gateway.synthetic import SCALES

TARGET_DETAILS_MS, TARGET_OVERVIEW_MS, TARGET_GROWTH = 25.0, 40.0, 1.3
TARGET_INGEST_KEPT, TARGET_BIG_S, TARGET_SMALL_S, TARGET_CATALOG_S = 0.9, 45.0, 2.0, 10.0
TARGET_RSS_BYTES, TARGET_BLOAT = 2 * 2**30, 1.3
SMOKE = (
    "--scales",
    "tiny",
    "--ingest-events",
    "2000",
    "--increment",
    "50",
    "--refreshes",
    "2",
    "--iterations",
    "1",
)
"""The smoke run's arguments (``python -m bench smoke``): one small scale, every step once."""


@dataclass
class Figures:
    """What one scale measured."""

    scale: str
    events: int = 0
    days: int = 0
    ingest_empty: float = 0.0
    ingest_loaded: float = 0.0
    refresh_big_s: float = 0.0
    refresh_small_s: float = 0.0
    details_ms: list[float] = field(default_factory=list)
    overview_ms: list[float] = field(default_factory=list)
    early_overview_ms: list[float] = field(default_factory=list)
    window_user_days: int = 0
    early_user_days: int = 0
    catalog_s: float = 0.0
    catalog_tidy_s: float = 0.0
    catalog_rebuilt: bool = False
    full_s: float = 0.0
    full_rss: int = 0
    raw_bytes_per_event: float = 0.0
    rollup_bytes_per_day: float = 0.0
    rollup_after: int = 0
    rollup_compacted: int = 0
    problems: list[str] = field(default_factory=list)

    def p(self, values: list[float], q: float) -> float:
        """The ``q``-th percentile of ``values``."""
        return float(np.percentile(values, q)) if values else float("nan")


def _rate(events: int, seconds: float) -> float:
    return events / seconds if seconds else 0.0


async def ingest_rate(engine: AsyncEngine, lines: list[bytes], label: str) -> float:
    """Events per second of ingesting ``lines`` (every one must be stored)."""
    started = time.perf_counter()
    report = await ingest_lines(engine, lines, source=f"bench:scale:{label}")
    seconds = time.perf_counter() - started
    if report.stored != len(lines):
        raise SystemExit(f"FAILED: {label} stored {report.stored:,} of {len(lines):,}: {report}")
    return _rate(report.stored, seconds)


async def timed_refresh(engine: AsyncEngine) -> tuple[float, bool]:
    """Seconds of one refresh, and whether it rebuilt."""
    started = time.perf_counter()
    info = await refresh(engine)
    return time.perf_counter() - started, info.full_rebuild


async def _timed_publish(engine: AsyncEngine) -> tuple[float, float, bool]:
    """A refresh in its two parts: until its snapshot is committed (readers see the change),
    then the vacuum after it."""
    started = time.perf_counter()
    info = await publish(engine)
    published = time.perf_counter()
    await tidy(engine, info)
    return published - started, time.perf_counter() - published, info.full_rebuild


def _overview_query() -> str:
    fields = "\n    ".join(
        f"{name}(timeRange: $range) {{ value previousValue series {{ date value }} }}"
        for name in EVENT_METRICS
    )
    head = "query Overview($id: ID!, $range: TimeRangeInput!) {\n  workspace(id: $id) {\n    "
    return f"{head}{fields}\n  }}\n}}\n"


EARLY_HISTORY_DAYS = 120
"""The overview is also asked of the 90 days ending this many days into the history (the whole
history of ``large``): at ``xlarge`` that window has ``large``'s history length and
``xlarge``'s traffic, which tells cost against history from cost against traffic."""


def _window(workspace: str, end: dt.date) -> Callable[[str], dict[str, Any]]:
    """The overview's variables: ``workspace`` over the 90 days ending ``end``."""
    variables = {"id": workspace, "range": {"days": 90, "endDate": end.isoformat()}}
    return lambda _: variables


WINDOW = dt.timedelta(days=90)
"""The overview's range; its previous period is the 90 days before."""


def _user_days(answer: dict[str, Any]) -> int:
    """The sum of daily active users over an overview's window (what its 90-day union reads)."""
    return int(sum(point["value"] for point in answer["workspace"]["activeUsers"]["series"]))


async def largest_workspace(engine: AsyncEngine) -> str:
    """The workspace with most target apps (ties: the first id)."""
    stmt = (
        select(target_apps.c.workspace_id)
        .group_by(target_apps.c.workspace_id)
        .order_by(func.count().desc(), target_apps.c.workspace_id)
        .limit(1)
    )
    async with engine.connect() as conn:
        return str((await conn.execute(stmt)).scalar_one())


async def _pages(
    args: argparse.Namespace,
    settings: Settings,
    engine: AsyncEngine,
    end: dt.date,
    figures: Figures,
) -> None:
    """The details page and the workspace overview, fresh contexts (no cache), and exactness."""
    schema = build_schema()
    present = await schema_fields(schema, "TargetApp")
    query = page_query([name for name in PAGE_FIELDS if name in present])
    apps = await pick_apps(engine, 3)
    run = in_process(schema, query, variables_for(end), reader_context(engine, settings))
    workspace = await largest_workspace(engine)
    early_end = end - dt.timedelta(days=max(0, figures.days - EARLY_HISTORY_DAYS))
    run_overview, run_early, run_before, run_early_before = (
        in_process(
            schema, _overview_query(), _window(workspace, last), reader_context(engine, settings)
        )
        for last in (end, early_end, end - WINDOW, early_end - WINDOW)
    )
    ours = await run(apps[0])  # warm-up, and the answer checked below
    # What each overview reads: its window's days and its previous period's.
    figures.window_user_days = _user_days(await run_overview(workspace))
    figures.window_user_days += _user_days(await run_before(workspace))
    figures.early_user_days = _user_days(await run_early(workspace))
    figures.early_user_days += _user_days(await run_early_before(workspace))
    for _ in range(args.iterations):
        for app in apps:
            started = time.perf_counter()
            await run(app)
            figures.details_ms.append((time.perf_counter() - started) * 1000)
        for overview, times in (
            (run_overview, figures.overview_ms),
            (run_early, figures.early_overview_ms),
        ):
            started = time.perf_counter()
            await overview(workspace)
            times.append((time.perf_counter() - started) * 1000)
    if args.skip_naive:
        return
    naive = in_process(
        build_naive_schema(), query, variables_for(end), lambda: NaiveContext(engine)
    )
    found = differences({apps[0]: await naive(apps[0])}, {apps[0]: ours})
    figures.problems += [f"{figures.scale}: details page vs naive: {p}" for p in found]


async def _catalog_change(engine: AsyncEngine) -> None:
    """10 mini programs to another category, one to the other type."""
    async with engine.begin() as conn:
        rows = await conn.execute(
            select(mini_programs.c.id, mini_programs.c.category, mini_programs.c.type)
            .order_by(mini_programs.c.id)
            .limit(11)
        )
        chosen = rows.all()
        categories = sorted({row.category for row in chosen})
        for row in chosen[:10]:
            other = categories[(categories.index(row.category) + 1) % len(categories)]
            if other == row.category:
                other = f"{row.category}_moved"
            stmt = update(mini_programs).where(mini_programs.c.id == row.id)
            await conn.execute(stmt.values(category=other))
        last = chosen[10]
        flipped = "MINI_GAME" if last.type.name == "MINI_PROGRAM" else "MINI_PROGRAM"
        stmt = update(mini_programs).where(mini_programs.c.id == last.id)
        await conn.execute(stmt.values(type=flipped))


_LAUNCHER = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n"
)
"""Runs a command and prints its exit code and peak RSS (KiB). The command is the launcher's
child, not ours: Linux carries a parent's peak RSS into a child it forks, so measuring our own
child would report this (large) process's peak instead of the rebuild's."""


def _full_rebuild(url: str) -> tuple[float, int]:
    """``gateway refresh --full`` in a process of its own: seconds and peak RSS (bytes)."""
    env = {**os.environ, "GATEWAY_DATABASE_URL": url, "GATEWAY_LOG_LEVEL": "warning"}
    command = [sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "gateway.cli", "refresh",
               "--full"]  # fmt: skip
    started = time.perf_counter()
    found = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    code, peak_kib = (int(word) for word in found.stdout.split())
    if code != 0:
        raise SystemExit(f"FAILED: gateway refresh --full exited {code}")
    return seconds, peak_kib * 1024


async def _sizes(engine: AsyncEngine, figures: Figures) -> None:
    rollup, raw = await ds.rollup_sizes(engine)
    async with engine.connect() as conn:
        events = sum(
            [
                int((await conn.execute(select(func.count()).select_from(t))).scalar() or 0)
                for t in EVENT_TABLES.values()
            ]
        )
    figures.events = events
    figures.raw_bytes_per_event = raw / events if events else 0.0
    figures.rollup_bytes_per_day = rollup / figures.days if figures.days else 0.0


async def _bloat(
    args: argparse.Namespace, engine: AsyncEngine, end: dt.date, figures: Figures
) -> None:
    """The rollups after ``--refreshes`` small incremental refreshes from their compacted size,
    and compacted again."""
    await ds.compact_rollups(engine)
    for i in range(args.refreshes):
        lines = await ds.recent_event_lines(engine, end, args.increment, seed=100 + i)
        await ingest_rate(engine, lines, f"bloat-{i}")
        await refresh(engine)
    figures.rollup_after, _ = await ds.rollup_sizes(engine)
    await ds.compact_rollups(engine)
    figures.rollup_compacted, _ = await ds.rollup_sizes(engine)


async def measure(args: argparse.Namespace, scale: str) -> Figures:
    """Every figure of one scale (see the module docstring)."""
    dataset = await ds.ensure_dataset(scale, seed=args.seed, end_date=args.end_date)
    figures = Figures(scale, days=SCALES[scale].days)
    source = dataset.url.rsplit("/", 1)[1]
    work, empty = f"gateway_scale_{scale}", f"gateway_scale_{scale}_empty"
    print(f"{scale}: copying {source} (working copy, and its catalog as the empty store)")
    await ds.recreate(work, source)
    await ds.copy_catalog(source, empty)
    settings = Settings(
        database_url=ds.database_url(work), jwt_secret=SecretStr(JWT_SECRET), log_level="warning"
    )
    engine, bare = (
        create_engine(settings),
        create_engine(Settings(database_url=ds.database_url(empty))),
    )
    try:
        lines = await ds.recent_event_lines(engine, dataset.end_date, args.ingest_events)
        figures.ingest_empty = await ingest_rate(bare, lines, "empty")
        figures.ingest_loaded = await ingest_rate(engine, lines, "loaded")
        figures.refresh_big_s, _ = await timed_refresh(engine)
        small = await ds.recent_event_lines(engine, dataset.end_date, args.increment, seed=2)
        await ingest_rate(engine, small, "increment")
        figures.refresh_small_s, _ = await timed_refresh(engine)
        await _pages(args, settings, engine, dataset.end_date, figures)
        await _catalog_change(engine)
        figures.catalog_s, figures.catalog_tidy_s, figures.catalog_rebuilt = await _timed_publish(
            engine
        )
        await engine.dispose()
        figures.full_s, figures.full_rss = _full_rebuild(settings.database_url)
        await _sizes(engine, figures)
        await _bloat(args, engine, dataset.end_date, figures)
    finally:
        await engine.dispose()
        await bare.dispose()
        if not args.keep:
            await ds.drop(work)
            await ds.drop(empty)
    report(figures)
    return figures


def report(f: Figures) -> None:
    """One scale's figures."""
    mib = 2**20
    print(f"  {f.scale}: {f.events:,} raw events over {f.days} days", flush=True)
    print(
        f"    ingest {f.ingest_empty:,.0f} events/s into the empty store, "
        f"{f.ingest_loaded:,.0f} into the loaded one "
        f"({f.ingest_loaded / f.ingest_empty:.0%})"
    )
    print(
        f"    incremental refresh: big batch {f.refresh_big_s:.2f} s, "
        f"small {f.refresh_small_s:.2f} s"
    )
    print(
        f"    details page p50 {f.p(f.details_ms, 50):.1f} ms, p95 {f.p(f.details_ms, 95):.1f} ms; "
        f"workspace overview p50 {f.p(f.overview_ms, 50):.1f} ms, "
        f"p95 {f.p(f.overview_ms, 95):.1f} ms (caches cleared)"
    )
    print(
        f"    the overview reads {f.window_user_days:,} user-days (its window and the previous "
        f"period); the window ending {EARLY_HISTORY_DAYS} days into the history "
        f"{f.early_user_days:,}, "
        f"p50 {f.p(f.early_overview_ms, 50):.1f} ms"
    )
    print(
        f"    catalog change applied (snapshot committed) in {f.catalog_s:.2f} s"
        f"{' (REBUILT)' if f.catalog_rebuilt else ', no rebuild'}, "
        f"then {f.catalog_tidy_s:.2f} s of vacuum"
    )
    print(f"    full rebuild {f.full_s:.1f} s, peak RSS {f.full_rss / mib:,.0f} MiB")
    print(
        f"    disk: {f.raw_bytes_per_event:.0f} bytes per raw event, "
        f"{f.rollup_bytes_per_day / mib:.2f} MiB of rollups per day"
    )
    ratio = f.rollup_after / f.rollup_compacted if f.rollup_compacted else float("nan")
    print(
        f"    rollups after the incremental refreshes {f.rollup_after / mib:,.0f} MiB vs "
        f"{f.rollup_compacted / mib:,.0f} MiB compacted ({ratio:.2f}x)",
        flush=True,
    )


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def targets(all_figures: Sequence[Figures]) -> list[str]:
    """SPEC §9's bars for the largest scale, and its growth over the first: printed lines."""
    first, last = all_figures[0], all_figures[-1]
    lines = []
    details, overview = last.p(last.details_ms, 50), last.p(last.overview_ms, 50)
    lines.append(
        f"details page p50 <= {TARGET_DETAILS_MS:.0f} ms at {last.scale}: "
        f"{_verdict(details <= TARGET_DETAILS_MS)} ({details:.1f} ms)"
    )
    lines.append(
        f"workspace overview p50 <= {TARGET_OVERVIEW_MS:.0f} ms at {last.scale}: "
        f"{_verdict(overview <= TARGET_OVERVIEW_MS)} ({overview:.1f} ms)"
    )
    if last is not first:
        for label, a, b in (
            ("details page", first.details_ms, last.details_ms),
            ("workspace overview", first.overview_ms, last.overview_ms),
        ):
            growth = last.p(b, 50) / first.p(a, 50)
            lines.append(
                f"{label} {last.scale} / {first.scale} <= {TARGET_GROWTH}x: "
                f"{_verdict(growth <= TARGET_GROWTH)} ({growth:.2f}x)"
            )
    if last is not first and first.window_user_days and last.early_user_days:
        late = last.p(last.overview_ms, 50) / last.p(last.early_overview_ms, 50)
        traffic = last.window_user_days / first.window_user_days
        lines.append(
            f"  (the overview at {last.scale} reads {traffic:.2f}x the user-days of "
            f"{first.scale}'s, window and previous period; at {last.scale}, {late:.2f}x the "
            f"time of the same window {EARLY_HISTORY_DAYS} days into the history, which reads "
            f"{last.window_user_days / last.early_user_days:.2f}x its user-days)"
        )
    kept = last.ingest_loaded / last.ingest_empty if last.ingest_empty else 0.0
    lines.append(
        f"ingest into the loaded store >= {TARGET_INGEST_KEPT:.0%} of the empty one: "
        f"{_verdict(kept >= TARGET_INGEST_KEPT)} ({kept:.0%})"
    )
    lines.append(
        f"incremental refresh of the big batch <= {TARGET_BIG_S:.0f} s: "
        f"{_verdict(last.refresh_big_s <= TARGET_BIG_S)} ({last.refresh_big_s:.1f} s)"
    )
    lines.append(
        f"incremental refresh of the small batch <= {TARGET_SMALL_S:.0f} s: "
        f"{_verdict(last.refresh_small_s <= TARGET_SMALL_S)} "
        f"({last.refresh_small_s:.2f} s)"
    )
    catalog_ok = last.catalog_s <= TARGET_CATALOG_S and not last.catalog_rebuilt
    lines.append(
        f"catalog change applied <= {TARGET_CATALOG_S:.0f} s without a rebuild: "
        f"{_verdict(catalog_ok)} ({last.catalog_s:.2f} s)"
    )
    lines.append(
        f"peak RSS of a full rebuild <= 2 GiB: {_verdict(last.full_rss <= TARGET_RSS_BYTES)} "
        f"({last.full_rss / 2**20:,.0f} MiB)"
    )
    bloat = last.rollup_after / last.rollup_compacted if last.rollup_compacted else float("inf")
    lines.append(
        f"rollups after the incremental refreshes <= {TARGET_BLOAT}x compacted: "
        f"{_verdict(bloat <= TARGET_BLOAT)} ({bloat:.2f}x)"
    )
    return lines


async def main(args: argparse.Namespace) -> None:
    """Measure every scale, print the targets; exit status 1 when an answer was not exact."""
    all_figures = [await measure(args, scale) for scale in args.scales]
    print("targets:")
    for line in targets(all_figures):
        print(f"  {line}")
    problems = [p for f in all_figures for p in f.problems]
    if problems:
        for problem in problems[:30]:
            print(f"  {problem}")
        raise SystemExit("EXACTNESS FAILED: the gateway and the naive implementation differ")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        f"  exact: the details page agrees with the naive implementation at every scale "
        f"(peak RSS of this process {rss:,} MiB)"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--scales", nargs="+", default=["large", "xlarge"], choices=list(SCALES))
    parser.add_argument("--seed", type=int, default=ds.DEFAULT_SEED)
    parser.add_argument("--end-date", type=dt.date.fromisoformat, default=ds.DEFAULT_END_DATE)
    parser.add_argument(
        "--ingest-events",
        type=int,
        default=2_100_000,
        help="the ingest file and big incremental batch",
    )
    parser.add_argument("--increment", type=int, default=1_800, help="the small batch")
    parser.add_argument("--refreshes", type=int, default=48, help="incremental refreshes")
    parser.add_argument("--iterations", type=int, default=10, help="page requests per app")
    parser.add_argument("--skip-naive", action="store_true", help="no exactness check")
    parser.add_argument("--keep", action="store_true", help="keep the working databases")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
