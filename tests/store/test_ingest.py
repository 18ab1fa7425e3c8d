"""Ingestion (SPEC §2) on SQLite and PostgreSQL: storage, upserts, duplicates, users, batches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from sqlalchemy import DateTime, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.domain import DeploymentStatus
from gateway.store import tables as t
from gateway.store.ingest import ingest_lines
from tests.store.ingest_support import (
    ad_impression,
    catalog,
    count,
    deployment,
    launch,
    line,
    lines,
    page_view,
    rows,
    target_app,
    user,
    workspace,
)


async def test_catalog_and_events_are_stored(engine: AsyncEngine) -> None:
    records = [*catalog(), launch("e1"), page_view("p1", duration=2500), ad_impression("a1")]
    report = await ingest_lines(engine, lines(records), source="t")
    assert (report.records, report.stored, report.duplicates, report.quarantined) == (8, 8, 0, 0)
    assert report.stored_by_kind == {
        "workspace": 1,
        "targetApp": 1,
        "merchant": 1,
        "miniProgram": 1,
        "deployment": 1,
        "launch": 1,
        "pageView": 1,
        "adImpression": 1,
    }
    [pv] = await rows(engine, t.page_views, "id")
    assert (pv["duration_ms"], pv["page"], pv["target_app_id"]) == (2500, "/home", "app1")
    [ad] = await rows(engine, t.ad_impressions, "id")
    assert (ad["valid"], ad["revenue_micros"]) == (True, 250_000)
    [mp] = await rows(engine, t.mini_programs, "id")
    assert (mp["merchant_id"], mp["category"], mp["source"]) == ("m1", "food_beverage", "wallet")


async def test_timestamps_are_stored_as_naive_utc(engine: AsyncEngine) -> None:
    records = [*catalog(), launch("e1", at="2024-05-01T23:30:00.250-02:00")]
    await ingest_lines(engine, lines(records), source="t")
    [event] = await rows(engine, t.launches, "id")
    assert event["at"] == datetime(2024, 5, 2, 1, 30, 0, 250_000, tzinfo=UTC)
    async with engine.connect() as conn:  # on disk: naive UTC, read past the column type
        stored = await conn.scalar(select(type_coerce(t.launches.c.at, DateTime())))
    assert stored == datetime(2024, 5, 2, 1, 30, 0, 250_000)


async def test_events_may_precede_their_catalog_within_a_chunk(engine: AsyncEngine) -> None:
    records = [launch("e1"), *catalog()]
    report = await ingest_lines(engine, lines(records), source="t")
    assert report.quarantined == 0
    assert await count(engine, t.launches) == 1


async def test_blank_lines_are_skipped_but_numbered(engine: AsyncEngine) -> None:
    data = [line(workspace()), b"\n", b"   \r\n", b"", line(target_app("app1", wid="nope"))]
    report = await ingest_lines(engine, data, source="t")
    assert (report.records, report.stored, report.quarantined) == (2, 1, 1)
    assert [p.line for p in report.problems] == [5]


async def test_duplicate_events_within_and_across_chunks(engine: AsyncEngine) -> None:
    await ingest_lines(engine, lines(catalog()), source="catalog")
    events = [launch("e1"), launch("e2"), launch("e1"), page_view("e1"), launch("e3"), launch("e2")]
    report = await ingest_lines(engine, lines(events), source="t", chunk_size=3)
    assert (report.stored, report.duplicates) == (4, 2)  # ids are unique per event kind
    assert await count(engine, t.launches) == 3
    assert await count(engine, t.page_views) == 1


async def test_replaying_a_whole_file_stores_nothing_new(engine: AsyncEngine) -> None:
    events = [launch(f"e{i}", guid=f"u{i % 3}") for i in range(10)] + [ad_impression("a1")]
    data = lines([*catalog(), *events])
    await ingest_lines(engine, data, source="t", chunk_size=4)
    again = await ingest_lines(engine, data, source="t", chunk_size=4)
    assert again.duplicates == len(events)
    assert again.stored_by_kind.get("launch", 0) == 0
    assert again.stored_by_kind.get("adImpression", 0) == 0
    assert await count(engine, t.launches) == 10
    assert await count(engine, t.users) == 3
    assert await count(engine, t.deployments) == 1


async def test_later_catalog_record_wins_within_a_chunk(engine: AsyncEngine) -> None:
    data = lines([workspace(name="First"), workspace(name="Second"), workspace(name="Third")])
    await ingest_lines(engine, data, source="t")
    assert [w["name"] for w in await rows(engine, t.workspaces, "id")] == ["Third"]


async def test_later_catalog_record_wins_across_chunks(engine: AsyncEngine) -> None:
    data = lines([workspace(), target_app(name="Old"), target_app(name="New")])
    await ingest_lines(engine, data, source="t", chunk_size=1)
    [app] = await rows(engine, t.target_apps, "id")
    assert app["name"] == "New"
    await ingest_lines(engine, lines([target_app(name="Newest")]), source="t2")
    [app] = await rows(engine, t.target_apps, "id")
    assert app["name"] == "Newest"


async def test_deployment_history_is_kept(engine: AsyncEngine) -> None:
    history = [
        deployment(status="DEVELOPING", at="2024-01-01T00:00:00Z"),
        deployment(status="REVIEWING", at="2024-01-05T00:00:00Z"),
        deployment(status="FULL_RELEASE", at="2024-01-09T00:00:00Z"),
        deployment(status="OFFLINE", at="2024-01-09T00:00:00Z"),  # same instant: later wins
    ]
    await ingest_lines(engine, lines([*catalog()[:4], *history]), source="t")
    stored = await rows(engine, t.deployments, "at")
    assert [d["status"] for d in stored] == [
        DeploymentStatus.DEVELOPING,
        DeploymentStatus.REVIEWING,
        DeploymentStatus.OFFLINE,
    ]


async def test_users_get_dense_ids_and_source_from_user_records(engine: AsyncEngine) -> None:
    records = [
        *catalog(),
        user("u2", source="merchant"),
        launch("e1", guid="u1"),
        launch("e2", guid="u2"),
        launch("e3", guid="u3"),
        launch("e4", guid="u1"),
    ]
    await ingest_lines(engine, lines(records), source="t")
    await ingest_lines(engine, lines([user("u3", source="alipay_plus")]), source="t2")
    stored = {u["guid"]: u for u in await rows(engine, t.users, "uid")}
    assert sorted(u["uid"] for u in stored.values()) == [1, 2, 3]
    assert {g: u["source"] for g, u in stored.items()} == {
        "u1": None,
        "u2": "merchant",
        "u3": "alipay_plus",
    }
    events = await rows(engine, t.launches, "id")
    assert [e["uid"] for e in events] == [stored[g]["uid"] for g in ("u1", "u2", "u3", "u1")]


async def test_each_chunk_writes_one_batch_row(engine: AsyncEngine) -> None:
    data = lines([*catalog(), *(launch(f"e{i}") for i in range(5)), launch("e0")])
    await ingest_lines(engine, data, source="file.jsonl", chunk_size=4)
    batches = await rows(engine, t.ingest_batches, "id")
    assert [(b["records"], b["stored"], b["duplicates"]) for b in batches] == [
        (4, 4, 0),
        (4, 4, 0),
        (3, 2, 1),
    ]
    assert {b["source"] for b in batches} == {"file.jsonl"}
    events = await rows(engine, t.launches, "id")
    # e0..e2 came with the second chunk, e3 and e4 with the third (whose e0 was a repeat).
    assert [e["batch_id"] for e in events] == [batches[1]["id"]] * 3 + [batches[2]["id"]] * 2


async def test_async_iterable_input(engine: AsyncEngine) -> None:
    async def produce() -> AsyncIterator[bytes]:
        for data in lines([*catalog(), launch("e1"), launch("e2")]):
            yield data

    report = await ingest_lines(engine, produce(), source="t", chunk_size=2)
    assert (report.stored, report.batches) == (7, 4)


async def test_progress_reports_lines_read(engine: AsyncEngine) -> None:
    seen: list[int] = []
    await ingest_lines(engine, lines(catalog()), source="t", chunk_size=2, on_progress=seen.append)
    assert seen == [2, 4, 5]
