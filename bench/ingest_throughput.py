"""Bulk-ingest throughput: events per second into PostgreSQL and into SQLite.

Generates ``--events`` valid events in memory (a catalog of a few apps and mini programs,
``--users`` distinct users, launches / page views / ad impressions mixed 5:4:1), then times
:func:`gateway.store.ingest.ingest_lines` into a fresh PostgreSQL database
(``gateway_bench_ingest``) and into a temporary SQLite file. Generation is not timed.

SPEC §9 asks for at least 200,000 events/s into PostgreSQL.

Example:
    $ python -m bench.ingest_throughput --events 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

import asyncpg
import orjson
from sqlalchemy.engine import make_url

from gateway.settings import Settings
from gateway.store.db import create_engine
from gateway.store.ingest import ingest_lines
from gateway.store.migrate import upgrade

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "gateway_bench_ingest"
TARGET_EVENTS_PER_SECOND = 200_000


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


async def _fresh_postgres() -> str:
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    finally:
        await admin.close()
    return make_url(PG_ADMIN_URL).set(database=PG_DATABASE).render_as_string(hide_password=False)


async def time_ingest(
    url: str, catalog: list[bytes], events: list[bytes], chunk_size: int
) -> float:
    """Seconds to ingest ``events`` (after the catalog) into a migrated database at ``url``."""
    engine = create_engine(Settings(database_url=url))
    try:
        await upgrade(engine)
        await ingest_lines(engine, catalog, source="bench:catalog")
        started = time.perf_counter()
        report = await ingest_lines(
            engine, events, source="bench:events", chunk_size=chunk_size, pause_gc=True
        )
        seconds = time.perf_counter() - started
        assert report.stored == len(events), report
        return seconds
    finally:
        await engine.dispose()


async def main(args: argparse.Namespace) -> None:
    """Generate the data, time both backends, print events/s."""
    catalog = catalog_lines(args.apps, args.programs)
    events = event_lines(args.events, args.users, args.apps, args.programs)
    shape = f"{args.users:,} users, {args.apps} apps, {args.programs} mini programs"
    print(f"{len(events):,} events, {shape}")
    results: dict[str, float] = {}
    if not args.skip_postgres:
        results["postgresql"] = await time_ingest(
            await _fresh_postgres(), catalog, events, args.chunk_size
        )
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            results["sqlite"] = await time_ingest(url, catalog, events, args.chunk_size)
    for backend, seconds in results.items():
        rate = len(events) / seconds
        verdict = ""
        if backend == "postgresql":
            verdict = "  (target 200,000: " + (
                "met)" if rate >= TARGET_EVENTS_PER_SECOND else "NOT met)"
            )
        print(f"{backend:>10}: {seconds:7.2f} s  {rate:12,.0f} events/s{verdict}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--apps", type=int, default=5)
    parser.add_argument("--programs", type=int, default=50)
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
