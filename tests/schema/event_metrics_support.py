"""Shared pieces of the event metric schema tests: JSON lines of a dataset, queries, expectations.

Datasets are :mod:`tests.metrics.engine_support`'s (mini programs m0..m5 over apps a0, a1 of w0
and a2 of w1, events over 20 days from 2026-10-20, split into batches whose later ones may hold
older events); here they are turned into JSON Lines and go through the real ingester. Expected
values come from :mod:`tests.metrics.bruteforce`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import orjson
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.context import Context
from gateway.metrics.registry import EVENT_METRICS
from gateway.metrics.timerange import DateRange
from gateway.settings import Settings
from gateway.store.ingest import ingest_lines
from tests.metrics import bruteforce as bf
from tests.metrics.engine_support import APPS, WORKSPACES, Event, MiniProgram
from tests.principals import ADMIN

NOW = dt.datetime(2026, 11, 12, 9, 30, tzinfo=dt.UTC)
"""The requests' clock: today is 2026-11-12, after the generated events (to 2026-11-08)."""

CREATED = "2026-01-01T00:00:00+00:00"


def _line(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record) + b"\n"


def catalog_lines(mps: dict[str, MiniProgram]) -> list[bytes]:
    """Workspaces, apps, mini programs, and a deployment of each mini program in each app of
    its workspace."""
    lines = [_line({"kind": "workspace", "id": w, "name": w.upper()}) for w in WORKSPACES]
    for app, ws in APPS.items():
        lines.append(
            _line({"kind": "targetApp", "id": app, "workspaceId": ws, "name": f"App {app}",
                   "createdAt": CREATED})
        )  # fmt: skip
    for mp in mps.values():
        lines.append(
            _line({"kind": "miniProgram", "id": mp.id, "workspaceId": mp.workspace,
                   "merchantId": None, "name": mp.id, "type": mp.type, "category": mp.category,
                   "source": "wallet", "createdAt": CREATED})
        )  # fmt: skip
        for app in (a for a, ws in APPS.items() if ws == mp.workspace):
            lines.append(
                _line({"kind": "deployment", "targetAppId": app, "miniProgramId": mp.id,
                       "status": "FULL_RELEASE", "at": CREATED})
            )  # fmt: skip
    return lines


def event_line(event: Event) -> bytes:
    """One event as JSON; its instant is written in one of three offsets (same UTC instant)."""
    offset = dt.timezone(dt.timedelta(hours=int(event.id[1:]) % 3 - 1))
    record: dict[str, Any] = {
        "kind": event.kind,
        "id": event.id,
        "at": event.at.replace(tzinfo=dt.UTC).astimezone(offset).isoformat(),
        "targetAppId": event.app,
        "miniProgramId": event.mp,
        "userGuid": f"u{event.uid}",
        "dataType": event.data_type,
    }
    if event.kind == "pageView":
        record["durationMs"] = event.duration_ms
    elif event.kind == "adImpression":
        record["valid"] = event.valid
        record["revenue"] = str(Decimal(event.revenue_micros).scaleb(-6))
    return _line(record)


async def ingest(engine: AsyncEngine, lines: list[bytes]) -> None:
    """Ingest ``lines``; every one must be stored or be a duplicate."""
    report = await ingest_lines(engine, lines, source="test", chunk_size=37)
    assert report.quarantined == 0, report


async def execute(
    schema: strawberry.Schema,
    engine: AsyncEngine,
    settings: Settings,
    query: str,
    variables: dict[str, Any] | None = None,
) -> Any:
    """Run ``query`` in a fresh context at :data:`NOW` (closed afterwards); the result."""
    async with Context.create(engine, settings, now=NOW, principal=ADMIN) as context:
        return await schema.execute(query, variable_values=variables, context_value=context)


ARGS = "timeRange: $r, type: $t, dataType: $d, category: $c"
VARIABLES = (
    "$r: TimeRangeInput!, $t: MiniProgramTypeFilter, $d: DataType, $c: String, $g: Granularity"
)


def metric_fields() -> str:
    """Every event metric with its comparison, a series at ``$g`` and the two months."""
    fields = [
        f"{name}({ARGS}) {{ value previousValue change changeRate "
        "series(granularity: $g) { date value } }"
        for name in EVENT_METRICS
    ]
    fields.append(
        'monthlyActiveUsers(from: "2026-10", to: "2026-11", type: $t, dataType: $d, '
        "category: $c) { month value previousValue change changeRate }"
    )
    return "\n".join(fields)


def expected_metric(
    events: list[Event], name: str, span: DateRange, buckets: list[DateRange]
) -> dict[str, Any]:
    """The ``Metric`` a field should answer, from the brute force."""
    value = bf.metric(name, events, span.start, span.end)
    before = bf.metric(name, events, *bf.previous(span.start, span.end))
    return {
        "value": value,
        "previousValue": before,
        "change": value - before,
        "changeRate": None if before == 0 else (value - before) / before,
        "series": [
            {"date": b.start.isoformat(), "value": bf.metric(name, events, b.start, b.end)}
            for b in buckets
        ],
    }


def expected_months(events: list[Event]) -> list[dict[str, Any]]:
    """``monthlyActiveUsers`` from 2026-10 to 2026-11 (November up to today, the 12th)."""
    months = [
        ("2026-09", dt.date(2026, 9, 1), dt.date(2026, 9, 30)),
        ("2026-10", dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        ("2026-11", dt.date(2026, 11, 1), NOW.date()),
    ]
    values = [bf.metric("activeUsers", events, start, end) for _, start, end in months]
    out = []
    for i in (1, 2):
        value, before = values[i], values[i - 1]
        out.append({
            "month": months[i][0], "value": value, "previousValue": before,
            "change": value - before,
            "changeRate": None if before == 0 else (value - before) / before,
        })  # fmt: skip
    return out


def expected_entity(
    events: list[Event], q: bf.Query, mps: dict[str, MiniProgram], span: DateRange,
    buckets: list[DateRange],
) -> dict[str, Any]:  # fmt: skip
    """Every metric field of one entity (scope + filters of ``q``)."""
    mine = [e for e in events if bf.matches(q, e, mps)]
    out: dict[str, Any] = {n: expected_metric(mine, n, span, buckets) for n in EVENT_METRICS}
    out["monthlyActiveUsers"] = expected_months(mine)
    return out


def approx_equal(got: Any, want: Any) -> bool:
    """Deep equality with a relative tolerance on floats (averages and rates)."""
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and got.keys() == want.keys()
            and all(approx_equal(got[k], want[k]) for k in want)
        )
    if isinstance(want, list):
        return (
            isinstance(got, list)
            and len(got) == len(want)
            and all(approx_equal(g, w) for g, w in zip(got, want, strict=True))
        )
    if isinstance(want, float) and isinstance(got, (int, float)):
        return abs(got - want) <= 1e-9 * max(1.0, abs(want))
    return bool(got == want)
