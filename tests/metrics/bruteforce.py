"""The metrics of SPEC §4 computed the obvious way, straight from raw event rows.

Written from the SPEC's definitions, independently of the engine (no cells, no bitmaps).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from tests.metrics.engine_support import APPS, Event, MiniProgram

Scope = tuple[str, ...]
"""("ws", W) | ("app", A) | ("mp", M) | ("appmp", A, M)."""


@dataclass(frozen=True)
class Query:
    scope: Scope
    type: str | None  # None = ALL
    category: str | None
    data_type: str


def matches(q: Query, e: Event, mps: dict[str, MiniProgram]) -> bool:
    kind, *ids = q.scope
    in_scope = {
        "ws": lambda: APPS[e.app] == ids[0],
        "app": lambda: e.app == ids[0],
        "mp": lambda: e.mp == ids[0],
        "appmp": lambda: (e.app, e.mp) == (ids[0], ids[1]),
    }[kind]()
    mp = mps[e.mp]
    return (
        in_scope
        and e.data_type == q.data_type
        and (q.type is None or mp.type == q.type)
        and (q.category is None or mp.category == q.category)
    )


def _in(e: Event, start: date, end: date) -> bool:
    return start <= e.day <= end


def metric(name: str, events: list[Event], start: date, end: date) -> float:
    """``name`` over [start, end] of already-filtered ``events``."""
    launches = [e for e in events if e.kind == "launch"]
    active = {e.uid for e in launches if _in(e, start, end)}
    first: dict[int, date] = {}
    for e in launches:
        first[e.uid] = min(first.get(e.uid, e.day), e.day)
    in_range = [e for e in events if _in(e, start, end)]
    valid = [e for e in in_range if e.kind == "adImpression" and e.valid]
    duration = sum(e.duration_ms for e in in_range if e.kind == "pageView")
    values = {
        "activeUsers": len(active),
        "newUsers": len({u for u in active if start <= first[u] <= end}),
        "lifetimeUsers": len({u for u, d in first.items() if d <= end}),
        "launches": sum(1 for e in in_range if e.kind == "launch"),
        "pageViews": sum(1 for e in in_range if e.kind == "pageView"),
        "averageTimePerUser": duration / 1000 / len(active) if active else 0.0,
        "validAdImpressions": len(valid),
        "estimatedAdRevenue": sum(e.revenue_micros for e in valid) / 1e6,
    }
    return float(values[name])


def previous(start: date, end: date) -> tuple[date, date]:
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


def cells_of(e: Event, mps: dict[str, MiniProgram]) -> list[tuple[str, str, str, str]]:
    """The rollup cells an event belongs to, spelled out from the design's table."""
    mp = mps[e.mp]
    out = []
    for scope in (f"ws:{APPS[e.app]}", f"app:{e.app}"):
        for mp_type in (mp.type, "*"):
            for category in (mp.category, "*"):
                out.append((scope, e.data_type, mp_type, category))
    out.append((f"mp:{e.mp}", e.data_type, "*", "*"))
    out.append((f"app:{e.app}|mp:{e.mp}", e.data_type, "*", "*"))
    return out


Expected = dict[
    tuple[tuple[str, str, str, str], date], tuple[tuple[int, ...], frozenset[int], frozenset[int]]
]


def expected_rollups(events: list[Event], mps: dict[str, MiniProgram]) -> Expected:
    """(cell, day) -> (sums, active users, users first seen in the cell that day)."""
    sums: dict[tuple[tuple[str, str, str, str], date], list[int]] = defaultdict(lambda: [0] * 5)
    active: dict[tuple[tuple[str, str, str, str], date], set[int]] = defaultdict(set)
    first: dict[tuple[tuple[str, str, str, str], int], date] = {}
    for e in events:
        for cell in cells_of(e, mps):
            row = sums[(cell, e.day)]
            row[0] += e.kind == "launch"
            row[1] += e.kind == "pageView"
            row[2] += e.duration_ms if e.kind == "pageView" else 0
            ok = e.kind == "adImpression" and e.valid
            row[3] += ok
            row[4] += e.revenue_micros if ok else 0
            if e.kind == "launch":
                active[(cell, e.day)].add(e.uid)
                first[(cell, e.uid)] = min(first.get((cell, e.uid), e.day), e.day)
    new: dict[tuple[tuple[str, str, str, str], date], set[int]] = defaultdict(set)
    for (cell, uid), day in first.items():
        new[(cell, day)].add(uid)
    return {
        key: (tuple(row), frozenset(active.get(key, ())), frozenset(new.get(key, ())))
        for key, row in sums.items()
    }
