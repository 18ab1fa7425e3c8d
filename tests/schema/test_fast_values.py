"""The leaf-only completion path (:mod:`gateway.schema.fast_values`) answers exactly as
graphql-core's: the same documents (aliases, ``__typename``, fragments, ``@skip``/``@include``,
enums, dates, nulls, errors) on the same data, with and without it."""

from __future__ import annotations

import random
from typing import Any

import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gateway.context import Context
from gateway.schema import build_schema, fast_values
from gateway.schema.fast_values import FastValuesExecutionContext, _complete
from gateway.settings import Settings
from gateway.store.ingest import ingest_lines
from gateway.store.rollup import refresh
from tests.principals import ADMIN
from tests.schema import user_breakdowns_data as bf
from tests.schema.test_pages import page_views

DOCUMENTS = [
    """query($r: TimeRangeInput!) { workspaces(first: 2) { nodes { id __typename
        activeUsers(timeRange: $r) { value v2: value change changeRate
          series(granularity: WEEK) { __typename date value } }
        retention(cohorts: $r, granularity: WEEK, periods: 3, cohort: ACTIVE_USERS) {
          granularity cohortKind cohorts { start size
            periods { ...P later: start users @include(if: false) } } }
        usersBySource(timeRange: $r) { total items { key count share shareChange } } } } }
    fragment P on RetentionPeriod { offset start users rate complete }""",
    """query($r: TimeRangeInput!) { workspaces(first: 2) { nodes {
      miniPrograms(first: 6) { nodes { id
        pages(timeRange: $r, orderBy: {field: PATH, direction: ASC}) { totalCount
          nodes { path pageViews visitors totalTimeSeconds averageTimePerVisitor }
          pageInfo { hasNextPage endCursor } } } } } } }""",
    """query($r: TimeRangeInput!) { targetApps: workspaces(first: 2) { nodes {
      targetApps(first: 3) { nodes { name createdAt retention(cohorts: $r) { cohorts {
        start periods { users @skip(if: true) rate } } } } } } } }""",
]


async def test_answers_are_those_of_graphql_core(
    schema: strawberry.Schema,
    engine: AsyncEngine,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert schema.execution_context_class is FastValuesExecutionContext
    completed: list[str] = []

    def counting(plan: Any, type_name: str, result: Any) -> dict[str, Any] | None:
        completed.append(type_name)
        return _complete(plan, type_name, result)

    monkeypatch.setattr(fast_values, "_complete", counting)
    slow = build_schema()
    slow.execution_context_class = StrawberryGraphQLCoreExecutionContext
    rng = random.Random(3)
    world, lines = bf.catalog(rng)
    report = await ingest_lines(
        engine, lines + bf.launches(rng, world, 80) + page_views(rng, world, [], 60), source="t"
    )
    assert report.quarantined == 0
    await refresh(engine, now=bf.NOW)
    variables = {"r": {"from": bf.BASE.isoformat(), "to": bf.NOW.date().isoformat()}}
    for document in DOCUMENTS:
        answers: list[Any] = []
        for executable in (schema, slow):
            async with Context.create(engine, settings, now=bf.NOW, principal=ADMIN) as context:
                result = await executable.execute(
                    document, variable_values=variables, context_value=context
                )
            answers.append((result.data, result.errors))
        (fast, fast_errors), (plain, plain_errors) = answers
        assert fast_errors is None, fast_errors
        assert plain_errors is None, plain_errors
        assert fast == plain
        assert fast  # not vacuous
    # the fast path answered the value objects (each document has some)
    assert {"RetentionPeriod", "MetricPoint", "BreakdownItem", "Page"} <= set(completed)


class _Period:
    offset = 1
    users = None


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        (
            (("offset", "offset", int, True), ("users", "users", int, False)),
            {"offset": 1, "users": None},
        ),
        ((("users", "users", int, True),), None),  # null in a non-null field: graphql-core's
        ((("offset", "offset", lambda v: 1 / 0, True),), None),  # a refused value: the same
        ((("t", None, str, True),), {"t": "RetentionPeriod"}),
    ],
)
def test_values_it_cannot_complete_go_to_graphql_core(
    plan: Any, expected: dict[str, Any] | None
) -> None:
    assert _complete(plan, "RetentionPeriod", _Period()) == expected
