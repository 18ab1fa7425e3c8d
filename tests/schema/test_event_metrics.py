"""Event metrics through GraphQL equal a brute force over the raw events, on both backends.

Random data (mini programs of both types, events of both data types, late events in later
batches, replayed duplicates) goes through the real ingester and ``refresh``; after each batch,
random queries ask every metric at every level (workspace, target app, mini program across
apps and inside an app) with random ranges (all three forms), filters and granularities, and
every value, previous value, change, rate, series point and monthly entry must equal
:mod:`tests.metrics.bruteforce`.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import strawberry
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.domain import Granularity
from gateway.metrics.timerange import DateRange
from gateway.settings import Settings
from gateway.store.rollup import refresh
from tests.metrics import bruteforce as bf
from tests.metrics.engine_support import (
    APPS,
    BASE,
    CATEGORIES,
    DATA_TYPES,
    DAYS,
    TYPES,
    Dataset,
    Event,
    MiniProgram,
    clear,
    datasets,
)
from tests.schema import event_metrics_support as sup

EXAMPLES = settings(
    max_examples=int(os.environ.get("GATEWAY_TEST_GRAPHQL_EXAMPLES", "8")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: each step is slow
)

TODAY = sup.NOW.date()


@st.composite
def time_ranges(draw: st.DrawFn) -> tuple[dict[str, Any], DateRange]:
    """A ``TimeRangeInput`` in one of its three forms, and the range it means at NOW."""
    form = draw(st.sampled_from(["preset", "days", "custom"]))
    if form == "preset":
        preset, back = draw(st.sampled_from([
            ("TODAY", (0, 0)), ("YESTERDAY", (1, 1)), ("LAST_7_DAYS", (7, 1)),
            ("LAST_15_DAYS", (15, 1)), ("LAST_30_DAYS", (30, 1)),
        ]))  # fmt: skip
        span = DateRange(TODAY - dt.timedelta(back[0]), TODAY - dt.timedelta(back[1]))
        return {"preset": preset}, span
    end = BASE + dt.timedelta(days=draw(st.integers(-2, min(DAYS + 2, (TODAY - BASE).days))))
    days = draw(st.integers(1, 18))
    span = DateRange(end - dt.timedelta(days=days - 1), end)
    if form == "days":
        return {"days": days, "endDate": end.isoformat()}, span
    return {"from": span.start.isoformat(), "to": end.isoformat()}, span


def _query(app: str, mp: str, ws: str) -> str:
    fields = sup.metric_fields()
    return f"""query({sup.VARIABLES}) {{
  workspace(id: "{ws}") {{ {fields} }}
  targetApp(id: "{app}") {{ {fields}
    miniPrograms(first: 100) {{ nodes {{ id {fields} }} }} }}
  miniProgram(id: "{mp}") {{ {fields} }}
}}"""


def _expected(
    ds: Dataset, events: list[Any], filters: tuple[Any, ...], span: DateRange, g: str,
    ids: tuple[str, str, str],
) -> dict[str, Any]:  # fmt: skip
    app, mp, ws = ids
    buckets = span.buckets(Granularity[g])
    mps = ds.mini_programs

    def entity(scope: bf.Scope) -> dict[str, Any]:
        return sup.expected_entity(events, bf.Query(scope, *filters), mps, span, buckets)

    in_app = sorted(m for m, p in mps.items() if p.workspace == APPS[app])
    return {
        "workspace": entity(("ws", ws)),
        "targetApp": {
            **entity(("app", app)),
            "miniPrograms": {"nodes": [{"id": m, **entity(("appmp", app, m))} for m in in_app]},
        },
        "miniProgram": entity(("mp", mp)),
    }


async def _check_queries(
    schema: strawberry.Schema, engine: AsyncEngine, app_settings: Settings,
    ds: Dataset, events: list[Any], data: st.DataObject,
) -> None:  # fmt: skip
    for _ in range(2):
        time_range, span = data.draw(time_ranges())
        type_ = data.draw(st.sampled_from([None, *TYPES]))
        category = data.draw(st.sampled_from([None, *CATEGORIES]))
        data_type = data.draw(st.sampled_from(DATA_TYPES))
        granularity = data.draw(st.sampled_from([g.name for g in Granularity]))
        app = data.draw(st.sampled_from(sorted(APPS)))
        ids = (app, data.draw(st.sampled_from(sorted(ds.mini_programs))), APPS[app])
        variables = {"r": time_range, "t": type_, "d": data_type, "c": category,
                     "g": granularity}  # fmt: skip
        result = await sup.execute(schema, engine, app_settings, _query(*ids), variables)
        assert result.errors is None, result.errors
        want = _expected(ds, events, (type_, category, data_type), span, granularity, ids)
        assert sup.approx_equal(result.data, want), (variables, ids, result.data, want)


@EXAMPLES
@given(ds=datasets(max_events=60), data=st.data())
async def test_event_metrics_equal_brute_force(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings, ds: Dataset,
    data: st.DataObject,
) -> None:  # fmt: skip
    await clear(engine)
    await sup.ingest(engine, sup.catalog_lines(ds.mini_programs))
    ingested: list[Any] = []
    for batch in ds.batches:
        # Replays of earlier events ride along: idempotent ids, counted once.
        replayed = data.draw(st.lists(st.sampled_from(ingested), max_size=5)) if ingested else []
        await sup.ingest(engine, [sup.event_line(e) for e in [*batch, *replayed]])
        ingested += batch
        await refresh(engine)
        await _check_queries(schema, engine, settings, ds, ingested, data)


SNAPSHOT_QUERY = """{ snapshot { id takenAt nextRefreshAt timeZone }
  workspace(id: "w0") { activeUsers(timeRange: {preset: LAST_30_DAYS}) {
    value previousValue series { value } } } }"""


async def test_metrics_are_zero_before_the_first_refresh(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings
) -> None:
    mps = {"m0": MiniProgram("m0", "w0", TYPES[0], CATEGORIES[0])}
    at = dt.datetime(2026, 11, 1, 12)
    events = [Event(f"e{i}", "launch", "a0", "m0", i, "PRODUCTION", at) for i in range(1, 4)]
    await sup.ingest(engine, sup.catalog_lines(mps))
    await sup.ingest(engine, [sup.event_line(e) for e in events])
    result = await sup.execute(schema, engine, settings, SNAPSHOT_QUERY)
    assert result.errors is None, result.errors
    assert result.data["snapshot"] == {
        "id": "0", "takenAt": None, "nextRefreshAt": None, "timeZone": "UTC"
    }  # fmt: skip
    metric = result.data["workspace"]["activeUsers"]
    assert metric["value"] == metric["previousValue"] == 0
    assert [p["value"] for p in metric["series"]] == [0] * 30

    info = await refresh(engine, now=dt.datetime(2026, 11, 12, 8, 0))
    result = await sup.execute(schema, engine, settings, SNAPSHOT_QUERY)
    assert result.errors is None, result.errors
    assert result.data["snapshot"] == {
        "id": str(info.id),
        "takenAt": "2026-11-12T08:00:00+00:00",
        "nextRefreshAt": "2026-11-12T08:30:00+00:00",  # the default 1800 s interval
        "timeZone": "UTC",
    }
    metric = result.data["workspace"]["activeUsers"]
    assert metric["value"] == 3
    assert sum(p["value"] for p in metric["series"]) == 3
