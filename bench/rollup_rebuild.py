"""Rollup refresh: a full rebuild of N events, then an incremental refresh of 1% more.

Loads a generated dataset straight into a fresh PostgreSQL database (``gateway_bench_rollup``)
with COPY (not timed): 2 workspaces, 20 target apps, 2,000 mini programs, ``--events / 10``
users, 120 days, launches / page views / ad impressions mixed 5:4:1. Then times
``refresh(full=True)`` and an incremental ``refresh()`` after one more batch of 1% of the events
(a tenth of them late, dated up to 30 days back). SPEC §9's bar: 10M events rebuild in under
2 minutes; an incremental refresh costs what its new events cost.

With ``--database NAME`` it uses an existing, ingested PostgreSQL database instead (e.g. a copy
of the ``large`` dataset: ``CREATE DATABASE gateway_rebuild_large TEMPLATE gateway_large``): it
times ``refresh(full=True)``, then adds one batch of ``--extra`` events copied from random stored
ones (with random users) and dated in the last 30 minutes of the data (launches / page views /
ad impressions 35:52:13, like the generated datasets), and times the incremental ``refresh()``.

Example:
    $ python -m bench rebuild --events 1000000
    $ python -m bench rebuild --database gateway_rebuild_large --extra 2000
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import datetime, timedelta

import asyncpg
import numpy as np
from sqlalchemy import Date, Integer, cast, func, insert, literal, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.domain import MiniProgramType
from gateway.settings import Settings
from gateway.store import tables as t
from gateway.store.db import create_engine
from gateway.store.migrate import upgrade
from gateway.store.partitions import ensure_days
from gateway.store.rollup import Snapshot, refresh

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "gateway_bench_rollup"
APPS, PROGRAMS, DAYS = 20, 2_000, 120
START = datetime(2026, 7, 1)


async def _recreate() -> str:
    admin = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    finally:
        await admin.close()
    return make_url(PG_ADMIN_URL).set(database=PG_DATABASE).render_as_string(False)


async def _catalog(settings: Settings, users: int) -> None:
    engine = create_engine(settings)
    await upgrade(engine)
    at = START - timedelta(days=1)
    async with engine.begin() as conn:
        await conn.execute(insert(t.workspaces), [{"id": f"w{i}", "name": "w"} for i in range(2)])
        apps = [{"id": f"a{i}", "workspace_id": f"w{i % 2}", "name": "a", "created_at": at}
                for i in range(APPS)]  # fmt: skip
        await conn.execute(insert(t.target_apps), apps)
        types = list(MiniProgramType)
        mps = [{"id": f"m{i}", "workspace_id": f"w{i % 2}", "merchant_id": None, "name": "m",
                "type": types[i % 3 == 0], "category": f"c{i % 12}", "source": "s",
                "created_at": at} for i in range(PROGRAMS)]  # fmt: skip
        await conn.execute(insert(t.mini_programs), mps)
    await engine.dispose()
    pg = await asyncpg.connect(make_url(settings.database_url).set(drivername="postgresql")
                               .render_as_string(False))  # fmt: skip
    try:
        rows = ((uid, f"u{uid}") for uid in range(1, users + 1))
        await pg.copy_records_to_table("users", records=rows, columns=["uid", "guid"])
    finally:
        await pg.close()


async def _events(url: str, n: int, users: int, batch: int, seed: int, late: bool) -> None:
    rng = np.random.default_rng(seed)
    mp = rng.integers(0, PROGRAMS, n)
    app = (rng.integers(0, APPS // 2, n) * 2 + mp % 2).tolist()  # an app of the mp's workspace
    uid = rng.integers(1, users + 1, n).tolist()
    day = (
        rng.integers(0, DAYS, n)
        if not late
        else DAYS - 1 - rng.integers(0, 30, n) * (rng.random(n) < 0.1)
    )
    at = [START + timedelta(days=int(d), seconds=int(s))
          for d, s in zip(day, rng.integers(0, 86_400, n), strict=True)]  # fmt: skip
    dt = np.where(rng.random(n) < 0.9, "PRODUCTION", "NON_PRODUCTION").tolist()
    kind = rng.choice(10, n)
    engine = create_engine(Settings(database_url=url))
    await ensure_days(engine, {moment.date() for moment in at})
    await engine.dispose()
    pg = await asyncpg.connect(url)
    try:
        await pg.execute(
            "INSERT INTO ingest_batches (id, source, committed_at, records, stored, duplicates,"
            " quarantined, first_day, last_day) VALUES ($1, 'bench', now(), $2, $2, 0, 0, $3, $4)",
            batch, n, min(at).date(), max(at).date(),
        )  # fmt: skip
        common = ["id", "batch_id", "at", "day", "target_app_id", "mini_program_id", "uid",
                  "data_type"]  # fmt: skip
        for name, keep, extra, values in (
            ("launches", kind < 5, [], lambda i: ()),
            ("page_views", (kind >= 5) & (kind < 9), ["duration_ms"], lambda i: (i * 7 % 60_000,)),
            ("ad_impressions", kind == 9, ["valid", "revenue_micros"],
             lambda i: (i % 3 > 0, i % 5 * 1000)),
        ):  # fmt: skip
            rows = [(f"{batch}-{i}", batch, at[i], at[i].date(), f"a{app[i]}", f"m{mp[i]}",
                     uid[i], dt[i], *values(i)) for i in np.flatnonzero(keep).tolist()]  # fmt: skip
            await pg.copy_records_to_table(name, records=rows, columns=common + extra)
    finally:
        await pg.close()


async def _recent_batch(settings: Settings, n: int) -> None:
    """One more ingest batch: ``n`` stored events copied, dated in the data's last 30 minutes."""
    engine = create_engine(settings)
    async with engine.begin() as conn:
        batch = ((await conn.execute(select(func.max(t.ingest_batches.c.id)))).scalar() or 0) + 1
        end = (await conn.execute(select(func.max(t.launches.c.at)))).scalar()
        assert end is not None
        floor = max(end - timedelta(minutes=30), end.replace(hour=0, minute=0, second=0))
        top = (await conn.execute(select(func.max(t.users.c.uid)))).scalar() or 1
        uid = cast(func.floor(func.random() * top) + 1, Integer)  # mostly new to the cells
        values = {"source": "bench", "committed_at": datetime.now(), "records": n, "stored": n}
        await conn.execute(insert(t.ingest_batches).values(id=batch, **values, duplicates=0,
                                                           quarantined=0, first_day=end.date(),
                                                           last_day=end.date()))  # fmt: skip
        for table, share in ((t.launches, 35), (t.page_views, 52), (t.ad_impressions, 13)):
            copied = [c for c in table.c if c.name not in ("id", "batch_id", "at", "day", "uid")]
            # Within the last stored day: its partition exists.
            at = literal(end, t.launches.c.at.type) - func.random() * (end - floor)
            key = func.concat(f"bench{batch}-", table.c.id)
            rows = select(key, literal(batch), at, cast(at, Date), uid, *copied)
            rows = rows.order_by(func.random()).limit(n * share // 100)
            names = ["id", "batch_id", "at", "day", "uid", *(c.name for c in copied)]
            await conn.execute(insert(table).from_select(names, rows))
    await engine.dispose()


async def _timed(engine: AsyncEngine, *, full: bool) -> tuple[Snapshot, float]:
    started, cpu = time.perf_counter(), time.process_time()
    info = await refresh(engine, full=full)
    wall = time.perf_counter() - started
    kind = "full rebuild" if full else "incremental"
    print(f"{kind}: {info.events:,} events in {wall:.2f}s (process CPU "
          f"{time.process_time() - cpu:.2f}s, {info.events / wall:,.0f} events/s)")  # fmt: skip
    return info, wall


async def existing(database: str, extra: int) -> None:
    """Time a full rebuild of ``database``, then an incremental refresh of ``extra`` events."""
    url = make_url(PG_ADMIN_URL).set(drivername="postgresql+asyncpg", database=database)
    settings = Settings(database_url=url.render_as_string(False))
    engine = create_engine(settings)
    await upgrade(engine)
    await _timed(engine, full=True)
    await _recent_batch(settings, extra)
    await _timed(engine, full=False)
    await engine.dispose()


async def generated(events: int) -> None:
    """Load, then time a full rebuild and an incremental refresh; print both and their ratio."""
    url = await _recreate()
    settings = Settings(database_url=url)
    users = max(events // 10, 10)
    await _catalog(settings, users)
    await _events(url, events, users, batch=1, seed=1, late=False)
    engine = create_engine(settings)
    started = time.perf_counter()
    full = await refresh(engine, full=True)
    full_s = time.perf_counter() - started
    print(f"full rebuild: {full.events:,} events in {full_s:.1f}s "
          f"({full.events / full_s:,.0f} events/s)")  # fmt: skip
    extra = max(events // 100, 1)
    await _events(url, extra, users, batch=2, seed=2, late=True)
    started = time.perf_counter()
    inc = await refresh(engine)
    inc_s = time.perf_counter() - started
    print(f"incremental: {inc.events:,} events in {inc_s:.2f}s "
          f"({inc_s / full_s:.1%} of the full rebuild for 1% of the events)")  # fmt: skip
    await engine.dispose()


SMOKE = ("--events", "5000")
"""The smoke run's arguments (``python -m bench smoke``): the smallest load that exercises both."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database", help="an existing ingested PostgreSQL database to use")
    parser.add_argument("--extra", type=int, default=2_000, help="events of the incremental batch")
    return parser.parse_args(argv)


async def main(args: argparse.Namespace) -> None:
    """Time the rebuild of an existing database (``--database``) or of a generated one."""
    await (existing(args.database, args.extra) if args.database else generated(args.events))


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
