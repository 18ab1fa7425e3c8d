"""Catalog metrics (SPEC §4) against a brute force over random catalogs, on both backends.

``miniProgramCount``, ``createdMiniPrograms``, ``merchantOnboarding`` and the mini program
breakdowns of every workspace and app, for random ranges (all three input forms), types and
categories, at a fixed ``now``; expected values come from :mod:`tests.schema.catalog_metrics_data`.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any

import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.context import Context
from gateway.settings import Settings
from gateway.store import tables
from tests.principals import ADMIN
from tests.schema import catalog_metrics_data as bf
from tests.schema.catalog_data import data, insert_catalog
from tests.schema.catalog_metrics_expect import Expect, random_range

METRIC = """fragment M on Metric { value previousValue change changeRate
    day: series { date value } week: series(granularity: WEEK) { date value }
    month: series(granularity: MONTH) { date value } }
fragment B on Breakdown { total previousTotal items {
    key count share previousCount previousShare countChange shareChange } }
fragment C on MerchantCounts { all { ...M } technical { ...M } nonTechnical { ...M } }"""

QUERY = (
    """query($r: TimeRangeInput!, $type: MiniProgramTypeFilter, $cat: String) {
  workspaces { nodes { id
    createdMiniPrograms(timeRange: $r, type: $type, category: $cat) { ...M }
    merchantOnboarding(timeRange: $r) { newMerchants { ...C } totalMerchants { ...C }
      series { date newTechnical cumulativeTechnical newNonTechnical cumulativeNonTechnical } }
    miniProgramsBySource(timeRange: $r, type: $type, category: $cat) { ...B }
    miniProgramsByCategory(timeRange: $r, type: $type) { ...B }
    targetApps { nodes { id
      miniProgramCount(timeRange: $r, type: $type, category: $cat) { ...M }
      miniProgramsBySource(timeRange: $r, type: $type, category: $cat) { ...B }
      miniProgramsByCategory(timeRange: $r, type: $type) { ...B } } } } } }
"""
    + METRIC
)


async def _run(
    schema: strawberry.Schema,
    engine: AsyncEngine,
    settings: Settings,
    query: str,
    variables: dict[str, Any],
) -> Any:
    context = Context.create(engine, settings, now=bf.NOW, principal=ADMIN)
    return await schema.execute(query, variable_values=variables, context_value=context)


@pytest.mark.parametrize("seed", [11, 22, 33])
async def test_catalog_metrics_match_brute_force(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings, seed: int
) -> None:
    rng = random.Random(seed)
    rows = bf.random_catalog(rng, workspaces=2, apps_per_workspace=3, mini_programs=40)
    await bf.insert(engine, rows)
    expect = Expect(rows)
    for _ in range(6):
        time_range, span = random_range(rng)
        type_ = rng.choice([None, "ALL", "MINI_PROGRAM", "MINI_GAME"])
        category = rng.choice([None, *bf.CATEGORIES])
        variables = {"r": time_range, "type": type_, "cat": category}
        result = await _run(schema, engine, settings, QUERY, variables)
        assert result.errors is None, result.errors
        expected = [
            expect.workspace(w["id"], span, type_, category) for w in rows[tables.workspaces]
        ]
        for got, want in zip(result.data["workspaces"]["nodes"], expected, strict=True):
            assert got == want, (variables, got["id"])


async def test_nothing_associated_yet_counts_zero(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings
) -> None:
    # Everything happens after the range: zeros, null change rates, empty breakdowns.
    rows = bf.random_catalog(random.Random(5), workspaces=1, apps_per_workspace=1, mini_programs=5)
    await bf.insert(engine, rows)
    variables = {"r": {"from": "2025-01-01", "to": "2025-01-03"}, "type": None, "cat": None}
    result = await _run(schema, engine, settings, QUERY, variables)
    assert result.errors is None, result.errors
    [ws] = result.data["workspaces"]["nodes"]
    app = ws["targetApps"]["nodes"][0]
    for metric in (ws["createdMiniPrograms"], app["miniProgramCount"]):
        assert (metric["value"], metric["previousValue"], metric["changeRate"]) == (0.0, 0.0, None)
        assert [p["value"] for p in metric["day"]] == [0.0, 0.0, 0.0]
    empty = {"total": 0, "previousTotal": 0, "items": []}
    assert app["miniProgramsBySource"] == empty == ws["miniProgramsByCategory"]


async def test_hand_checked_mini_program_count(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings
) -> None:
    await insert_catalog(engine)
    # app-1's first deployments: mp-1 Mar 1, mp-2 Mar 2, mp-3 Mar 3, mp-4 Mar 4 (all 00:00).
    query = """{ targetApp(id: "app-1") {
        miniProgramCount(timeRange: {from: "2024-03-03", to: "2024-03-04"}) {
          value previousValue change changeRate series { date value } }
        games: miniProgramCount(timeRange: {days: 1, endDate: "2024-03-03"}, type: MINI_GAME) {
          value previousValue }
        miniProgramsBySource(timeRange: {from: "2024-03-03", to: "2024-03-04"}) {
          total previousTotal items { key count share previousCount previousShare } } } }"""
    result = await data(schema, engine, settings, query)
    app = result["targetApp"]
    assert app["miniProgramCount"] == {
        "value": 4.0,
        "previousValue": 2.0,
        "change": 2.0,
        "changeRate": 1.0,
        "series": [{"date": "2024-03-03", "value": 3.0}, {"date": "2024-03-04", "value": 4.0}],
    }
    assert app["games"] == {"value": 1.0, "previousValue": 1.0}  # mp-2, since Mar 2
    # mp-1 wallet, mp-2 merchant, mp-3 alipay_plus, mp-4 wallet; previous (Mar 1-2): mp-1, mp-2.
    assert app["miniProgramsBySource"] == {
        "total": 4,
        "previousTotal": 2,
        "items": [
            {"key": "wallet", "count": 2, "share": 0.5, "previousCount": 1, "previousShare": 0.5},
            {
                "key": "alipay_plus",
                "count": 1,
                "share": 0.25,
                "previousCount": 0,
                "previousShare": 0.0,
            },
            {
                "key": "merchant",
                "count": 1,
                "share": 0.25,
                "previousCount": 1,
                "previousShare": 0.5,
            },
        ],
    }


BAD_RANGES = [
    (
        {"from": "2026-06-10", "to": "2026-06-16"},
        "timeRange.to (2026-06-16) is after today (2026-06-15, UTC)",
    ),
    ({"preset": "LAST_7_DAYS", "days": 3}, "timeRange: give exactly one of"),
    ({"days": 91, "endDate": "2026-06-01"}, "timeRange.days must be between 1 and 90, not 91"),
    (
        {"from": "2026-01-01", "to": "2026-05-01"},
        "timeRange spans 121 days; at most 90 are allowed",
    ),
    (
        {"from": "2026-05-02", "to": "2026-05-01"},
        "timeRange.from (2026-05-02) is after timeRange.to",
    ),
]


@pytest.mark.parametrize(
    "field",
    [
        'workspace(id: "ws-0") { createdMiniPrograms(timeRange: $r) { value } }',
        'workspace(id: "ws-0") { merchantOnboarding(timeRange: $r) { series { date } } }',
        'workspace(id: "ws-0") { miniProgramsBySource(timeRange: $r) { total } }',
        'targetApp(id: "app-0-0") { miniProgramCount(timeRange: $r) { value } }',
        'targetApp(id: "app-0-0") { miniProgramsByCategory(timeRange: $r) { total } }',
    ],
)
async def test_bad_time_range_is_bad_user_input(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings, field: str
) -> None:
    await bf.insert(engine, bf.random_catalog(random.Random(1), 1, 1, 3))
    query = f"query($r: TimeRangeInput!) {{ {field} }}"
    for time_range, message in BAD_RANGES:
        result = await _run(schema, engine, settings, query, {"r": time_range})
        assert result.errors is not None, time_range
        [error] = result.errors
        assert message in error.message
        assert error.extensions == {"code": "BAD_USER_INPUT"}
        # The metric is nullable (a FORBIDDEN one nulls only itself), so is a bad input.
        parent, inner = re.findall(r"(\w+)\(", field)[:2]
        assert result.data == {parent: {inner: None}}


def test_brute_force_buckets_are_clipped_iso_weeks_and_months() -> None:
    # The brute force's own bucketing, checked by hand: 2026-05-28 (Thu) .. 2026-06-09 (Tue).
    first, last = dt.date(2026, 5, 28), dt.date(2026, 6, 9)
    weeks = bf.buckets(first, last, "WEEK")
    assert weeks == [
        (dt.date(2026, 5, 28), dt.date(2026, 5, 31)),
        (dt.date(2026, 6, 1), dt.date(2026, 6, 7)),
        (dt.date(2026, 6, 8), dt.date(2026, 6, 9)),
    ]
    assert bf.buckets(first, last, "MONTH") == [
        (first, dt.date(2026, 5, 31)),
        (dt.date(2026, 6, 1), last),
    ]
