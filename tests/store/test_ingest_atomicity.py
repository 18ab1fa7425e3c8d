"""A crash mid-ingest leaves whole chunks or nothing; concurrent ingesters do not collide."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.store import tables as t
from gateway.store.ingest import chunk as chunk_module
from gateway.store.ingest import ingest_lines, list_quarantine
from gateway.store.ingest.bulk import write_rows
from tests.store.ingest_support import catalog, count, launch, line, lines, rows


class InjectedCrashError(RuntimeError):
    """Raised in the middle of a chunk's transaction by the test."""


async def test_a_failed_chunk_leaves_nothing_and_earlier_chunks_stay(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ingest_lines(engine, lines(catalog()), source="catalog")
    real_write_rows = write_rows
    launch_writes = 0

    async def crash_on_third_launch_write(
        conn: AsyncConnection, kind: str, rows_: list[Any], *args: Any
    ) -> int:
        nonlocal launch_writes
        if kind == "launch" and rows_:
            launch_writes += 1
            if launch_writes == 3:
                raise InjectedCrashError("disk on fire")
        return await real_write_rows(conn, kind, rows_, *args)

    monkeypatch.setattr(chunk_module, "write_rows", crash_on_third_launch_write)
    data = [
        *lines([launch(f"e{i}") for i in range(6)]),
        *lines([launch("e6"), launch("e7")]),
        line(launch("bad", aid="nope")),  # would be quarantined by the failing chunk
        *lines([launch("e8"), launch("e9"), launch("e10")]),
    ]
    with pytest.raises(InjectedCrashError):
        await ingest_lines(engine, data, source="crash", chunk_size=3)

    assert sorted(e["id"] for e in await rows(engine, t.launches, "id")) == [
        f"e{i}" for i in range(6)
    ]
    batches = [b for b in await rows(engine, t.ingest_batches, "id") if b["source"] == "crash"]
    assert [(b["records"], b["stored"]) for b in batches] == [(3, 3), (3, 3)]
    assert await list_quarantine(engine) == []

    # The same file again, without the fault: the rest arrives, nothing is counted twice.
    monkeypatch.setattr(chunk_module, "write_rows", real_write_rows)
    report = await ingest_lines(engine, data, source="crash", chunk_size=3)
    assert (report.stored, report.duplicates, report.quarantined) == (5, 6, 1)
    assert await count(engine, t.launches) == 11


async def test_concurrent_ingesters_share_users_and_ids(engine: AsyncEngine) -> None:
    await ingest_lines(engine, lines(catalog()), source="catalog")
    first = lines([launch(f"a{i}", guid=f"u{i % 7}") for i in range(40)])
    second = lines([launch(f"a{i}", guid=f"u{i % 11}") for i in range(20, 60)])
    reports = await asyncio.gather(
        ingest_lines(engine, first, source="one", chunk_size=5),
        ingest_lines(engine, second, source="two", chunk_size=5),
    )
    assert sum(r.stored for r in reports) == 60
    # Ids a20..a39 name other users in the second file: conflicting replays, quarantined.
    assert sum(r.quarantined for r in reports) == 20
    assert {p.reason_class for r in reports for p in r.problems} == {"conflicting replay"}
    assert await count(engine, t.launches) == 60
    users = await rows(engine, t.users, "uid")
    assert sorted(u["guid"] for u in users) == sorted(f"u{i}" for i in range(11))
    uid_of = {u["guid"]: u["uid"] for u in users}
    for event in await rows(engine, t.launches, "id"):
        number = int(event["id"][1:])
        expected = f"u{number % 7}" if number < 40 else f"u{number % 11}"
        # Events 20..39 came from either file; both name a user consistently per file.
        if number < 20 or number >= 40:
            assert event["uid"] == uid_of[expected]
