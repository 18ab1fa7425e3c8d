"""The target-app details page (SPEC §9): the gateway against a naive implementation, and refreshes.

On the benchmark dataset (:mod:`bench.dataset`, built once and reused) it runs the full details
page query (status counts; activeUsers, pageViews, newUsers, lifetimeUsers with previous period
and a 30-day daily series; the four breakdowns) for a few target apps:

- against the gateway schema in-process (``schema.execute`` with a fresh Context, so empty
  loaders and no cache) and over HTTP (httpx ``ASGITransport`` on ``create_app``);
- against :mod:`bench.naive` (COUNT(DISTINCT) over raw events, per field, per request).

It prints p50 / p95, the naive/ours ratio and SQL statements per request, and checks that both
return the same numbers (exit status 1 when one differs). Fields the gateway schema does not
have yet are named and left out of both sides. Then it times an incremental refresh after
ingesting 30 minutes of new events (and checks the page again), a full rebuild, and compares
the rollups' size on disk with the raw events'. The dataset is left as it was found.

Example:
    $ python -m bench details --scale small --iterations 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import numpy as np
import strawberry
from pydantic import SecretStr
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import dataset as ds
from bench.naive import NaiveContext, build_naive_schema
from bench.naive.compare import differences
from bench.naive.indexes import naive_indexes
from gateway.app import create_app
from gateway.authz.principal import Principal
from gateway.authz.tokens import mint_token
from gateway.context import Context
from gateway.roles import Grant, Role
from gateway.schema import build_schema
from gateway.settings import Settings
from gateway.store.db import create_engine
from gateway.store.ingest import ingest_lines
from gateway.store.rollup import refresh
from gateway.store.tables import target_apps

STATUS_FIELD = "miniProgramStatusCounts"
METRIC_FIELDS = ("activeUsers", "pageViews", "newUsers", "lifetimeUsers")
BREAKDOWN_FIELDS = ("miniProgramsBySource", "miniProgramsByCategory", "usersBySource",
                    "usersByCategory")  # fmt: skip
PAGE_FIELDS = (STATUS_FIELD, *METRIC_FIELDS, *BREAKDOWN_FIELDS)
JWT_SECRET = "bench-details-page-jwt-secret-0123456789"
"""Signs the HTTP client's token (the app under test is created with it)."""
READER = Principal("bench", (Grant(Role.PLATFORM_ADMIN),))
"""Who the page runs as: a platform administrator reads every app and every field."""
TARGET_P50_MS, TARGET_RATIO, TARGET_INCREMENTAL_S, TARGET_FULL_S = 25.0, 20.0, 2.0, 120.0

_SELECTIONS = {
    STATUS_FIELD: "{ all fullRelease grayscaleRelease reviewing developing inactive }",
    **dict.fromkeys(METRIC_FIELDS, "(timeRange: $range) { ...M }"),
    **dict.fromkeys(BREAKDOWN_FIELDS, "(timeRange: $range) { ...B }"),
}
_FRAGMENTS = (
    "fragment M on Metric { value previousValue change changeRate "
    "series(granularity: DAY) { date value } }\n"
    "fragment B on Breakdown { total previousTotal items { key count share previousCount "
    "previousShare countChange shareChange } }\n"
)


def page_query(fields: Sequence[str]) -> str:
    """The details page query text, asking ``fields`` of ``TargetApp`` (in page order)."""
    body = "\n    ".join(f"{name} {_SELECTIONS[name]}" for name in fields)
    used = [f for f in ("M", "B") if any(f"...{f}" in _SELECTIONS[name] for name in fields)]
    fragments = [line for line in _FRAGMENTS.splitlines() if line.split()[1] in used]
    return (
        "query DetailsPage($id: ID!, $range: TimeRangeInput!) {\n"
        f"  targetApp(id: $id) {{\n    id\n    {body}\n  }}\n}}\n" + "\n".join(fragments)
    )


async def schema_fields(schema: strawberry.Schema, type_name: str) -> set[str]:
    """The GraphQL field names of ``type_name`` in ``schema`` (by introspection)."""
    result = await schema.execute(
        "query($n: String!) { __type(name: $n) { fields { name } } }", {"n": type_name}
    )
    assert result.data is not None, result.errors
    assert result.data["__type"] is not None, f"no type {type_name}"
    return {f["name"] for f in result.data["__type"]["fields"]}


class StatementCounter:
    """Counts SQL statements sent by an engine (``before_cursor_execute`` on its sync engine)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: object) -> None:
        del args
        self.count += 1


@dataclass
class Runs:
    """Latencies (ms) and statements per request of one implementation."""

    label: str
    latencies: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)

    def p(self, q: float) -> float:
        """The ``q``-th percentile latency in ms."""
        return float(np.percentile(self.latencies, q))

    def line(self) -> str:
        """One line of the report."""
        sql = sorted(set(self.statements))
        return (f"  {self.label:<28} p50 {self.p(50):9.1f} ms  p95 {self.p(95):9.1f} ms  "
                f"SQL/request {'/'.join(map(str, sql))}  (n={len(self.latencies)})")  # fmt: skip


Execute = Callable[[str], Awaitable[dict[str, Any]]]
"""Runs the page for one target app id and returns the response's ``data``."""


async def measure(runs: Runs, execute: Execute, counter: StatementCounter, apps: Sequence[str],
                  iterations: int) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Run the page ``iterations`` times per app (after one warm-up); return the data by app."""
    answers: dict[str, dict[str, Any]] = {}
    for app in apps:
        answers[app] = await execute(app)  # warm-up: connections, plans, caches of the OS
        for _ in range(iterations):
            before, started = counter.count, time.perf_counter()
            await execute(app)
            runs.latencies.append((time.perf_counter() - started) * 1000)
            runs.statements.append(counter.count - before)
    return answers


class RequestContext(Protocol):
    """A per-request context that is closed when its response is complete."""

    async def close(self) -> None:
        """Release what the request holds (its read transaction)."""


def in_process(schema: strawberry.Schema, query: str, variables: Callable[[str], dict[str, Any]],
               context: Callable[[], RequestContext]) -> Execute:  # fmt: skip
    """An :data:`Execute` running ``schema`` in-process with a fresh context per request
    (closed once the response is complete, as the HTTP view does)."""

    async def execute(app: str) -> dict[str, Any]:
        ctx = context()
        try:
            result = await schema.execute(query, variables(app), context_value=ctx)
        finally:
            await ctx.close()
        if result.errors or result.data is None:
            raise RuntimeError(f"{app}: {result.errors}")
        return result.data

    return execute


def reader_context(engine: AsyncEngine, settings: Settings) -> Callable[[], RequestContext]:
    """Fresh request contexts of :data:`READER` (empty loaders, no cache), as the view makes."""
    return lambda: Context.create(engine, settings, principal=READER)


def over_http(client: httpx.AsyncClient, query: str, variables: Callable[[str], dict[str, Any]],
              token: str) -> Execute:  # fmt: skip
    """An :data:`Execute` posting the page to ``/graphql`` with ``token``."""
    headers = {"Authorization": f"Bearer {token}"}

    async def execute(app: str) -> dict[str, Any]:
        body = {"query": query, "variables": variables(app)}
        response = await client.post("/graphql", json=body, headers=headers)
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"{app}: HTTP {response.status_code} {body.get('errors')}")
        data: dict[str, Any] = body["data"]
        return data

    return execute


@contextmanager
def timed(label: str, results: dict[str, float]) -> Iterator[None]:
    """Store the seconds the block took under ``label``."""
    started = time.perf_counter()
    yield
    results[label] = time.perf_counter() - started


def variables_for(end: dt.date) -> Callable[[str], dict[str, Any]]:
    """The page's variables for an app id: the 30 days ending ``end``."""
    return lambda app: {"id": app, "range": {"days": 30, "endDate": end.isoformat()}}


def verdict(ok: bool) -> str:
    """``met`` / ``NOT met``."""
    return "met" if ok else "NOT met"


async def pick_apps(engine: AsyncEngine, count: int) -> list[str]:
    """``count`` target apps spread evenly over the ids (deterministic)."""
    stmt = select(target_apps.c.id).order_by(target_apps.c.id)
    async with engine.connect() as conn:
        ids = list((await conn.execute(stmt)).scalars())
    step = max(len(ids) // max(count, 1), 1)
    return ids[::step][:count]


async def page_benchmark(args: argparse.Namespace, settings: Settings, engine: AsyncEngine,
                         end: dt.date) -> tuple[bool, float | None, float | None]:  # fmt: skip
    """The page timings and exactness check; returns (exact, our p50, naive/ours ratio)."""
    schema, naive = build_schema(), build_naive_schema()
    present = await schema_fields(schema, "TargetApp")
    fields = [name for name in PAGE_FIELDS if name in present]
    missing = [name for name in PAGE_FIELDS if name not in present]
    if missing:
        print(f"  MISSING from the gateway schema (left out of both sides): {', '.join(missing)}")
    query = page_query(fields)
    apps = await pick_apps(engine, args.apps)
    print(f"  apps {', '.join(apps)}; range 30 days ending {end}; fields: {', '.join(fields)}")
    variables = variables_for(end)
    counter = StatementCounter(engine)
    ours = Runs("ours (in-process)")
    naive_runs = Runs("naive (in-process" + (", indexed)" if args.naive_indexes else ")"))
    run_ours = in_process(schema, query, variables, reader_context(engine, settings))
    ours_data = await measure(ours, run_ours, counter, apps, args.iterations)
    print(ours.line(), flush=True)
    http = Runs("ours (HTTP, ASGI)")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        http_counter = StatementCounter(app.state.services.engine)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            token = mint_token(settings, READER.subject, READER.grants, dt.timedelta(hours=1))
            execute = over_http(client, query, variables, token)
            http_data = await measure(http, execute, http_counter, apps, args.iterations)
    print(http.line(), flush=True)
    run_naive = in_process(naive, query, variables, lambda: NaiveContext(engine))
    async with naive_indexes(engine) if args.naive_indexes else contextlib.nullcontext():
        naive_data = await measure(naive_runs, run_naive, counter, apps, args.naive_iterations)
    print(naive_runs.line(), flush=True)
    problems = [f"HTTP vs in-process {p}" for p in differences(http_data, ours_data)]
    problems += [f"naive vs ours {p}" for p in differences(naive_data, ours_data)]
    report_exactness(problems, apps, fields, "ours, ours over HTTP and naive")
    ratio = naive_runs.p(50) / ours.p(50)
    print(f"  naive/ours p50 ratio: {ratio:.0f}x (in-process); "
          f"{naive_runs.p(50) / http.p(50):.0f}x (HTTP)")  # fmt: skip
    return not problems, (None if missing else ours.p(50)), (None if missing else ratio)


def report_exactness(
    problems: list[str], apps: Sequence[str], fields: Sequence[str], who: str
) -> None:
    """Print the exactness verdict (every difference, loudly)."""
    if problems:
        print(f"  EXACTNESS FAILED: {len(problems)} differences")
        for problem in problems[:30]:
            print(f"    {problem}")
    else:
        print(f"  exact: {who} agree on every value ({len(apps)} apps, "
              f"{len(fields)} fields)")  # fmt: skip


async def refresh_benchmark(args: argparse.Namespace, settings: Settings, engine: AsyncEngine,
                            dataset: ds.Dataset) -> tuple[bool, dict[str, float]]:  # fmt: skip
    """Incremental refresh after 30 minutes of events, a full rebuild; restores the dataset."""
    seconds: dict[str, float] = {}
    exact = True
    try:
        lines = await ds.recent_event_lines(engine, dataset.end_date, args.new_events)
        report = await ingest_lines(engine, lines, source="bench:incremental")
        assert report.stored == len(lines), report
        with timed("incremental", seconds):
            info = await refresh(engine)
        print(f"  incremental refresh: {info.events:,} new events (last 30 minutes of "
              f"{dataset.end_date}) in {seconds['incremental']:.2f}s")  # fmt: skip
        exact = await recheck(settings, engine, dataset.end_date)
    finally:
        removed = await ds.remove_after(engine, dataset.max_batch_id)
        print(f"  removed the {removed:,} added events again")
        with timed("full", seconds):
            info = await refresh(engine, full=True)
        print(f"  full rebuild: {info.events:,} events in {seconds['full']:.1f}s")
    return exact, seconds


async def recheck(settings: Settings, engine: AsyncEngine, end: dt.date) -> bool:
    """After the incremental refresh, the page of the first app must still match naive."""
    schema = build_schema()
    present = await schema_fields(schema, "TargetApp")
    fields = [name for name in PAGE_FIELDS if name in present]
    query, variables, app = page_query(fields), variables_for(end), (await pick_apps(engine, 1))[0]
    ours = await in_process(schema, query, variables, reader_context(engine, settings))(app)
    naive_schema = build_naive_schema()
    naive = await in_process(naive_schema, query, variables, lambda: NaiveContext(engine))(app)
    problems = differences({app: naive}, {app: ours})
    problems = [f"after the incremental refresh: {p}" for p in problems]
    report_exactness(problems, [app], fields, "after the incremental refresh, ours and naive")
    return not problems


async def main(args: argparse.Namespace) -> None:
    """Run everything; exit status 1 when the gateway and naive answers differ."""
    dataset = await ds.from_args(args)
    settings = Settings(  # warnings only: an access-log line per request would bury the report
        database_url=dataset.url, jwt_secret=SecretStr(JWT_SECRET), log_level="warning"
    )
    engine = create_engine(settings)
    try:
        print(f"details page ({dataset.scale}, seed {dataset.seed}):", flush=True)
        exact, p50, ratio = await page_benchmark(args, settings, engine, dataset.end_date)
        timings: dict[str, float] = {}
        if not args.skip_refresh:
            refreshed_exact, timings = await refresh_benchmark(args, settings, engine, dataset)
            exact = exact and refreshed_exact
        await report_sizes(engine)
    finally:
        await engine.dispose()
    print_targets(p50, ratio, timings)
    if not exact:
        raise SystemExit("EXACTNESS FAILED: the gateway and the naive implementation differ")


async def report_sizes(engine: AsyncEngine) -> None:
    """Rollup vs raw event bytes on disk, as found and after compacting the rollups."""
    rollup, raw = await ds.rollup_sizes(engine)
    seconds = await ds.compact_rollups(engine)
    compact, raw = await ds.rollup_sizes(engine)
    print(f"  size on disk: rollups {compact / 2**20:,.0f} MiB vs raw events {raw / 2**20:,.0f} "
          f"MiB ({compact / raw:.0%}); {rollup / 2**20:,.0f} MiB before VACUUM FULL "
          f"({seconds:.0f}s) of the space earlier rebuilds left")  # fmt: skip


def print_targets(p50: float | None, ratio: float | None, timings: dict[str, float]) -> None:
    """The SPEC §9 bars, met or not (None = not comparable: fields missing)."""
    print("targets:")
    print(f"  details page p50 <= {TARGET_P50_MS:.0f} ms: "
          + ("n/a (fields missing)" if p50 is None else f"{verdict(p50 <= TARGET_P50_MS)} "
             f"({p50:.1f} ms)"))  # fmt: skip
    print(f"  >= {TARGET_RATIO:.0f}x faster than naive: "
          + ("n/a (fields missing)" if ratio is None else f"{verdict(ratio >= TARGET_RATIO)} "
             f"({ratio:.0f}x)"))  # fmt: skip
    if "incremental" in timings:
        s = timings["incremental"]
        print(f"  incremental refresh <= {TARGET_INCREMENTAL_S:.0f} s: "
              f"{verdict(s <= TARGET_INCREMENTAL_S)} ({s:.2f} s)")  # fmt: skip
    if "full" in timings:
        s = timings["full"]
        print(f"  full rebuild <= {TARGET_FULL_S:.0f} s: {verdict(s <= TARGET_FULL_S)} ({s:.1f} s)")


SMOKE = (
    "--scale",
    "tiny",
    "--apps",
    "1",
    "--iterations",
    "1",
    "--naive-iterations",
    "1",
    "--new-events",
    "30",
)
"""The smoke run's arguments (``python -m bench smoke``):
one request per implementation, one app, its exactness checks."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (the dataset's, see :mod:`bench.dataset`, and the runs')."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ds.add_arguments(parser)
    parser.add_argument("--apps", type=int, default=3, help="target apps measured")
    parser.add_argument("--iterations", type=int, default=30, help="requests per app (ours)")
    parser.add_argument("--naive-iterations", type=int, default=5, help="requests per app (naive)")
    parser.add_argument("--new-events", type=int, default=1_800, help="events of the 30 minutes")
    parser.add_argument(
        "--naive-indexes",
        action="store_true",
        help="give the naive implementation covering (target_app_id, at) indexes for the run",
    )
    parser.add_argument("--skip-refresh", action="store_true", help="no refresh timings")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
