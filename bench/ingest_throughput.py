"""Bulk-ingest throughput: events per second into PostgreSQL and into SQLite.

Three inputs, each timed with :func:`gateway.store.ingest.ingest_lines` into a fresh
PostgreSQL database (``--pg-database``, default ``gateway_bench_ingest``) and into a temporary
SQLite file; preparing the input is not timed:

- default: ``--events`` valid events generated in memory (a catalog of a few apps and mini
  programs, ``--users`` distinct users, launches / page views / ad impressions mixed 5:4:1),
  after an untimed catalog ingest;
- ``--scale NAME``: the synthetic dataset ``gateway generate --scale NAME`` writes (catalog,
  users, events with replayed ids), held in memory, the whole of it timed;
- ``--file PATH``: a ``.jsonl`` or ``.jsonl.gz`` file, read and gunzipped the way
  ``gateway ingest`` does (the reading is timed: it is part of the CLI's cost).

SPEC §9 asks for at least 200,000 events/s into PostgreSQL. There ``ingest_lines`` uses worker
processes (:mod:`gateway.store.ingest.parallel`) for these inputs; ``--workers 0`` times the
in-process path instead.

Example:
    $ python -m bench.ingest_throughput --events 1000000
    $ python -m bench.ingest_throughput --scale small --skip-sqlite
    $ python -m bench.ingest_throughput --file large.jsonl.gz --skip-sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import asyncpg
import orjson
from sqlalchemy.engine import make_url

from gateway.settings import Settings
from gateway.store.db import create_engine
from gateway.store.ingest import DEFAULT_CHUNK_SIZE, IngestReport, ingest_lines
from gateway.store.ingest.source import open_lines
from gateway.store.migrate import upgrade
from gateway.store.tables import EVENT_TABLES
from gateway.synthetic import generate_lines
from gateway.synthetic.scales import SCALES

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "gateway_bench_ingest"
TARGET_EVENTS_PER_SECOND = 200_000
SCALE_END_DATE = date(2026, 11, 22)
"""Last day of ``--scale`` datasets: fixed, so every run ingests the same records."""


def catalog_lines(apps: int, programs: int) -> list[bytes]:
    """A workspace, ``apps`` target apps, ``programs`` mini programs deployed in every app."""
    at = "2024-01-01T00:00:00Z"
    records: list[dict[str, object]] = [{"kind": "workspace", "id": "ws", "name": "Bench"}]
    for a in range(apps):
        records.append(
            {
                "kind": "targetApp",
                "id": f"app{a}",
                "workspaceId": "ws",
                "name": f"App {a}",
                "createdAt": at,
            }
        )
    for p in range(programs):
        records.append(
            {
                "kind": "miniProgram",
                "id": f"mp{p}",
                "workspaceId": "ws",
                "name": f"Mini {p}",
                "type": "MINI_GAME" if p % 4 == 0 else "MINI_PROGRAM",
                "category": "games" if p % 4 == 0 else "food_beverage",
                "source": "wallet",
                "createdAt": at,
            }
        )
        for a in range(apps):
            records.append(
                {
                    "kind": "deployment",
                    "targetAppId": f"app{a}",
                    "miniProgramId": f"mp{p}",
                    "status": "FULL_RELEASE",
                    "at": at,
                }
            )
    return [orjson.dumps(r) for r in records]


def event_lines(events: int, users: int, apps: int, programs: int, seed: int = 7) -> list[bytes]:
    """``events`` event lines (5 launches : 4 page views : 1 ad impression), as bytes."""
    rng = random.Random(seed)
    out: list[bytes] = []
    for i in range(events):
        head = (
            f'"id":"e{i}","at":"2024-03-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:07.123+00:00",'
            f'"targetAppId":"app{rng.randrange(apps)}","miniProgramId":"mp{rng.randrange(programs)}",'
            f'"userGuid":"user-{rng.randrange(users):08d}"'
        )
        slot = i % 10
        if slot < 5:
            out.append(f'{{"kind":"launch",{head}}}'.encode())
        elif slot < 9:
            out.append(
                f'{{"kind":"pageView",{head},"page":"/p{slot}","durationMs":{i % 90_000}}}'.encode()
            )
        else:
            ad = f'"valid":true,"revenue":"0.{i % 1000:03d}"'
            out.append(f'{{"kind":"adImpression",{head},{ad}}}'.encode())
    return out


async def _fresh_postgres(database: str) -> str:
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    return make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


@dataclass(frozen=True)
class Timing:
    """One timed ingest: seconds, event records (stored or duplicate) and all records.

    ``cpu`` is this process's CPU time: near ``seconds`` when Python is the limit, well
    below when the database is.
    """

    seconds: float
    cpu: float
    events: int
    records: int


def _timing(report: IngestReport, started: tuple[float, float]) -> Timing:
    seconds, cpu = time.perf_counter() - started[0], time.process_time() - started[1]
    stored = sum(report.stored_by_kind.get(kind, 0) for kind in EVENT_TABLES)
    return Timing(seconds, cpu, stored + report.duplicates, report.records)


async def time_ingest(
    url: str, catalog: list[bytes], events: list[bytes], chunk_size: int, workers: int | None
) -> Timing:
    """Time ingesting ``events`` (after an untimed catalog) into a migrated database."""
    engine = create_engine(Settings(database_url=url))
    try:
        await upgrade(engine)
        await ingest_lines(engine, catalog, source="bench:catalog")
        started = time.perf_counter(), time.process_time()
        report = await ingest_lines(
            engine,
            events,
            source="bench:events",
            chunk_size=chunk_size,
            pause_gc=True,
            workers=workers,
        )
        timing = _timing(report, started)
        assert report.stored == len(events), report
        return timing
    finally:
        await engine.dispose()


async def time_source(
    url: str, lines: list[bytes] | Path, chunk_size: int, workers: int | None
) -> Timing:
    """Time ingesting a whole dataset: lines in memory, or a file opened like the CLI does."""
    engine = create_engine(Settings(database_url=url))
    try:
        await upgrade(engine)
        started = time.perf_counter(), time.process_time()
        if isinstance(lines, Path):
            with open_lines(str(lines)) as (stream, _, _):
                report = await ingest_lines(
                    engine,
                    stream,
                    source=str(lines),
                    chunk_size=chunk_size,
                    pause_gc=True,
                    workers=workers,
                )
        else:
            report = await ingest_lines(
                engine,
                lines,
                source="bench:scale",
                chunk_size=chunk_size,
                pause_gc=True,
                workers=workers,
            )
        timing = _timing(report, started)
        assert not report.quarantined, report.problems[:5]
        return timing
    finally:
        await engine.dispose()


def _scale_lines(scale: str) -> list[bytes]:
    started = time.perf_counter()
    lines = list(generate_lines(scale, end_date=SCALE_END_DATE))
    print(f"generated scale {scale!r} in {time.perf_counter() - started:.1f} s (not timed)")
    return lines


async def _run(args: argparse.Namespace, url: str, chunk_size: int) -> Timing:
    if args.file is not None:
        return await time_source(url, args.file, chunk_size, args.workers)
    if args.scale is not None:
        return await time_source(url, args.lines, chunk_size, args.workers)
    return await time_ingest(url, args.catalog, args.events_lines, chunk_size, args.workers)


def _describe(args: argparse.Namespace) -> str:
    if args.file is not None:
        return f"file {args.file}"
    if args.scale is not None:
        args.lines = _scale_lines(args.scale)
        return f"scale {args.scale!r}: {len(args.lines):,} records"
    args.catalog = catalog_lines(args.apps, args.programs)
    args.events_lines = event_lines(args.events, args.users, args.apps, args.programs)
    shape = f"{args.users:,} users, {args.apps} apps, {args.programs} mini programs"
    return f"{len(args.events_lines):,} events, {shape}"


async def main(args: argparse.Namespace) -> None:
    """Prepare the input, time both backends, print events/s and records/s."""
    print(_describe(args), flush=True)
    results: dict[str, Timing] = {}
    if not args.skip_postgres:
        url = await _fresh_postgres(args.pg_database)
        results["postgresql"] = await _run(args, url, args.chunk_size)
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            results["sqlite"] = await _run(args, url, args.chunk_size)
    for backend, timing in results.items():
        rate = timing.events / timing.seconds
        verdict = ""
        if backend == "postgresql":
            verdict = "  (target 200,000: " + (
                "met)" if rate >= TARGET_EVENTS_PER_SECOND else "NOT met)"
            )
        print(
            f"{backend:>10}: {timing.seconds:7.2f} s  {rate:12,.0f} events/s"
            f"  {timing.records / timing.seconds:12,.0f} records/s"
            f"  (Python CPU {timing.cpu:.1f} s){verdict}"
        )


SMOKE = ("--scale", "tiny")
"""The smoke run's arguments (``python -m bench smoke``):
the tiny dataset into both backends, nothing quarantined."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--scale", choices=sorted(SCALES), help="a synthetic dataset, in memory")
    source.add_argument("--file", type=Path, help="a .jsonl or .jsonl.gz file, as the CLI reads")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--apps", type=int, default=5)
    parser.add_argument("--programs", type=int, default=50)
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="PostgreSQL worker processes (0: the in-process path; default: chosen by ingest)",
    )
    parser.add_argument("--pg-database", default=PG_DATABASE)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
