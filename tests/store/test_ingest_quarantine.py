"""Bad input (SPEC §2): every reason class is reported with its line and quarantined."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store import tables as t
from gateway.store.ingest import ingest_lines, list_quarantine, replay_quarantine
from tests.store.ingest_support import (
    ad_impression,
    catalog,
    count,
    deployment,
    launch,
    line,
    lines,
    merchant,
    mini_program,
    page_view,
    rows,
    target_app,
    workspace,
)

OTHER_WORKSPACE = [
    workspace("ws2"),
    target_app("app2", wid="ws2"),
    merchant("m2", wid="ws2"),
    mini_program("mp2", wid="ws2"),
]


def _without(record: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != key}


BAD: list[tuple[str, bytes, str | None]] = [
    ("malformed JSON", b'{"kind":"launch","id":', None),
    ("malformed JSON", b"not json at all", None),
    ("unknown kind", line({"kind": "click", "id": "x"}), "click"),
    ("missing field", line(_without(launch("e9"), "userGuid")), "launch"),
    ("missing field", line(_without(launch("e9"), "kind")), None),
    ("wrong type", line({**launch("e9"), "targetAppId": 7}), "launch"),
    ("wrong type", b"[1, 2]", None),
    ("negative duration", line(page_view("p9", duration=-5)), "pageView"),
    ("bad revenue", line(ad_impression("a9", revenue="-0.5")), "adImpression"),
    ("bad revenue", line(ad_impression("a9", revenue="0.0000001")), "adImpression"),
    ("bad revenue", line(ad_impression("a9", revenue="lots")), "adImpression"),
    ("invalid value", line({**launch("e9"), "dataType": "STAGING"}), "launch"),
    ("invalid value", line({**launch("e9"), "at": "2024-05-01T10:00:00"}), "launch"),
    ("invalid value", line(page_view("p9")).replace(b"1500", str(2**64).encode()), "pageView"),
    ("bad revenue", line(ad_impression("a9", revenue="1e30")), "adImpression"),
    ("invalid value", line({**launch("e9"), "platform": "BLACKBERRY"}), "launch"),
    ("invalid value", line({**page_view("p9"), "platform": "unknown"}), "pageView"),
    ("invalid value", line({**launch("e9"), "region": "ZZ"}), "launch"),
    ("invalid value", line({**ad_impression("a9"), "region": "SGP"}), "adImpression"),
    ("wrong type", line({**launch("e9"), "region": 65}), "launch"),
    ("invalid value", line(launch("e9", at="0001-01-01T00:00:00+05:00")), "launch"),
    (
        "invalid value",
        line({**target_app("app9"), "createdAt": "9999-12-31T23:00:00-05:00"}),
        "targetApp",
    ),
    ("unknown workspace", line(target_app("app9", wid="nope")), "targetApp"),
    ("unknown workspace", line(merchant("m9", wid="nope")), "merchant"),
    ("unknown workspace", line(mini_program("mp9", wid="nope")), "miniProgram"),
    ("unknown merchant", line(mini_program("mp9", merchant_id="nope")), "miniProgram"),
    ("workspace mismatch", line(mini_program("mp9", merchant_id="m2")), "miniProgram"),
    ("unknown targetApp", line(deployment(aid="nope")), "deployment"),
    ("unknown miniProgram", line(deployment(pid="nope")), "deployment"),
    ("workspace mismatch", line(deployment(aid="app1", pid="mp2")), "deployment"),
    ("unknown targetApp", line(launch("e9", aid="nope")), "launch"),
    ("unknown miniProgram", line(launch("e9", pid="nope")), "launch"),
    ("workspace mismatch", line(launch("e9", aid="app2", pid="mp1")), "launch"),
    # Ids are 1 to 128 of [A-Za-z0-9_.:@/-] (SPEC §2): keys may then never be confused.
    ("bad id", line(launch("e;9")), "launch"),
    ("bad id", line({**launch("e9"), "userGuid": "u 1"}), "launch"),
    ("bad id", line({**launch("e9"), "userGuid": ""}), "launch"),
    ("bad id", line({**launch("e9"), "miniProgramId": "mp1|x"}), "launch"),
    ("bad id", line(workspace("w" * 129)), "workspace"),
    ("bad id", line({**target_app("app9"), "workspaceId": "ws1\u001f"}), "targetApp"),
    ("bad id", line({**mini_program("mp9"), "merchantId": "m\u00e9"}), "miniProgram"),
    ("bad id", line({"kind": "user", "guid": "g#1", "source": "wallet"}), "user"),
    ("bad id", line(deployment(aid="app1;SUPER_ADMIN")), "deployment"),
]


@pytest.mark.parametrize(("reason_class", "bad", "kind"), BAD)
async def test_bad_record_is_quarantined_and_the_rest_stored(
    engine: AsyncEngine, reason_class: str, bad: bytes, kind: str | None
) -> None:
    data = [*lines([*catalog(), *OTHER_WORKSPACE, launch("e1")]), bad, line(launch("e2"))]
    report = await ingest_lines(engine, data, source="in.jsonl")
    assert report.quarantined == 1
    assert report.quarantined_by_reason == {reason_class: 1}
    [problem] = report.problems
    assert (problem.line, problem.kind, problem.reason_class) == (11, kind, reason_class)
    assert problem.reason  # a sentence naming what is wrong
    assert report.stored == 11
    assert await count(engine, t.launches) == 2
    [stored] = await list_quarantine(engine)
    assert (stored.source, stored.line, stored.kind, stored.attempts) == ("in.jsonl", 11, kind, 1)
    assert (stored.reason, stored.raw) == (problem.reason, bad.decode().rstrip("\n"))


async def test_text_unfit_for_the_database_is_quarantined_not_raised(engine: AsyncEngine) -> None:
    nul = line({**launch("e9"), "targetAppId": "a\u0000b"})
    valid_but_nul = line(launch("e\u0000"))
    data = [*lines(catalog()), nul, b"\xff\xfe\x00garbage\n", line({"kind": "\u0000" * 100})]
    report = await ingest_lines(engine, [*data, valid_but_nul, line(launch("e1"))], source="t")
    assert report.quarantined == 4
    assert report.problems[-1].reason_class == "bad id"
    assert len(await list_quarantine(engine)) == 4
    assert await count(engine, t.launches) == 1


async def test_list_quarantine_is_oldest_first_and_limited(engine: AsyncEngine) -> None:
    data = lines([launch(f"e{i}", aid="nope") for i in range(5)])
    await ingest_lines(engine, data, source="t")
    listed = await list_quarantine(engine, limit=3)
    assert [q.line for q in listed] == [1, 2, 3]


async def test_replay_stores_records_once_their_catalog_arrives(engine: AsyncEngine) -> None:
    await ingest_lines(engine, lines(catalog()), source="catalog")
    late = [launch("e1", aid="app2", pid="mp2"), launch("e2", aid="app2", pid="mp2")]
    await ingest_lines(engine, [*lines(late), b"garbage\n"], source="events")

    first = await replay_quarantine(engine)
    assert (first.records, first.stored, first.quarantined) == (3, 0, 3)
    assert [q.attempts for q in await list_quarantine(engine)] == [2, 2, 2]

    await ingest_lines(engine, lines(OTHER_WORKSPACE[:2]), source="catalog2")
    second = await replay_quarantine(engine)
    assert (second.records, second.stored, second.quarantined) == (3, 0, 3)
    [app_problem] = [p for p in second.problems if p.kind == "launch"][:1]
    assert app_problem.reason_class == "unknown miniProgram"  # the new reason is recorded
    assert {q.reason for q in await list_quarantine(engine)} >= {app_problem.reason}

    await ingest_lines(engine, lines(OTHER_WORKSPACE[2:]), source="catalog3")
    third = await replay_quarantine(engine, chunk_size=2)
    assert (third.records, third.stored, third.quarantined) == (3, 2, 1)
    assert [e["id"] for e in await rows(engine, t.launches, "id")] == ["e1", "e2"]
    [left] = await list_quarantine(engine)
    assert (left.raw, left.attempts, left.source, left.line) == ("garbage", 4, "events", 3)


async def test_replay_of_an_already_stored_event_empties_the_quarantine(
    engine: AsyncEngine,
) -> None:
    await ingest_lines(engine, lines([launch("e1", aid="app1")]), source="early")
    await ingest_lines(engine, lines([*catalog(), launch("e1")]), source="late")
    report = await replay_quarantine(engine)
    assert (report.stored, report.duplicates, report.quarantined) == (0, 1, 0)
    assert await list_quarantine(engine) == []


async def test_problems_report_the_raw_kind_and_reason_in_json(engine: AsyncEngine) -> None:
    bad = orjson.dumps({"kind": "pageView", "id": "p", "durationMs": "long"})
    report = await ingest_lines(engine, [bad], source="t")
    [problem] = report.problems
    assert problem.kind == "pageView"
    assert problem.reason_class in {"missing field", "wrong type"}
