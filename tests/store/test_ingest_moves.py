"""A catalog move never carries one workspace's events into another (SPEC §2, issue 14.4).

An upsert that moves a target app or a mini program with deployments, or a merchant with mini
programs, to another workspace is quarantined as ``workspace move``; the entity keeps its
workspace. An entity with no ties still moves. The rule holds within one body, across bodies,
through the parallel ingest path's planning and through ``--replay-quarantine``.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store import tables as t
from gateway.store.ingest import ingest_lines, list_quarantine, replay_quarantine
from tests.store.ingest_support import (
    catalog,
    deployment,
    launch,
    lines,
    merchant,
    mini_program,
    target_app,
    workspace,
)

SECOND = [workspace("ws2"), target_app("app2", wid="ws2"), mini_program("mp2", wid="ws2")]


async def _owner(engine: AsyncEngine, table: Any, entity_id: str) -> str:
    async with engine.connect() as conn:
        found = await conn.scalar(select(table.c.workspace_id).where(table.c.id == entity_id))
    assert isinstance(found, str)
    return found


@pytest.mark.parametrize(
    ("move", "table", "entity_id", "kind", "ties"),
    [
        (target_app("app1", wid="ws2"), t.target_apps, "app1", "targetApp", "has deployments"),
        (
            mini_program("mp1", wid="ws2"),
            t.mini_programs,
            "mp1",
            "miniProgram",
            "has deployments",
        ),
        (merchant("m1", wid="ws2"), t.merchants, "m1", "merchant", "has 1 mini program(s)"),
    ],
)
async def test_a_tied_entity_does_not_move(
    engine: AsyncEngine, move: dict[str, Any], table: Any, entity_id: str, kind: str, ties: str
) -> None:
    await ingest_lines(engine, lines([*catalog(), *SECOND, launch("e1")]), source="setup")
    report = await ingest_lines(engine, lines([move, launch("e2")]), source="move")
    assert report.quarantined_by_reason == {"workspace move": 1}
    [problem] = report.problems
    assert (problem.line, problem.kind) == (1, kind)
    assert ties in problem.reason
    assert "'ws1'" in problem.reason
    assert "'ws2'" in problem.reason
    assert await _owner(engine, table, entity_id) == "ws1"
    # Replaying the quarantine does not get around the rule either.
    replayed = await replay_quarantine(engine)
    assert (replayed.stored, replayed.quarantined) == (0, 1)
    assert await _owner(engine, table, entity_id) == "ws1"


async def test_entities_without_ties_still_move(engine: AsyncEngine) -> None:
    free = [target_app("app9"), merchant("m9"), mini_program("mp9")]
    await ingest_lines(engine, lines([*catalog(), *SECOND, *free]), source="setup")
    moves = [
        target_app("app9", wid="ws2"),
        merchant("m9", wid="ws2"),
        mini_program("mp9", wid="ws2"),
    ]
    report = await ingest_lines(engine, lines(moves), source="move")
    assert report.quarantined == 0
    assert await _owner(engine, t.target_apps, "app9") == "ws2"
    assert await _owner(engine, t.merchants, "m9") == "ws2"
    assert await _owner(engine, t.mini_programs, "mp9") == "ws2"


async def test_ties_made_earlier_in_the_same_body_count(engine: AsyncEngine) -> None:
    body = [
        workspace(),
        workspace("ws2"),
        target_app("app1"),
        merchant("m1"),
        mini_program("mp1"),
        deployment("app1", "mp1"),
        target_app("app1", wid="ws2"),  # tied two lines up
        mini_program("mp1", wid="ws2"),
        mini_program("mp3", merchant_id="m1"),
        merchant("m1", wid="ws2"),  # tied by mp3 one line up
    ]
    report = await ingest_lines(engine, lines(body), source="one body")
    assert report.quarantined_by_reason == {"workspace move": 3}
    assert [p.line for p in report.problems] == [7, 8, 10]
    assert len(await list_quarantine(engine)) == 3


async def test_a_merchant_freed_of_its_mini_programs_moves(engine: AsyncEngine) -> None:
    await ingest_lines(engine, lines([*catalog(), *SECOND]), source="setup")
    # mp1 leaves merchant m1 (an upsert without merchantId): m1 has no mini programs left.
    body = [mini_program("mp1"), merchant("m1", wid="ws2")]
    report = await ingest_lines(engine, lines(body), source="move")
    assert report.quarantined == 0
    assert await _owner(engine, t.merchants, "m1") == "ws2"


async def test_no_workspace_reads_another_workspace_events_after_a_move_attempt(
    engine: AsyncEngine,
) -> None:
    await ingest_lines(
        engine, lines([*catalog(), *SECOND, launch("e1"), launch("e2")]), source="setup"
    )
    await ingest_lines(
        engine,
        lines([target_app("app1", wid="ws2"), mini_program("mp1", wid="ws2"), launch("e3")]),
        source="move",
    )
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(t.target_apps.c.workspace_id, t.mini_programs.c.workspace_id)
            .select_from(t.launches)
            .join(t.target_apps, t.target_apps.c.id == t.launches.c.target_app_id)
            .join(t.mini_programs, t.mini_programs.c.id == t.launches.c.mini_program_id)
        )
        owners = list(rows)
    assert len(owners) == 3
    assert all(app_ws == mp_ws == "ws1" for app_ws, mp_ws in owners)
