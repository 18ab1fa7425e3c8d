"""Bad metric input answers BAD_USER_INPUT with a message saying what to fix; the rest of the
response still arrives. Also: the metric fields and ``metricDefinitions`` follow the registry."""

from __future__ import annotations

import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.metrics.registry import EVENT_METRICS, REGISTRY
from gateway.settings import Settings
from tests.metrics.engine_support import MiniProgram
from tests.schema import event_metrics_support as sup

MPS = {"m0": MiniProgram("m0", "w0", "MINI_GAME", "games")}

RANGES = [
    ('{from: "2026-11-01", to: "2026-11-13"}', "timeRange.to (2026-11-13) is after today"),
    ('{from: "2026-11-05", to: "2026-11-01"}', "is after timeRange.to"),
    ('{from: "2026-01-01", to: "2026-11-01"}', "at most 90 are allowed"),
    ('{preset: TODAY, days: 3, endDate: "2026-11-01"}', "give exactly one of"),
    ("{days: 3}", "days and endDate go together"),
    ('{days: 0, endDate: "2026-11-01"}', "timeRange.days must be between 1 and 90"),
    ("{}", "give exactly one of"),
]

MONTHS = [
    ('"2026-13"', '"2026-11"', "from must be a month as YYYY-MM, not '2026-13'"),
    ('"2026-1"', '"2026-11"', "from must be a month as YYYY-MM"),
    ('"2026-10"', '"November"', "to must be a month as YYYY-MM"),
    ('"2026-11"', '"2026-10"', "from (2026-11) is after to (2026-10)"),
    ('"2026-10"', '"2026-12"', "to (2026-12) is after the current month (2026-11)"),
    ('"2024-01"', '"2026-11"', "35 months asked; at most 24 are allowed"),
]


def _assert_bad_input(result: object, path: list[str | int], message: str) -> None:
    errors = getattr(result, "errors", None)
    assert errors is not None
    assert len(errors) == 1, errors
    assert errors[0].extensions == {"code": "BAD_USER_INPUT"}
    assert message in errors[0].message
    assert errors[0].path == path
    data = getattr(result, "data", None)
    assert data is not None
    assert data["ok"]["name"] == "W0"  # the rest of the response arrived


@pytest.mark.parametrize(("time_range", "message"), RANGES)
async def test_bad_ranges_are_bad_user_input(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings, time_range: str,
    message: str,
) -> None:  # fmt: skip
    await sup.ingest(engine, sup.catalog_lines(MPS))
    query = f"""{{ ok: workspace(id: "w0") {{ name }} workspace(id: "w0") {{
      launches(timeRange: {time_range}) {{ value }} }} }}"""
    result = await sup.execute(schema, engine, settings, query)
    _assert_bad_input(result, ["workspace", "launches"], message)


@pytest.mark.parametrize(("first", "last", "message"), MONTHS)
async def test_bad_months_are_bad_user_input(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings, first: str, last: str,
    message: str,
) -> None:  # fmt: skip
    await sup.ingest(engine, sup.catalog_lines(MPS))
    query = f"""{{ ok: workspace(id: "w0") {{ name }} workspace(id: "w0") {{
      monthlyActiveUsers(from: {first}, to: {last}) {{ month value }} }} }}"""
    result = await sup.execute(schema, engine, settings, query)
    _assert_bad_input(result, ["workspace", "monthlyActiveUsers"], message)


async def test_a_filter_excluding_a_mini_program_still_checks_the_range(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings
) -> None:
    await sup.ingest(engine, sup.catalog_lines(MPS))
    query = """{
      ok: miniProgram(id: "m0") { launches(timeRange: {preset: YESTERDAY}, type: MINI_PROGRAM) {
        value series { value } } }
      bad: miniProgram(id: "m0") {
        launches(timeRange: {days: 91, endDate: "2026-11-01"}, type: MINI_PROGRAM) { value } } }"""
    result = await sup.execute(schema, engine, settings, query)
    assert result.errors is not None
    assert len(result.errors) == 1
    assert "between 1 and 90" in result.errors[0].message
    assert result.data["bad"] == {"launches": None}  # the nullable metric alone is null
    assert result.data["ok"]["launches"] == {"value": 0, "series": [{"value": 0}]}


async def test_metric_definitions_are_the_registry(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings
) -> None:
    query = "{ metricDefinitions { name description unit exact } }"
    result = await sup.execute(schema, engine, settings, query)
    assert result.errors is None, result.errors
    assert result.data["metricDefinitions"] == [
        {"name": d.name, "description": d.description, "unit": d.unit, "exact": d.exact}
        for d in REGISTRY.values()
    ]


def test_every_level_carries_every_event_metric(schema: strawberry.Schema) -> None:
    for type_name in ("Workspace", "TargetApp", "MiniProgram"):
        graphql_type = schema._schema.type_map[type_name]
        fields = graphql_type.fields  # type: ignore[attr-defined]
        for name in (*EVENT_METRICS, "monthlyActiveUsers"):
            assert name in fields, (type_name, name)
            assert REGISTRY[name].description in (fields[name].description or "")
        for name in EVENT_METRICS:
            args = list(fields[name].args)
            assert args == ["timeRange", "type", "dataType", "category"], (type_name, name)


@pytest.mark.parametrize("category", ["*", "Food Beverage", "x" * 65])
async def test_a_category_that_is_not_a_slug_is_bad_user_input(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings, category: str
) -> None:
    # "*" is the rollups' internal wildcard: it must not silently mean "every category".
    await sup.ingest(engine, sup.catalog_lines(MPS))
    query = """query($c: String) { miniProgram(id: "m0") {
        launches(timeRange: {preset: YESTERDAY}, category: $c) { value } } }"""
    result = await sup.execute(schema, engine, settings, query, {"c": category})
    assert result.errors is not None
    [error] = result.errors
    assert error.extensions == {"code": "BAD_USER_INPUT"}
    assert "slug" in error.message
    assert result.data == {"miniProgram": {"launches": None}}
