"""The bulk write path on SQLite and PostgreSQL: stored ids probed, replays, the safe fallback."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store import tables as t
from gateway.store.ingest import bulk, ingest_lines
from gateway.store.ingest import run as run_module
from gateway.store.ingest.chunk import drop_stored_events
from gateway.store.ingest.events import EventKey
from tests.store.ingest_support import catalog, count, launch, lines, rows, user


async def test_chunks_mixing_stored_and_new_ids_store_only_the_new(engine: AsyncEngine) -> None:
    await ingest_lines(engine, lines(catalog()), source="catalog")
    await ingest_lines(engine, lines([launch(f"e{i}") for i in range(0, 20, 2)]), source="even")
    # Every chunk of 4 holds stored ids (even) and new ones (odd): after the first conflict
    # the run probes before copying; the last chunk holds stored ids only.
    data = lines([launch(f"e{i}") for i in range(16)] + [launch("e16"), launch("e18")])
    report = await ingest_lines(engine, data, source="all", chunk_size=4)
    assert (report.stored, report.duplicates) == (8, 10)
    stored = [r["id"] for r in await rows(engine, t.launches, "id")]
    assert sorted(stored) == sorted([f"e{i}" for i in range(16)] + ["e16", "e18"])


async def test_replays_of_stored_and_in_flight_chunks_are_skipped(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ingest_lines(engine, lines(catalog()), source="catalog")
    await ingest_lines(engine, lines([launch(f"s{i}") for i in range(4)]), source="stored")
    probes: list[int] = []

    async def counting(*args: Any) -> None:
        probes.append(1)
        await drop_stored_events(*args)

    monkeypatch.setattr(run_module, "drop_stored_events", counting)
    # After the first chunk's conflict the reader probes each chunk; ids of the one or two
    # chunks ahead of it (maybe not committed yet) are skipped as well.
    ids = ["s0", "n0", "n1", "n2", "n3", "n0", "s1", "n4", "n1", "n3", "n5", "s2"]
    ids += ["n6", "n4", "n5", "n7", "s3", "n8", "n2", "n9"]
    report = await ingest_lines(engine, lines([launch(i) for i in ids]), source="t", chunk_size=4)
    assert (report.stored, report.duplicates) == (10, 10)
    stored = {r["id"] for r in await rows(engine, t.launches, "id")}
    assert stored == {f"s{i}" for i in range(4)} | {f"n{i}" for i in range(10)}
    postgres = engine.dialect.name == "postgresql"
    assert bool(probes) == postgres  # SQLite never copies, so never probes


async def test_a_reused_id_within_a_chunk_keeps_the_first_record(engine: AsyncEngine) -> None:
    await ingest_lines(engine, lines([*catalog(), user("u1"), user("u2")]), source="catalog")
    data = lines([launch("e1", guid="u2"), launch("e2"), launch("e1", guid="u1")])
    report = await ingest_lines(engine, data, source="t")
    # The same id for another event is a conflicting replay (SPEC §2): quarantined.
    assert (report.stored, report.duplicates, report.quarantined) == (2, 0, 1)
    uid = {u["guid"]: u["uid"] for u in await rows(engine, t.users, "uid")}
    events = {e["id"]: e["uid"] for e in await rows(engine, t.launches, "id")}
    assert events == {"e1": uid["u2"], "e2": uid["u1"]}


async def test_a_copy_conflicting_after_the_probe_takes_the_safe_path(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ingest_lines(engine, lines(catalog()), source="catalog")
    await ingest_lines(engine, lines([launch("e1"), launch("e3")]), source="first")

    async def blind_probe(conn: object, kind: str, keys: list[EventKey]) -> set[EventKey]:
        del conn, kind, keys
        return set()  # as if another ingester stored e1 and e3 between probe and COPY

    monkeypatch.setattr(bulk, "stored_keys", blind_probe)
    data = lines([launch(f"e{i}") for i in range(5)])
    report = await ingest_lines(engine, data, source="second", chunk_size=5)
    assert (report.stored, report.duplicates) == (3, 2)
    assert await count(engine, t.launches) == 5


async def test_users_upserted_in_bulk_keep_the_later_record(engine: AsyncEngine) -> None:
    records = [user(f"u{i}", source="wallet") for i in range(30)]
    records += [user(f"u{i}", source="ads") for i in range(0, 30, 3)]
    await ingest_lines(engine, lines(records), source="users", chunk_size=7)
    sources = {u["guid"]: u["source"] for u in await rows(engine, t.users, "uid")}
    assert sources == {f"u{i}": "ads" if i % 3 == 0 else "wallet" for i in range(30)}
