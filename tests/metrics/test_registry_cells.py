"""The metric registry, the cell mapping and the pure aggregation (no database)."""

from __future__ import annotations

import dataclasses
import doctest
from datetime import date

import pytest
from pyroaring import BitMap

import gateway.metrics.aggregate
import gateway.metrics.cells
import gateway.metrics.registry
from gateway.domain import DataType, EntityRef, Granularity, MiniProgramType, TypeFilter
from gateway.metrics.aggregate import compare, distinct_users, metric_value
from gateway.metrics.cell_days import CellHistory, DayRollup
from gateway.metrics.cells import (
    ANY,
    CellKey,
    Filters,
    admits,
    cell_of,
    event_cells,
    scope_of,
)
from gateway.metrics.registry import EVENT_METRICS, REGISTRY, Computation
from gateway.metrics.timerange import DateRange


@pytest.mark.parametrize(
    "module", [gateway.metrics.aggregate, gateway.metrics.cells, gateway.metrics.registry]
)
def test_docstring_examples_hold(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0


def test_the_registry_names_every_metric_field_of_the_spec() -> None:
    assert EVENT_METRICS == (
        "activeUsers", "newUsers", "lifetimeUsers", "launches", "pageViews",
        "averageTimePerUser", "validAdImpressions", "estimatedAdRevenue",
    )  # fmt: skip
    assert {"monthlyActiveUsers", "miniProgramCount", "createdMiniPrograms"} <= set(REGISTRY)


def test_every_summed_column_is_a_rollup_column() -> None:
    columns = {f.name for f in dataclasses.fields(DayRollup)}
    for definition in REGISTRY.values():
        assert definition.description.endswith(".")
        if definition.computation in (Computation.SUM, Computation.CUMULATIVE):
            assert definition.column in columns
        if definition.computation is Computation.PER_ACTIVE_USER:
            assert definition.column in columns
            assert definition.needs_bitmaps
    assert not REGISTRY["estimatedAdRevenue"].exact


def test_an_event_counts_in_ten_distinct_cells() -> None:
    cells = event_cells(
        workspace_id="w", app_id="a", mp_id="m", mp_type="MINI_GAME", category="games",
        data_type="PRODUCTION",
    )  # fmt: skip
    assert len(set(cells)) == 10
    filters = Filters(TypeFilter.MINI_GAME, "games", DataType.PRODUCTION)
    everything = Filters()
    workspace, app = EntityRef.workspace("w"), EntityRef.target_app("a", "w")
    for key in (cell_of(workspace, filters), cell_of(workspace, everything)):
        assert key in cells
    assert cell_of(app, Filters(category="games")) in cells
    assert CellKey("app:a", "PRODUCTION", "MINI_GAME", ANY) in cells
    in_app = EntityRef.mini_program("m", "w", merchant_id=None, via="a")
    assert admits(filters, MiniProgramType.MINI_GAME, "games")
    assert cell_of(in_app, filters) in cells
    assert cell_of(EntityRef.mini_program("m", "w", merchant_id="x"), filters) in cells
    assert cell_of(workspace, Filters(data_type=DataType.NON_PRODUCTION)) not in cells


def test_a_mini_program_of_another_type_or_category_is_filtered_out() -> None:
    assert not admits(Filters(type=TypeFilter.MINI_GAME), MiniProgramType.MINI_PROGRAM, "x")
    assert not admits(Filters(category="food"), MiniProgramType.MINI_PROGRAM, "x")
    assert admits(Filters(TypeFilter.MINI_PROGRAM, "x"), MiniProgramType.MINI_PROGRAM, "x")


def test_a_merchant_has_no_rollup_scope() -> None:
    with pytest.raises(ValueError, match="MERCHANT"):
        scope_of(EntityRef.merchant("m", "w"))


def _day(n: int, users: set[int], **sums: int) -> DayRollup:
    return DayRollup(date(2026, 11, n), active_users=len(users), active=BitMap(users), **sums)


def test_worked_example_of_the_registry() -> None:
    days = {
        date(2026, 11, 2): _day(2, {1, 2}, launches=3, duration_ms=90_000, new_users=2,
                                revenue_micros=1_500_000),
        date(2026, 11, 3): _day(3, {2, 3}, launches=2, duration_ms=30_000, new_users=1),
    }  # fmt: skip
    history = CellHistory(date(2026, 10, 31), days, lifetime_before=1)
    span = DateRange(date(2026, 11, 2), date(2026, 11, 3))
    value = {name: metric_value(name, history, span).value for name in EVENT_METRICS}
    assert value["launches"] == 5
    assert value["activeUsers"] == 3
    assert value["newUsers"] == 3
    assert value["lifetimeUsers"] == 4
    assert value["averageTimePerUser"] == 40.0
    assert value["estimatedAdRevenue"] == 1.5
    lifetime = metric_value("lifetimeUsers", history, span, Granularity.DAY)
    assert [p.value for p in lifetime.series] == [3.0, 4.0]
    assert lifetime.previous_value == 1.0


def test_multi_day_distinct_counts_refuse_rows_read_without_bitmaps() -> None:
    rows = {date(2026, 11, d): DayRollup(date(2026, 11, d), active_users=2) for d in (2, 3)}
    history = CellHistory(date(2026, 11, 1), rows)
    assert distinct_users(history, DateRange(date(2026, 11, 2), date(2026, 11, 2))) == 2
    with pytest.raises(ValueError, match="bitmaps"):
        distinct_users(history, DateRange(date(2026, 11, 2), date(2026, 11, 3)))
    with pytest.raises(ValueError, match="before the history"):
        distinct_users(history, DateRange(date(2026, 10, 30), date(2026, 11, 3)))


def test_change_rate_is_null_when_the_previous_value_is_zero() -> None:
    assert compare(5, 0).change_rate is None
    assert compare(0, 0).change == 0
    assert compare(3, 4).change_rate == -0.25
