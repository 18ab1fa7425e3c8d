"""Query cost: exact for known documents, refused just past GATEWAY_MAX_QUERY_COST, never run,
reported in ``extensions.cost`` (cached answers included)."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from graphql import FragmentDefinitionNode, GraphQLSchema, OperationDefinitionNode, parse

from gateway.limits.cost import CostWalker, coerce_variables
from gateway.schema import build_schema
from gateway.settings import Settings
from gateway.web.graphql import DEFAULT_QUERY
from tests.limits.conftest import Serve
from tests.limits.support import codes, errors

TODAY = dt.date(2026, 12, 3)


@cache
def _schema() -> GraphQLSchema:
    return build_schema()._schema


def cost(document: str, variables: dict[str, Any] | None = None, today: dt.date = TODAY) -> int:
    """The cost of ``document``'s only operation, as the limit computes it."""
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    coerced = coerce_variables(_schema(), operation, variables)
    assert coerced is not None
    return CostWalker(_schema(), fragments, coerced, today).operation(operation)


WEEK_METRICS = """{ workspaces(first: 10) { nodes { name
    activeUsers(timeRange: {preset: LAST_7_DAYS}) { value series { value } } } } }"""


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{ snapshot { id takenAt } }", 1),
        ("{ __typename snapshot { id } }", 1),
        # the page 1, each workspace 1, its totals 1, a point per day 7: 1 + 10 + 10 + 70
        (WEEK_METRICS, 91),
        # no series: a metric is one bucket per entity
        (
            "{ workspaces(first: 10) { nodes { launches(timeRange: {preset: TODAY}) { value } } } "
            "}",
            21,
        ),
        # first omitted or null: 50 items; over 100: counted as 100 (refused when resolved)
        ("{ workspaces { nodes { id } } }", 51),
        ("{ workspaces(first: null) { nodes { id } } }", 51),
        ("{ workspaces(first: 1000) { nodes { id } } }", 101),
        (
            "{ workspaces(first: 0) { nodes { id launches(timeRange: {preset: TODAY}) { value } } "
            "} }",
            1,
        ),
        # totalCount is a count query; edges wrap their node; pageInfo is free
        (
            "{ workspaces(first: 5) { totalCount pageInfo { hasNextPage } "
            "edges { node { id } } } }",
            7,
        ),
        # November 2026: 30 days, 6 ISO weeks (Sunday 1st .. Monday 30th), 1 month
        (
            """{ workspace(id: "w") {
               d: pageViews(timeRange: {from: "2026-11-01", to: "2026-11-30"})
               { series(granularity: DAY) { value } }
               w: pageViews(timeRange: {from: "2026-11-01", to: "2026-11-30"})
               { series(granularity: WEEK) { value } }
               m: pageViews(timeRange: {from: "2026-11-01", to: "2026-11-30"})
               { value series(granularity: MONTH) { value } } } }""",
            1 + (1 + 30) + (1 + 6) + (1 + 1),
        ),
        (
            '{ workspace(id: "w") { monthlyActiveUsers(from: "2026-01", to: "2026-06") { value } '
            "} }",
            7,
        ),
        (
            '{ targetApp(id: "t") { usersBySource(timeRange: {preset: TODAY}) { items { key } } '
            "} }",
            4,
        ),
        ("{ __schema { types { fields { type { fields { name } } } } } }", 1),
    ],
)
def test_cost_of_known_documents(document: str, expected: int) -> None:
    assert cost(document) == expected


def test_duplicated_fields_merge_but_aliases_add() -> None:
    one = "activeUsers(timeRange: {preset: LAST_7_DAYS}) { value series { value } }"
    assert cost(f"{{ workspaces(first: 10) {{ nodes {{ {one} {one} {one} }} }} }}") == 91
    aliased = f"{{ workspaces(first: 10) {{ nodes {{ {one} b: {one} }} }} }}"
    assert cost(aliased) == 91 + 80


def test_fragments_count_where_spread_and_skipped_fields_do_not() -> None:
    document = """query ($skip: Boolean!) {
      a: workspaces(first: 2) { nodes { ...M } }
      b: workspaces(first: 3) { nodes { ...M } }
      c: workspaces(first: 4) @skip(if: $skip) { nodes { ...M } }
      d: workspaces(first: 5) @include(if: false) { nodes { ...M } }
    }
    fragment M on Workspace { newUsers(timeRange: {preset: YESTERDAY}) { value } }"""
    # a: 1 + 2 + 2, b: 1 + 3 + 3
    assert cost(document, {"skip": True}) == 5 + 7
    assert cost(document, {"skip": False}) == 5 + 7 + 9


def test_variables_are_resolved() -> None:
    document = """query ($n: Int, $r: TimeRangeInput!, $g: Granularity!) {
      workspaces(first: $n) {
        nodes { launches(timeRange: $r) { series(granularity: $g) { value } } } }
    }"""
    week = {"preset": "LAST_7_DAYS"}
    assert cost(document, {"n": 3, "r": week, "g": "DAY"}) == 1 + 3 + 3 * (1 + 7)
    month = {"from": "2026-11-01", "to": "2026-11-30"}
    assert cost(document, {"n": 4, "r": month, "g": "WEEK"}) == 1 + 4 + 4 * (1 + 6)
    # An invalid range is refused when resolved: its series count as one point.
    future = {"from": "2027-01-01", "to": "2027-01-30"}
    assert cost(document, {"n": 4, "r": future, "g": "DAY"}) == 1 + 4 + 4 * (1 + 1)


def test_graphiqls_default_query_is_within_the_default_limit() -> None:
    assert 1000 < cost(DEFAULT_QUERY) <= 5000


BOUND = """query ($w: Int, $k: Int) { snapshot { id } %s
  workspaces(first: $w) { nodes { targetApps(first: $k) { nodes { id } } } } }"""
"""1 (snapshot) + 1 (the page) + w × (1 + 1 + k): 5000 with w = 98, k = 49."""


async def test_cost_at_the_default_bound_runs_and_just_past_it_is_refused_unexecuted(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    variables = {"w": 98, "k": 49}
    at = await client.post(
        "/graphql", json={"query": BOUND % "", "variables": variables}, headers=admin
    )
    past = await client.post(
        "/graphql",
        json={"query": BOUND % "again: snapshot { id }", "variables": variables},
        headers=admin,
    )
    assert codes(at) == []
    assert at.json()["extensions"]["cost"] == 5000
    assert codes(past) == ["QUERY_TOO_COMPLEX"]
    assert errors(past)[0]["message"] == "the operation costs 5001; the limit is 5000"
    assert errors(past)[0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "cost": 5001,
        "limit": 5000,
    }
    assert past.json()["data"] is None
    assert past.json()["extensions"]["cost"] == 5001
    assert len(executions) == 1


async def test_the_cost_follows_the_variables(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    query = BOUND % ""
    cheap = await client.post(
        "/graphql", json={"query": query, "variables": {"w": 2, "k": 3}}, headers=admin
    )
    dear = await client.post(
        "/graphql", json={"query": query, "variables": {"w": 98, "k": 50}}, headers=admin
    )
    assert cheap.json()["extensions"]["cost"] == 2 + 2 * 5
    assert errors(dear)[0]["extensions"]["cost"] == 2 + 98 * 52
    assert len(executions) == 1


async def test_cost_refusal_is_a_request_error_under_graphql_response_json(
    serve: Serve, admin: dict[str, str], executions: list[str]
) -> None:
    headers = {**admin, "Accept": "application/graphql-response+json"}
    async with serve(max_query_cost=10) as http:
        at = await http.post(
            "/graphql", json={"query": "{ workspaces(first: 9) { nodes { id } } }"}, headers=headers
        )
        past = await http.post(
            "/graphql",
            json={"query": "{ workspaces(first: 10) { nodes { id } } }"},
            headers=headers,
        )
    assert at.status_code == 200
    assert at.json()["extensions"]["cost"] == 10
    assert past.status_code == 400
    assert "data" not in past.json()
    assert codes(past) == ["QUERY_TOO_COMPLEX"]
    assert len(executions) == 1


async def test_a_cached_answer_reports_the_cost_of_its_request(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    body = {"query": WEEK_METRICS}
    answers = [await client.post("/graphql", json=body, headers=admin) for _ in range(3)]
    hits = [a.json()["extensions"]["cache"]["hit"] for a in answers]
    assert hits == [False, True, True]  # the third from the fast path
    assert [a.json()["extensions"]["cost"] for a in answers] == [91, 91, 91]
    assert len(executions) == 1


def test_the_readmes_example_queries_are_within_the_default_limit() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    documents = [orjson.loads(q) for q in re.findall(r'"query": ("(?:[^"\\]|\\.)*")', readme)]
    assert documents  # the /export example at least
    month = {"range": {"preset": "LAST_30_DAYS"}}
    for document in documents:
        assert cost(document, month) <= Settings().max_query_cost, document


async def test_an_execution_without_a_context_is_costed_with_the_defaults() -> None:
    # A tool introspecting the schema runs it without the gateway's Context.
    result = await build_schema().execute("{ __schema { queryType { name } } }")
    assert result.errors is None
    assert result.data == {"__schema": {"queryType": {"name": "Query"}}}
    assert result.extensions == {"cost": 1}
