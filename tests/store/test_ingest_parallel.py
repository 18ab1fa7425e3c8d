"""The parallel ingest (worker processes, PostgreSQL) stores exactly what the serial one does."""

from __future__ import annotations

import io
import random
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.settings import Settings
from gateway.store import tables as t
from gateway.store.db import create_engine
from gateway.store.ingest import IngestReport, ingest_lines
from gateway.store.ingest.parallel import choose_workers
from tests.store.ingest_support import (
    ad_impression,
    catalog,
    launch,
    line,
    mini_program,
    page_view,
    rows,
    target_app,
    user,
    workspace,
)

Snapshot = dict[str, Any]


@pytest.fixture
async def pg(pg_engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The session's PostgreSQL database, emptied (the parallel path needs PostgreSQL)."""
    await _empty(pg_engine)
    yield pg_engine
    await _empty(pg_engine)


async def _empty(engine: AsyncEngine) -> None:
    names = ", ".join(f'"{table.name}"' for table in t.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def _event(rng: random.Random, eid: str) -> dict[str, Any]:
    guid = f"u{rng.randrange(25)}"
    kind = rng.randrange(3)
    if kind == 0:
        record = launch(eid, guid)
    elif kind == 1:
        record = page_view(eid, guid)
    else:
        record = ad_impression(eid, guid)
    record["targetAppId"] = rng.choice(["app1", "app1", "app2", "app3"])
    record["miniProgramId"] = rng.choice(["mp1", "mp2"])
    return record


def dataset(seed: int, size: int = 360, *, changes: bool = True) -> list[bytes]:
    """Random lines: events with replays and reused ids, bad lines, users, catalog changes.

    With ``changes``, a target app appears mid-way (events naming it before are quarantined)
    and another one moves to a second workspace (its events become inconsistent from then on).
    """
    rng = random.Random(seed)
    out = [line(r) for r in [*catalog(), workspace("ws2"), target_app("app2")]]
    out.append(line(mini_program("mp2")))
    sent: list[bytes] = []
    for i in range(size):
        roll = rng.random()
        if changes and i == size // 3:
            out.append(line(target_app("app3")))
        elif changes and i == 2 * size // 3:
            out.append(line(target_app("app2", wid="ws2")))
        elif roll < 0.05:
            out.append(rng.choice([b"{broken\n", b'{"kind":"launch"}\n', b"\n", b"[1]\n"]))
        elif roll < 0.12:
            out.append(line(user(f"u{rng.randrange(40)}", source=rng.choice(["wallet", "ads"]))))
        elif roll < 0.2 and sent:
            out.append(rng.choice(sent))  # a replay, byte for byte
        elif roll < 0.24 and sent:
            out.append(line(_event(rng, f"e{rng.randrange(i)}")))  # an id reused: first wins
        else:
            sent.append(line(_event(rng, f"e{i}")))
            out.append(sent[-1])
    return out


async def snapshot(engine: AsyncEngine, report: IngestReport, progress: list[int]) -> Snapshot:
    """What a run left: its report, and every table (uids as guids: they may differ)."""
    users = await rows(engine, t.users, "uid")
    guid = {u["uid"]: u["guid"] for u in users}
    events = {}
    for kind, table in t.EVENT_TABLES.items():
        stored = await rows(engine, table, "id")
        events[kind] = [{**e, "uid": guid[e["uid"]]} for e in stored]
    batches = await rows(engine, t.ingest_batches, "id")
    quarantine = await rows(engine, t.quarantine, "line")
    return {
        "report": (
            report.records,
            report.stored_by_kind,
            report.duplicates,
            report.quarantined_by_reason,
            [(p.line, p.kind, p.reason_class, p.reason) for p in report.problems],
            report.batches,
        ),
        "progress": progress,
        "events": events,
        "users": sorted((u["guid"], u["source"], u["source_batch_id"]) for u in users),
        "apps": await rows(engine, t.target_apps, "id"),
        "batches": [
            (b["id"], b["records"], b["stored"], b["duplicates"], b["quarantined"]) for b in batches
        ],
        "quarantine": [(q["line"], q["kind"], q["reason"], q["raw"]) for q in quarantine],
    }


async def run(engine: AsyncEngine, data: Any, workers: int, chunk_size: int) -> Snapshot:
    progress: list[int] = []
    report = await ingest_lines(
        engine,
        data,
        source="data.jsonl",
        chunk_size=chunk_size,
        on_progress=progress.append,
        workers=workers,
    )
    return await snapshot(engine, report, progress)


@pytest.mark.parametrize(("seed", "as_stream"), [(1, False), (2, True), (3, True)])
async def test_parallel_ingest_matches_the_serial_one(
    pg: AsyncEngine, seed: int, as_stream: bool
) -> None:
    data = dataset(seed)
    serial = await run(pg, data, workers=0, chunk_size=9)
    await _empty(pg)
    source: Any = io.BufferedReader(io.BytesIO(b"".join(data))) if as_stream else data
    parallel = await run(pg, source, workers=2, chunk_size=9)
    assert parallel == serial
    # The data really exercises what matters: replays, bad lines, users, catalog changes.
    duplicates, by_reason = serial["report"][2], serial["report"][3]
    assert duplicates > 10
    assert {"malformed JSON", "unknown targetApp", "workspace mismatch"} <= set(by_reason)
    assert serial["users"]
    assert serial["progress"][-1] == len(data)


async def test_an_id_whose_first_record_turns_bad_is_stored_from_a_later_chunk(
    pg: AsyncEngine,
) -> None:
    # Chunk 2 is planned while chunk 1 (which moves app2 to another workspace) is not yet
    # committed: it believes "x" stored, and says so to the worker of chunk 3. Re-planned in
    # its turn, chunk 2 quarantines "x"; chunk 3 must then store its own "x".
    setup = [*catalog(), workspace("ws2"), target_app("app2"), mini_program("mp2")]
    fillers = [launch(f"f{i}", guid=f"u{i % 9}") for i in range(147)]
    moved = target_app("app2", wid="ws2")
    first_x = {**launch("x", guid="u1"), "targetAppId": "app2", "miniProgramId": "mp2"}
    data = [line(r) for r in [*fillers[:49], moved, first_x, *fillers[49:98]]]
    data += [line(r) for r in [launch("x", guid="u2"), *fillers[98:]]]
    results = []
    for workers in (0, 2):
        await _empty(pg)
        await ingest_lines(pg, [line(r) for r in setup], source="setup")
        results.append(await run(pg, data, workers=workers, chunk_size=50))
    serial, parallel = results
    assert parallel == serial
    stored_x = [e for e in serial["events"]["launch"] if e["id"] == "x"]
    assert [(e["target_app_id"], e["uid"]) for e in stored_x] == [("app1", "u2")]
    assert [q[0] for q in serial["quarantine"]] == [51]


async def test_a_second_run_counts_everything_as_duplicates(pg: AsyncEngine) -> None:
    data = dataset(4, size=120, changes=False)
    first = await run(pg, data, workers=2, chunk_size=10)
    again = await run(pg, data, workers=2, chunk_size=10)
    assert again["events"] == first["events"]
    stored_events = sum(len(events) for events in first["events"].values())
    assert again["report"][2] == first["report"][2] + stored_events


FAIL_ON_BOOM = (
    """
    CREATE FUNCTION fail_on_boom() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.id = 'boom' THEN RAISE EXCEPTION 'disk on fire'; END IF;
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER fail_on_boom BEFORE INSERT ON launches"
    " FOR EACH ROW EXECUTE FUNCTION fail_on_boom()",
)
"""A database failure in the middle of a run: storing the launch ``boom`` fails."""


async def test_a_failure_mid_run_leaves_whole_chunks_only(pg: AsyncEngine) -> None:
    data = [line(r) for r in catalog()]  # 5 lines: chunk 1
    data += [line(launch(f"e{i}", guid=f"u{i}")) for i in range(20)]  # chunks 2-5
    data[12] = b"{broken\n"  # a bad line in a chunk that commits
    data += [line(launch("boom")), b"{broken too\n", line(launch("e99"))]  # chunk 6 fails
    data += [line(launch(f"f{i}")) for i in range(30)]  # chunks the workers prepare meanwhile
    async with pg.begin() as conn:
        for statement in FAIL_ON_BOOM:
            await conn.execute(text(statement))
    try:
        with pytest.raises(Exception, match="disk on fire"):
            await ingest_lines(pg, data, source="crash", chunk_size=5, workers=2)
    finally:
        async with pg.begin() as conn:
            await conn.execute(text("DROP TRIGGER fail_on_boom ON launches"))
            await conn.execute(text("DROP FUNCTION fail_on_boom()"))
    batches = await rows(pg, t.ingest_batches, "id")
    assert [(b["records"], b["stored"], b["quarantined"]) for b in batches] == [
        (5, 5, 0),
        (5, 5, 0),
        (5, 4, 1),
        (5, 5, 0),
        (5, 5, 0),
    ]
    assert [e["id"] for e in await rows(pg, t.launches, "id")] == sorted(
        f"e{i}" for i in range(20) if i != 7
    )
    assert [q["line"] for q in await rows(pg, t.quarantine, "line")] == [13]

    report = await ingest_lines(pg, data, source="crash", chunk_size=5, workers=2)
    assert (report.stored, report.duplicates, report.quarantined) == (5 + 32, 19, 2)
    assert report.stored_by_kind == {
        "workspace": 1,
        "targetApp": 1,
        "merchant": 1,
        "miniProgram": 1,
        "deployment": 1,
        "launch": 32,
    }


def test_workers_are_chosen_for_large_inputs_on_postgresql(pg_engine: AsyncEngine) -> None:
    lines = [b"{}"] * 50
    count, rest = choose_workers(pg_engine, lines, workers=None, pause_gc=True, chunk_size=10)
    assert count >= 2
    assert isinstance(rest, Iterable)
    assert list(rest) == lines  # the lines read to decide are not lost
    count, rest = choose_workers(pg_engine, lines, workers=None, pause_gc=True, chunk_size=25)
    assert count == 0  # two chunks at most: not worth the start-up
    assert rest == lines
    count, _ = choose_workers(pg_engine, lines, workers=None, pause_gc=False, chunk_size=10)
    assert count == 0  # a server process keeps its ingests in-process
    count, _ = choose_workers(pg_engine, lines, workers=3, pause_gc=False, chunk_size=10)
    assert count == 3


def test_sqlite_always_ingests_in_process(tmp_path: Path) -> None:
    engine = create_engine(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    lines = [orjson.dumps({}) for _ in range(100)]
    assert choose_workers(engine, lines, workers=4, pause_gc=True, chunk_size=10)[0] == 0
