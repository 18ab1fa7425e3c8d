"""The details page answered from the response cache, under wrk, against a bare Starlette app.

Issue 5's bar: a repeated dashboard query should cost about what returning bytes from a bare
Starlette endpoint costs. On the benchmark dataset (:mod:`bench.dataset`; a cache hit's bytes do
not depend on its size, so ``small`` is the default) and for each cache backend (the in-process
cache, then Redis on a flushed DB):

1. start the gateway (``uvicorn --factory gateway.app:create_app``, see :mod:`bench.loopback`);
2. POST the full details page (:func:`bench.details_page.page_query`) for one target app as a
   PLATFORM_ADMIN: the first answer is computed, the second must be a hit
   (``extensions.cache.hit``); its exact bytes are kept;
3. time ``--cold`` uncached requests (other apps, each a miss in both cache layers);
4. start the bare app answering those bytes with the same content type, check it does;
5. run wrk (same body and headers) against bare and gateway alternately, ``--rounds`` times each,
   and check through ``/metrics`` that no gateway answer under load was other than a hit.

It prints requests/s, p50 and p99 per run, the gateway/bare throughput ratio (sum over rounds),
the gateway's median p50 and worst p99, with PASS/FAIL against the targets (>= 60% of the bare
throughput, p99 < 10 ms). Exit status 1 when the page is not served from the cache.

Each run also reads the server's CPU time (``/proc``) before and after, and prints the CPU
spent per answer. A one-worker server under wrk is CPU-bound, so on a quiet machine the
throughput ratio is the inverse ratio of these; unlike throughput and latency, they barely move
when other work shares the machine, so the report gives that CPU-based ratio too.
``--profile DIR`` adds one gateway run under py-spy (not counted) per backend and prints the
share of samples of the functions on a hit's path (:mod:`bench.pyspy`).

Example:
    $ python -m bench cached --scale small --seconds 10 --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import redis
from pydantic import SecretStr

from bench import dataset as ds
from bench.details_page import PAGE_FIELDS, page_query, pick_apps, schema_fields, variables_for
from bench.gateway_http import check_all_hits, graphql_outcomes, warm
from bench.loopback import BODY_FILE_ENV, CONTENT_TYPE_ENV, cpu_seconds, serve
from bench.pyspy import recording, top_functions
from bench.wrk import Load, WrkResult, run_wrk
from gateway.authz.tokens import mint_token
from gateway.roles import Grant, Role
from gateway.schema import build_schema
from gateway.settings import Settings
from gateway.store.db import create_engine

TARGET_RATIO, TARGET_P99_MS = 0.60, 10.0
BACKENDS = ("memory", "redis")
PROFILED = ("gateway/", "jwt/", "prometheus_client/")
"""Frames the profile summary lists: the gateway's own, PyJWT's and the metrics'."""
JWT_SECRET = "bench-cached-page-jwt-secret-0123456789"
# Cached entries live until the next snapshot is due (+ grace): with a dataset built days ago
# the default 30 minutes would be over already, and entries would expire during the run.
REFRESH_INTERVAL_SECONDS = 365 * 24 * 3600

GATEWAY_SERVER = (
    "--http",
    "gateway.web.connection_guard:GuardedHttpToolsProtocol",
    "--limit-concurrency",
    "2048",
    "--ws-per-message-deflate",
    "false",
)
"""uvicorn options of the gateway as `gateway serve` runs it (the connection guard on every
request); the bare app keeps uvicorn's own protocol."""


@dataclass(frozen=True)
class Plan:
    """What every backend's run shares."""

    database_url: str
    redis_url: str
    token: str
    page: bytes
    """The request body for the measured app."""
    cold_pages: list[bytes]
    """Request bodies for other apps (uncached requests)."""
    load: Load
    rounds: int
    profile: Path | None = None
    """Where py-spy's stacks go (None: no profiled run)."""
    profile_top: int = 20


@dataclass
class Outcome:
    """One backend's figures."""

    backend: str
    bare: list[WrkResult]
    gateway: list[WrkResult]
    cold_ms: list[float]
    page_bytes: int
    bare_cpu_us: list[float] = field(default_factory=list)
    """Server CPU time per answer of each bare run, in microseconds."""
    gateway_cpu_us: list[float] = field(default_factory=list)
    """The same for each gateway run."""

    @property
    def ratio(self) -> float:
        """Gateway / bare throughput over all rounds."""
        return sum(r.rps for r in self.gateway) / sum(r.rps for r in self.bare)

    @property
    def cpu_ratio(self) -> float:
        """Bare / gateway CPU per answer: the throughput ratio of a CPU-bound server."""
        return statistics.median(self.bare_cpu_us) / statistics.median(self.gateway_cpu_us)

    @property
    def p50_ms(self) -> float:
        """Median of the gateway runs' p50."""
        return statistics.median(r.p50_ms for r in self.gateway)

    @property
    def p99_ms(self) -> float:
        """Worst of the gateway runs' p99."""
        return max(r.p99_ms for r in self.gateway)


def request_body(query: str, variables: dict[str, Any]) -> bytes:
    """The JSON POST body of the page."""
    return orjson.dumps({"query": query, "variables": variables, "operationName": "DetailsPage"})


def gateway_env(plan: Plan, backend: str) -> dict[str, str]:
    """The gateway's ``GATEWAY_*`` environment for ``backend``."""
    env = {
        "GATEWAY_DATABASE_URL": plan.database_url,
        "GATEWAY_JWT_SECRET": JWT_SECRET,
        "GATEWAY_REFRESH_INTERVAL_SECONDS": str(REFRESH_INTERVAL_SECONDS),
        "GATEWAY_LOG_LEVEL": "warning",
        # The load comes from one token: a bucket it cannot empty, so that every answer still
        # pays for its rate-limit check (in Redis with the redis backend), as in production.
        "GATEWAY_RATE_LIMIT_PER_SECOND": "1000000000",
        "GATEWAY_RATE_LIMIT_BURST": "1000000000",
        # Likewise a cost budget it cannot spend: every hit still pays for its metering.
        "GATEWAY_COST_BUDGET_PER_WINDOW": "1000000000",
    }
    if backend == "redis":
        env["GATEWAY_REDIS_URL"] = plan.redis_url
    return env


def flush(redis_url: str) -> None:
    """Empty the benchmark's Redis DB."""
    with redis.Redis.from_url(redis_url) as client:
        client.flushdb()


@dataclass(frozen=True)
class Target:
    """The two servers of a comparison and how to ask them."""

    bare_url: str
    gateway_url: str
    bare_pid: int
    gateway_pid: int
    page_file: Path
    headers: dict[str, str]


def run_backend(plan: Plan, backend: str) -> Outcome:
    """Everything for one cache backend (blocking: subprocesses and wrk)."""
    if backend == "redis":
        flush(plan.redis_url)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {plan.token}"}
    with (
        tempfile.TemporaryDirectory(prefix="bench-cached-") as tmp,
        serve("gateway.app:create_app", gateway_env(plan, backend), GATEWAY_SERVER) as gateway,
        httpx.Client(base_url=gateway.url, headers=headers, timeout=120) as client,
    ):
        hit_bytes, content_type, cold_ms = warm(client, plan.page, plan.cold_pages)
        page_file, hit_file = Path(tmp, "page.json"), Path(tmp, "hit.json")
        page_file.write_bytes(plan.page)
        hit_file.write_bytes(hit_bytes)
        bare_env = {BODY_FILE_ENV: str(hit_file), CONTENT_TYPE_ENV: content_type}
        with serve("bench.loopback:bare_app", bare_env) as bare:
            answer = httpx.post(f"{bare.url}/", content=plan.page, headers=headers)
            assert answer.content == hit_bytes, "the bare app answers other bytes"
            target = Target(bare.url, gateway.url, bare.pid, gateway.pid, page_file, headers)
            before = graphql_outcomes(client)
            outcome = Outcome(backend, [], [], cold_ms, len(hit_bytes))
            load_rounds(plan, target, outcome)
            check_all_hits(before, graphql_outcomes(client), outcome.gateway)
            if plan.profile is not None:
                profile(plan, target, plan.profile / f"cached-{backend}.txt")
    if backend == "redis":
        flush(plan.redis_url)
    return outcome


def load_rounds(plan: Plan, target: Target, outcome: Outcome) -> None:
    """wrk against bare and gateway alternately, ``plan.rounds`` times each."""
    servers = (
        ("bare", f"{target.bare_url}/", target.bare_pid, outcome.bare, outcome.bare_cpu_us),
        ("gateway", f"{target.gateway_url}/graphql", target.gateway_pid, outcome.gateway,
         outcome.gateway_cpu_us),
    )  # fmt: skip
    for round_ in range(1, plan.rounds + 1):
        for label, url, pid, runs, cpu in servers:
            before = cpu_seconds(pid)
            runs.append(run_wrk(url, target.page_file, target.headers, plan.load))
            cpu.append((cpu_seconds(pid) - before) * 1e6 / max(1, runs[-1].requests))
            print(run_line(outcome.backend, round_, label, runs[-1], cpu[-1]), flush=True)


def profile(plan: Plan, target: Target, output: Path) -> None:
    """One more gateway run under py-spy (not counted): where a hit's time goes."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with recording(target.gateway_pid, output, plan.load.seconds):
        result = run_wrk(f"{target.gateway_url}/graphql", target.page_file, target.headers,
                         plan.load)  # fmt: skip
    print(
        f"    profiled run ({result.rps:,.0f} req/s under py-spy; stacks in {output}); "
        "share of samples on the stack:"
    )
    for name, share in top_functions(output, PROFILED, limit=plan.profile_top):
        print(f"      {share:6.1%}  {name}")


def run_line(backend: str, round_: int, label: str, result: WrkResult, cpu_us: float) -> str:
    """One wrk run's line of the report."""
    return (f"  {backend:<6} round {round_} {label:<7} {result.rps:9,.0f} req/s  "
            f"p50 {result.p50_ms:6.2f} ms  p90 {result.p90_ms:6.2f} ms  "
            f"p99 {result.p99_ms:6.2f} ms  max {result.max_ms:7.2f} ms  "
            f"CPU {cpu_us:5.1f} us/answer")  # fmt: skip


def verdict(ok: bool) -> str:
    """``PASS`` / ``FAIL``."""
    return "PASS" if ok else "FAIL"


def report(outcome: Outcome) -> None:
    """The backend's summary against the targets."""
    bare_rps = statistics.mean(r.rps for r in outcome.bare)
    gateway_rps = statistics.mean(r.rps for r in outcome.gateway)
    bare_p50 = statistics.median(r.p50_ms for r in outcome.bare)
    bare_p99 = max(r.p99_ms for r in outcome.bare)
    cold = outcome.cold_ms
    print(f"  {outcome.backend} ({outcome.page_bytes:,}-byte answer): bare {bare_rps:,.0f} "
          f"req/s (p50 {bare_p50:.2f} ms, p99 {bare_p99:.2f} ms); gateway {gateway_rps:,.0f} "
          f"req/s (p50 {outcome.p50_ms:.2f} ms, p99 {outcome.p99_ms:.2f} ms)")  # fmt: skip
    print(f"    cold (uncached) p50 {statistics.median(cold):.1f} ms, max {max(cold):.1f} ms "
          f"(n={len(cold)})")  # fmt: skip
    print(f"    server CPU per answer (median): bare {statistics.median(outcome.bare_cpu_us):.1f} "
          f"us, gateway {statistics.median(outcome.gateway_cpu_us):.1f} us; CPU-bound "
          f"throughput ratio {outcome.cpu_ratio:.0%} (>= {TARGET_RATIO:.0%}: "
          f"{verdict(outcome.cpu_ratio >= TARGET_RATIO)})")  # fmt: skip
    print(f"    throughput gateway/bare {outcome.ratio:.0%} (>= {TARGET_RATIO:.0%}: "
          f"{verdict(outcome.ratio >= TARGET_RATIO)}); hit p99 {outcome.p99_ms:.2f} ms "
          f"(< {TARGET_P99_MS:.0f} ms: {verdict(outcome.p99_ms < TARGET_P99_MS)})")  # fmt: skip


def machine() -> str:
    """Date, cores, load average and Python: the context absolute figures need."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{now}; {os.cpu_count()} cores; load average {load}; Python {platform.python_version()}"


async def make_plan(args: argparse.Namespace) -> Plan:
    """Ensure the dataset and build the requests (one measured app, ``--cold`` others)."""
    dataset = await ds.from_args(args)
    engine = create_engine(Settings(database_url=dataset.url))
    try:
        apps = await pick_apps(engine, 1 + args.cold)
    finally:
        await engine.dispose()
    present = await schema_fields(build_schema(), "TargetApp")
    query = page_query([name for name in PAGE_FIELDS if name in present])
    variables = variables_for(dataset.end_date)
    settings = Settings(jwt_secret=SecretStr(JWT_SECRET))
    token = mint_token(settings, "bench", [Grant(Role.PLATFORM_ADMIN)], dt.timedelta(hours=2))
    print(f"cached details page ({dataset.scale}, seed {dataset.seed}; app {apps[0]}, range 30 "
          f"days ending {dataset.end_date}; wrk -t{args.threads} -c{args.connections} "
          f"-d{args.seconds}s x {args.rounds} rounds each)", flush=True)  # fmt: skip
    return Plan(
        database_url=dataset.url,
        redis_url=args.redis_url,
        token=token,
        page=request_body(query, variables(apps[0])),
        cold_pages=[request_body(query, variables(app)) for app in apps[1:]],
        load=Load(args.threads, args.connections, args.seconds),
        rounds=args.rounds,
        profile=args.profile,
    )


async def main(args: argparse.Namespace) -> None:
    """Run every backend of ``--backends``, then print the summary against the targets."""
    plan = await make_plan(args)
    print(f"  before: {machine()}", flush=True)
    outcomes = [await asyncio.to_thread(run_backend, plan, name) for name in args.backends]
    print(f"  after: {machine()}")
    print("targets:")
    for outcome in outcomes:
        report(outcome)


SMOKE = ("--scale", "tiny", "--rounds", "1", "--seconds", "1", "--cold", "1", "--connections", "2")
"""The smoke run's arguments (``python -m bench smoke``):
one short wrk round per backend, its every-answer-a-hit check."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (the dataset's, see :mod:`bench.dataset`, and the load's)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ds.add_arguments(parser)
    parser.set_defaults(scale="small")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5",
                        help="its DB is flushed before and after")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="wrk runs per server")
    parser.add_argument("--cold", type=int, default=5, help="uncached requests timed")
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR",
                        help="after the rounds, one more gateway run under py-spy; stacks to "
                        "DIR/cached-<backend>.txt")  # fmt: skip
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
