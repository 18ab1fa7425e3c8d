"""The exact metrics engine equals a brute-force computation over raw events, on both databases.

Random catalogs and events are inserted directly (no ingester) in 1-3 batches; later batches may
hold events dated before earlier ones (late events). After every incremental refresh the rollup
tables equal the brute-force rollups; at the end, random queries (every scope kind, filter,
range and granularity) through the read API and the pure aggregation equal the metrics computed
from the definitions, and a full rebuild writes exactly the same rollups.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.domain import DataType, EntityRef, Granularity, MiniProgramType, TypeFilter
from gateway.metrics.aggregate import MetricValue, metric_value, monthly_active_users
from gateway.metrics.cell_days import CellHistory
from gateway.metrics.cells import (
    CellKey,
    Filters,
    admits,
    cell_of,
)
from gateway.metrics.registry import EVENT_METRICS
from gateway.metrics.timerange import DateRange
from gateway.store.rollup import cell_ids, read_histories, refresh
from gateway.store.rollup import events as events_module
from gateway.store.rollup import persist as persist_module
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
    insert_batch,
    insert_catalog,
)
from tests.metrics.rollup_dump import dump_rollups, lifetimes

EXAMPLES = settings(
    # GATEWAY_TEST_ENGINE_EXAMPLES=500 for a deep run; 15 keeps the suite fast.
    max_examples=int(os.environ.get("GATEWAY_TEST_ENGINE_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    # No shrinking: every step of it reruns the database work, minutes for one failure; the
    # failing example is still printed, and the per-batch table check localizes the fault.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)


def _cell(q: bf.Query, mps: dict[str, MiniProgram]) -> CellKey | None:
    filters = Filters(TypeFilter[q.type or "ALL"], q.category, DataType[q.data_type])
    kind, *ids = q.scope
    if kind == "ws":
        return cell_of(EntityRef.workspace(ids[0]), filters)
    if kind == "app":  # the workspace above plays no part in the cell
        return cell_of(EntityRef.target_app(ids[0], "ws"), filters)
    mp = mps[ids[-1]]
    app = ids[0] if kind == "appmp" else None
    if not admits(filters, MiniProgramType[mp.type], mp.category):
        return None
    return cell_of(EntityRef.mini_program(mp.id, "ws", merchant_id=None, via=app), filters)


async def _history(
    engine: AsyncEngine, q: bf.Query, mps: dict[str, MiniProgram], start: date, end: date
) -> CellHistory:
    key = _cell(q, mps)
    async with engine.connect() as conn:
        found = None if key is None else (await cell_ids(conn, [key]))[key]
        if found is None:
            return CellHistory(start)
        return (await read_histories(conn, [found], start, end, bitmaps=True))[found]


def _assert_metric(got: MetricValue, events: list[Event], name: str, span: DateRange) -> None:
    value = bf.metric(name, events, span.start, span.end)
    before = bf.metric(name, events, *bf.previous(span.start, span.end))
    assert got.value == pytest.approx(value), name
    assert got.previous_value == pytest.approx(before), name
    assert got.change == pytest.approx(value - before), name
    if before == 0:
        assert got.change_rate is None
    else:
        assert got.change_rate == pytest.approx((value - before) / before), name


def _series(events: list[Event], name: str, span: DateRange, g: Granularity) -> list[float]:
    return [bf.metric(name, events, b.start, b.end) for b in span.buckets(g)]


queries = st.builds(
    bf.Query,
    scope=st.one_of(
        st.tuples(st.just("ws"), st.sampled_from(["w0", "w1"])),
        st.tuples(st.just("app"), st.sampled_from(sorted(APPS))),
        st.tuples(st.just("mp"), st.sampled_from([f"m{i}" for i in range(6)])),
        st.sampled_from([("appmp", a, f"m{i}") for a in APPS for i in range(6)]),
    ),
    type=st.sampled_from([None, *TYPES]),
    category=st.sampled_from([None, *CATEGORIES]),
    data_type=st.sampled_from(DATA_TYPES),
)
spans = st.builds(
    lambda offset, length: DateRange(
        BASE + timedelta(days=offset), BASE + timedelta(days=offset + length - 1)
    ),
    st.integers(-3, DAYS - 1),
    st.integers(1, 16),
)


async def _check_queries(engine: AsyncEngine, ds: Dataset, data: st.DataObject) -> None:
    events = ds.events
    for _ in range(6):
        q, span = data.draw(queries), data.draw(spans)
        granularity = data.draw(st.sampled_from(list(Granularity)))
        mine = [e for e in events if bf.matches(q, e, ds.mini_programs)]
        history = await _history(engine, q, ds.mini_programs, span.previous().start, span.end)
        for name in EVENT_METRICS:
            got = metric_value(name, history, span, granularity)
            _assert_metric(got, mine, name, span)
            expected = _series(mine, name, span, granularity)
            assert [p.value for p in got.series] == pytest.approx(expected), (name, granularity)
            assert [p.date for p in got.series] == [b.start for b in span.buckets(granularity)]
        await _check_monthly(engine, q, ds, mine)


async def _check_monthly(engine: AsyncEngine, q: bf.Query, ds: Dataset, mine: list[Event]) -> None:
    months = [DateRange(date(2026, 10, 1), date(2026, 10, 31))]
    months.append(DateRange(date(2026, 11, 1), date(2026, 11, 30)))
    history = await _history(engine, q, ds.mini_programs, date(2026, 9, 1), date(2026, 11, 30))
    got = monthly_active_users(history, months)
    expected = [bf.metric("activeUsers", mine, m.start, m.end) for m in months]
    assert [m.metric.value for m in got] == expected
    assert [m.metric.previous_value for m in got] == [0.0, expected[0]]


@EXAMPLES
@given(ds=datasets(), data=st.data())
async def test_incremental_refreshes_equal_brute_force(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, ds: Dataset, data: st.DataObject
) -> None:
    # Tiny chunks: the same (cell, day) is folded from several chunks of one refresh.
    monkeypatch.setattr(events_module, "CHUNK_ROWS", 7)
    # Lifetimes kept as base + recent part (the default at this size), or merged into the base
    # whenever the recent part passes all or a quarter of it: both paths, and their mix.
    share = data.draw(st.sampled_from([None, 1, 4]), label="recent share")
    if share is not None:
        monkeypatch.setattr(persist_module, "RECENT_MIN", 0)
        monkeypatch.setattr(persist_module, "RECENT_SHARE", share)
    await clear(engine)
    await insert_catalog(engine, ds.mini_programs)
    folded: list[Event] = []
    for number, batch in enumerate(ds.batches):
        await insert_batch(engine, batch)
        folded += batch
        info = await refresh(engine)
        assert info.events == len(batch)
        assert info.full_rebuild == (number == 0)
        assert await dump_rollups(engine) == bf.expected_rollups(folded, ds.mini_programs)
        assert all(stored == union for stored, union in (await lifetimes(engine)).values())
    await _check_queries(engine, ds, data)
    incremental = await dump_rollups(engine)
    rebuilt = await refresh(engine, full=True)
    assert rebuilt.full_rebuild
    assert rebuilt.events == len(folded)
    assert await dump_rollups(engine) == incremental
