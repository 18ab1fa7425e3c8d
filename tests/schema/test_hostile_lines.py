"""One hostile line never fails an ingest (issue 14.3), and record values are bounded so sums
never wrap (issue 14.8): nesting past the decoder's bound and overlong lines are quarantined,
every other record of the same body judged on its own; the extremes of the bounds add up
exactly after a refresh.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.settings import Settings
from gateway.store import tables as t
from gateway.store.ingest import ingest_lines
from gateway.store.ingest.decode import MAX_LINE_BYTES
from gateway.store.records import MAX_DURATION_MS, MAX_REVENUE_USD
from gateway.store.rollup import refresh
from gateway.web.events import split_records
from tests.schema.event_metrics_support import NOW, execute
from tests.store.ingest_support import ad_impression, catalog, launch, line, lines, page_view

DEEP = b'{"kind": "launch", "id": "deep", "x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
LONG = b'{"kind": "launch", "id": "long", "page": "' + b"a" * (MAX_LINE_BYTES + 1) + b'"}'


async def test_a_deep_or_long_line_is_quarantined_and_the_rest_stored(
    engine: AsyncEngine,
) -> None:
    data = [*lines(catalog()), line(launch("e1")), DEEP, LONG, b"[" * 100_000, line(launch("e2"))]
    report = await ingest_lines(engine, data, source="hostile.jsonl")
    assert report.quarantined_by_reason == {"malformed JSON": 2, "wrong type": 1}  # [[[...
    assert [p.line for p in report.problems] == [7, 8, 9]
    assert "nested too deeply" in report.problems[0].reason
    assert "longer than" in report.problems[1].reason
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(t.launches)) == 2
        raws = (await conn.scalars(select(t.quarantine.c.raw))).all()
    assert len(raws) == 3


def test_a_json_array_with_a_deep_element_is_split_element_by_element() -> None:
    body = b"[" + line(launch("e1")).strip() + b", " + DEEP + b', "]", ' + b"{}]"
    records = split_records(body)
    assert len(records) == 4
    assert records[1] == DEEP
    assert records[2] == b'"]"'


async def test_the_extremes_of_the_bounds_add_up_exactly(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings
) -> None:
    count = 2000
    at = (NOW - dt.timedelta(days=1)).replace(tzinfo=dt.UTC).isoformat()  # YESTERDAY at NOW
    events = [
        *({**page_view(f"p{i}", guid=f"u{i}", duration=MAX_DURATION_MS), "at": at}
          for i in range(count)),
        *({**ad_impression(f"a{i}", revenue=str(MAX_REVENUE_USD)), "at": at}
          for i in range(count)),
        *({**launch(f"l{i}", guid=f"u{i}"), "at": at} for i in range(count)),
    ]  # fmt: skip
    over = [
        page_view("p-over", duration=MAX_DURATION_MS + 1),
        ad_impression("a-over", revenue=str(Decimal(MAX_REVENUE_USD) + Decimal("0.000001"))),
        {**page_view("p-huge"), "durationMs": 2**63 - 1},
    ]
    report = await ingest_lines(engine, lines([*catalog(), *events, *over]), source="extremes")
    assert report.quarantined == 3
    await refresh(engine)
    query = """{ miniProgram(id: "mp1") {
        estimatedAdRevenue(timeRange: {preset: YESTERDAY}) { value }
        averageTimePerUser(timeRange: {preset: YESTERDAY}) { value }
        validAdImpressions(timeRange: {preset: YESTERDAY}) { value } } }"""
    result = await execute(schema, engine, settings, query)
    assert result.errors is None, result.errors
    mp = result.data["miniProgram"]
    assert mp["validAdImpressions"]["value"] == count
    assert mp["estimatedAdRevenue"]["value"] == count * MAX_REVENUE_USD  # exact, never negative
    # Brute force: each of the `count` users spent MAX_DURATION_MS on one page.
    assert mp["averageTimePerUser"]["value"] == MAX_DURATION_MS / 1000
