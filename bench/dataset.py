"""The benchmark dataset: a PostgreSQL database holding a generated scale, built once, reused.

:func:`ensure_dataset` makes sure the database (default ``gateway_bench_<scale>``) holds the
synthetic dataset of ``scale`` / ``seed`` / ``end_date`` with fresh rollups. A marker table,
``bench_dataset``, records what was built (and the last ingest batch of the dataset proper);
when it is missing or names another dataset the database is recreated: migrate, generate and
ingest (:func:`~gateway.store.ingest.ingest_lines` with ``pause_gc``), ``refresh(full=True)``.
Each step prints how long it took. A marker that matches but an older migration, events a
benchmark added after the build (``batch_id`` above the marker's) or no snapshot are repaired
in place (upgrade / delete those events / full refresh) instead.

``--from-database NAME`` copies an existing database (``CREATE DATABASE ... TEMPLATE``) instead
of generating: the caller vouches that it holds the same scale, seed and end date.

Example:
    $ python -m bench.dataset --scale small
    $ python -m bench.dataset --scale large --from-database gateway_large
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import numpy as np
import orjson
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.settings import Settings
from gateway.store.audience_codes import (
    PLATFORMS,
    REGIONS,
    platform_name,
    region_code,
    region_name,
)
from gateway.store.db import create_engine, table_bytes, vacuum
from gateway.store.ingest import ingest_lines
from gateway.store.migrate import current_revision, head_revision, upgrade
from gateway.store.rollup import latest_snapshot, refresh
from gateway.store.rollup.primaries import read_primaries
from gateway.store.rollup_tables import snapshots
from gateway.store.tables import EVENT_TABLES, deployments, ingest_batches, metadata, users
from gateway.synthetic import GENERATOR_VERSION, SCALES, generate_lines

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_END_DATE = dt.date(2026, 11, 22)
DEFAULT_SEED = 7
ROLLUP_TABLES = tuple(
    table
    for table in metadata.sorted_tables
    if table.name.startswith("rollup_") or table.name == snapshots.name
)
"""The tables the rollup refresh writes (every ``rollup_*`` table and ``snapshots``)."""
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

marker_metadata = MetaData()
marker = Table(
    "bench_dataset",
    marker_metadata,
    Column("scale", String(32), nullable=False),
    Column("seed", Integer, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("max_batch_id", Integer, nullable=False),
    Column("built_at", DateTime(), nullable=False),
    Column("origin", String(256), nullable=False),
    Column("generator", Integer, nullable=True),
)
"""One row: the dataset a bench database holds (not part of the gateway's own schema);
``generator`` is the :data:`~gateway.synthetic.GENERATOR_VERSION` that built it."""


@dataclass(frozen=True, slots=True)
class Dataset:
    """A ready benchmark database.

    Attributes:
        url: Its SQLAlchemy URL (``postgresql://...``; Settings picks the asyncpg driver).
        scale: The synthetic scale name.
        seed: The generator seed.
        end_date: The last UTC day with events.
        max_batch_id: The last ingest batch of the dataset proper; a benchmark that ingests
            more must delete what it added (or the next :func:`ensure_dataset` will).
    """

    url: str
    scale: str
    seed: int
    end_date: dt.date
    max_batch_id: int


@contextmanager
def step(label: str) -> Iterator[None]:
    """Print ``label`` and, when the block ends, the seconds it took."""
    print(f"  {label} ...", flush=True)
    started = time.perf_counter()
    yield
    print(f"  {label}: {time.perf_counter() - started:.1f}s", flush=True)


def database_url(database: str) -> str:
    """The URL of ``database`` on the admin URL's server."""
    return make_url(PG_ADMIN_URL).set(database=database).render_as_string(hide_password=False)


def _quoted(name: str) -> str:
    # Database names cannot be bound parameters in DDL; only plain lowercase names pass.
    if not _NAME.match(name):
        raise ValueError(f"database name {name!r} must match {_NAME.pattern}")
    return f'"{name}"'


async def _exists(admin: asyncpg.Connection, database: str) -> bool:
    found = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
    return found is not None


async def _admin(*statements: str) -> None:
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        for statement in statements:
            await admin.execute(statement)
    finally:
        await admin.close()


async def drop(database: str) -> None:
    """Drop ``database`` if it exists."""
    await _admin(f"DROP DATABASE IF EXISTS {_quoted(database)} WITH (FORCE)")


async def recreate(database: str, template: str | None = None) -> None:
    """Drop ``database`` if it exists and create it anew (a copy of ``template`` if given).

    A copy is made file by file (``STRATEGY FILE_COPY``, PostgreSQL 15+), not through the
    write-ahead log: copying ``xlarge`` (17 GB) through the log wrote it twice and left the
    checkpointer flushing it while the first figures were measured."""
    suffix = f" TEMPLATE {_quoted(template)}" if template else ""
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        if template and int(await admin.fetchval("SHOW server_version_num")) >= 150000:
            suffix += " STRATEGY FILE_COPY"
    finally:
        await admin.close()
    await drop(database)
    await _admin(f"CREATE DATABASE {_quoted(database)}{suffix}")


CATALOG_TABLES = tuple(
    table.name
    for table in metadata.sorted_tables
    if table.name in {"workspaces", "target_apps", "merchants", "mini_programs", "deployments",
                      "users"}
)  # fmt: skip
"""The catalog, in foreign-key order: what an empty store of the same dataset holds."""


async def copy_catalog(source: str, target: str) -> None:
    """Recreate ``target`` migrated, holding ``source``'s catalog and no event (binary COPY
    between the two databases: the catalog's size, not the events', unlike a template copy)."""
    await recreate(target)
    engine = create_engine(Settings(database_url=database_url(target)))
    await upgrade(engine)
    await engine.dispose()
    reader = await asyncpg.connect(database_url(source))
    writer = await asyncpg.connect(database_url(target))
    try:
        with tempfile.TemporaryDirectory() as folder:
            for name in CATALOG_TABLES:
                path = Path(folder) / f"{name}.bin"
                await reader.copy_from_table(name, output=path, format="binary")
                await writer.copy_to_table(name, source=path, format="binary")
        await writer.execute(
            "SELECT setval(pg_get_serial_sequence('users', 'uid'), "
            "coalesce((SELECT max(uid) FROM users), 1))"
        )
    finally:
        await reader.close()
        await writer.close()


async def _read_marker(engine: AsyncEngine) -> dict[str, object] | None:
    async with engine.begin() as conn:
        await conn.run_sync(marker_metadata.create_all)
        # A marker written before it named its generator has no such column: built again.
        await conn.exec_driver_sql(
            "ALTER TABLE bench_dataset ADD COLUMN IF NOT EXISTS generator INTEGER"
        )
        row = (await conn.execute(select(marker))).mappings().first()
    return dict(row) if row is not None else None


async def _write_marker(engine: AsyncEngine, values: dict[str, object]) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(marker_metadata.create_all)
        await conn.execute(delete(marker))
        await conn.execute(insert(marker).values(**values))


async def _max_batch(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.max(ingest_batches.c.id)))).scalar() or 0)


async def remove_after(engine: AsyncEngine, max_batch_id: int) -> int:
    """Delete events (and their batch rows) of batches after ``max_batch_id``; rows deleted."""
    removed = 0
    async with engine.begin() as conn:
        for table in EVENT_TABLES.values():
            result = await conn.execute(delete(table).where(table.c.batch_id > max_batch_id))
            removed += result.rowcount
        await conn.execute(delete(ingest_batches).where(ingest_batches.c.id > max_batch_id))
    return removed


def _event(kind_slot: int, rng: random.Random) -> dict[str, object]:
    """The kind-specific fields of an event: slots 0-4 launch, 5-8 page view, 9 ad impression."""
    if kind_slot < 5:
        return {"kind": "launch"}
    if kind_slot < 9:
        return {"kind": "pageView", "page": "/bench", "durationMs": rng.randrange(60_000)}
    return {"kind": "adImpression", "valid": True, "revenue": "0.0125"}


async def recent_event_lines(
    engine: AsyncEngine, end_date: dt.date, count: int, *, minutes: int = 30, seed: int = 1
) -> list[bytes]:
    """``count`` new events (5 launches : 4 page views : 1 ad impression) in the last
    ``minutes`` of ``end_date``, with fresh ids, by existing users on existing deployments,
    each user mostly on their own platform and in their own region (their primary ones, as the
    rollups know them), sometimes not."""
    rng = random.Random(seed)
    async with engine.connect() as conn:
        pair_columns = (deployments.c.target_app_id, deployments.c.mini_program_id)
        stmt = select(*pair_columns).distinct().order_by(*pair_columns)
        pairs = (await conn.execute(stmt)).all()
        stmt = select(users.c.uid, users.c.guid).order_by(users.c.uid).limit(50_000)
        people = (await conn.execute(stmt)).all()
        primaries = await read_primaries(conn)
    uids = np.array([uid for uid, _ in people], dtype=np.int64)
    platforms, regions = (primaries[name].of(uids).tolist() for name in ("platform", "region"))
    devices = list(zip(platforms, regions, strict=True))
    end = dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(), dt.UTC)
    stamp = time.time_ns()  # fresh ids on every run: events are idempotent on id
    lines = []
    for i in range(count):
        app, program = rng.choice(pairs)
        at = end - dt.timedelta(seconds=rng.uniform(0.001, minutes * 60))
        person = rng.randrange(len(people))
        common = {"id": f"bench-{stamp}-{i}", "at": at.isoformat(), "targetAppId": app,
                  "miniProgramId": program, "userGuid": people[person][1],
                  **_device(rng, *devices[person])}  # fmt: skip
        # An exact-length copy: orjson's output keeps its 4 KiB write buffer (2.1M lines: 8 GiB).
        lines.append(bytes(memoryview(orjson.dumps({**_event(i % 10, rng), **common}))))
    return lines


def _device(rng: random.Random, platform: int, region: int) -> dict[str, str]:
    """An event's ``platform`` and ``region``: the user's primary ones (codes; ``NONE`` or 0:
    none sent) 9 times in 10, another platform or region otherwise."""
    out = {}
    if rng.random() >= 0.9:
        platform = rng.randrange(1, len(PLATFORMS))
    if platform > 0:
        out["platform"] = platform_name(platform)
    if rng.random() >= 0.95:
        region = region_code(rng.choice(sorted(REGIONS)))
    if region > 0:
        out["region"] = region_name(region)
    return out


async def compact_rollups(engine: AsyncEngine) -> float:
    """``VACUUM FULL`` the rollup tables (a rebuild leaves their old rows as dead space);
    returns the seconds it took."""
    started = time.perf_counter()
    await vacuum(engine, ROLLUP_TABLES, full=True, analyze=True)
    return time.perf_counter() - started


async def rollup_sizes(engine: AsyncEngine) -> tuple[int, int]:
    """Bytes on disk (``pg_total_relation_size``, indexes included) of the rollup tables and
    of the raw event tables."""
    async with engine.connect() as conn:
        rollups = await table_bytes(conn, ROLLUP_TABLES)
        return rollups, await table_bytes(conn, tuple(EVENT_TABLES.values()))


async def full_refresh(engine: AsyncEngine) -> float:
    """Rebuild every rollup; returns the seconds it took (and prints them)."""
    started = time.perf_counter()
    info = await refresh(engine, full=True)
    seconds = time.perf_counter() - started
    print(f"  refresh(full=True): {info.events:,} events in {seconds:.1f}s", flush=True)
    return seconds


async def _build(engine: AsyncEngine, scale: str, seed: int, end_date: dt.date) -> None:
    with step("migrate"):
        await upgrade(engine)
    with step(f"generate + ingest {scale} (seed {seed}, end {end_date})"):
        report = await ingest_lines(
            engine,
            generate_lines(scale, seed=seed, end_date=end_date),
            source=f"bench:{scale}:{seed}:{end_date}",
            pause_gc=True,
        )
    print(f"  ingest: {report.stored:,} stored, {report.duplicates:,} duplicates, "
          f"{report.quarantined:,} quarantined in {report.seconds:.1f}s")  # fmt: skip


async def _repair(engine: AsyncEngine, found: dict[str, object]) -> None:
    """Bring a matching database up to date: migrations, stray events, rollups."""
    stale = await current_revision(engine) != head_revision()
    if stale:
        with step("migrate (newer revision)"):
            await upgrade(engine)
    max_batch = found["max_batch_id"]
    assert isinstance(max_batch, int)
    removed = await remove_after(engine, max_batch)
    if removed:
        print(f"  removed {removed:,} events added after the build", flush=True)
    if stale or removed or await latest_snapshot(engine) is None:
        await full_refresh(engine)


async def ensure_dataset(
    scale: str = "large",
    *,
    seed: int = DEFAULT_SEED,
    end_date: dt.date = DEFAULT_END_DATE,
    database: str | None = None,
    from_database: str | None = None,
) -> Dataset:
    """Make sure ``database`` holds the dataset (see the module docstring); return it."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of: {', '.join(SCALES)}")
    database = database or f"gateway_bench_{scale}"
    url = database_url(database)
    wanted = {"scale": scale, "seed": seed, "end_date": end_date, "generator": GENERATOR_VERSION}
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        exists = await _exists(admin, database)
    finally:
        await admin.close()
    found = None
    if exists:
        engine = create_engine(Settings(database_url=url))
        try:
            found = await _read_marker(engine)
        finally:
            await engine.dispose()
    matches = found is not None and all(found.get(k) == v for k, v in wanted.items())
    print(f"dataset {database}: " + ("reusing" if matches else "building"), flush=True)
    started = time.perf_counter()
    if not matches:
        with step("create database" + (f" from {from_database}" if from_database else "")):
            await recreate(database, from_database)
    engine = create_engine(Settings(database_url=url))
    try:
        if found is not None and matches:
            await _repair(engine, found)
        else:
            if from_database:
                with step("migrate"):
                    await upgrade(engine)
            else:
                await _build(engine, scale, seed, end_date)
            await full_refresh(engine)
            origin = f"copy of {from_database}" if from_database else "generated"
            found = {**wanted, "max_batch_id": await _max_batch(engine), "origin": origin,
                     "built_at": dt.datetime.now(dt.UTC).replace(tzinfo=None)}  # fmt: skip
            await _write_marker(engine, found)
            print(f"  dataset built in {time.perf_counter() - started:.1f}s", flush=True)
    finally:
        await engine.dispose()
    max_batch = found["max_batch_id"]
    assert isinstance(max_batch, int)
    return Dataset(url=url, scale=scale, seed=seed, end_date=end_date, max_batch_id=max_batch)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The dataset options, shared by every benchmark that uses the dataset."""
    parser.add_argument("--scale", default="large", choices=list(SCALES))
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--end-date", type=dt.date.fromisoformat, default=DEFAULT_END_DATE, help="YYYY-MM-DD"
    )
    parser.add_argument("--database", default=None, help="default: gateway_bench_<scale>")
    parser.add_argument(
        "--from-database",
        default=None,
        help="copy this database (same scale/seed/end date) instead of generating",
    )


async def from_args(args: argparse.Namespace) -> Dataset:
    """:func:`ensure_dataset` with the options of :func:`add_arguments`."""
    return await ensure_dataset(
        args.scale,
        seed=args.seed,
        end_date=args.end_date,
        database=args.database,
        from_database=args.from_database,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_arguments(parser)
    return parser.parse_args(argv)


async def main(args: argparse.Namespace) -> None:
    """Ensure the dataset and print where it is."""
    dataset = await from_args(args)
    print(f"ready: {dataset.url} (max batch {dataset.max_batch_id})")


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
