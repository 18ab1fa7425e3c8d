"""Random worlds for the user breakdown tests, as JSON lines, and the breakdowns by brute force.

The expected breakdowns are computed from SPEC §4's words over the raw launches and ``user``
records (no cells, no bitmaps, no code of the gateway).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from gateway.context import Context
from tests.principals import ADMIN

BASE = dt.date(2026, 10, 20)
DAYS = 25
NOW = dt.datetime(2026, 11, 14, 10, 0, tzinfo=dt.UTC)
"""The requests' clock: today is the last day with events."""
APPS = {"a0": "w0", "a1": "w0", "a2": "w1"}
CATEGORIES = ("food", "games", "travel")
TYPES = ("MINI_PROGRAM", "MINI_GAME")
DATA_TYPES = ("PRODUCTION", "NON_PRODUCTION")
SOURCES = ("wallet", "merchant", "alipay_plus")
GUIDS = [f"u{i}" for i in range(1, 15)]


@dataclass(frozen=True)
class Launch:
    id: str
    app: str
    mp: str
    guid: str
    data_type: str
    day: dt.date
    platform: str = "UNKNOWN"
    region: str = "UNKNOWN"


@dataclass
class World:
    """The catalog, the user records seen so far, and the launches ingested so far."""

    mps: dict[str, tuple[str, str, str]]  # id -> (workspace, type, category)
    sources: dict[str, str] = field(default_factory=dict)
    launches: list[Launch] = field(default_factory=list)


def _line(record: dict[str, Any]) -> bytes:
    return json.dumps(record).encode()


def catalog(rng: random.Random) -> tuple[World, list[bytes]]:
    """A random catalog: 2 workspaces, 3 apps, 6 mini programs of random type and category."""
    created = "2026-01-01T00:00:00+00:00"
    world = World({
        f"m{i}": (("w0", "w1")[i % 2], rng.choice(TYPES), rng.choice(CATEGORIES))
        for i in range(6)
    })  # fmt: skip
    lines = [_line({"kind": "workspace", "id": w, "name": w}) for w in ("w0", "w1")]
    lines += [
        _line({"kind": "targetApp", "id": a, "workspaceId": w, "name": a, "createdAt": created})
        for a, w in APPS.items()
    ]
    for mp, (ws, type_, category) in world.mps.items():
        lines.append(_line({
            "kind": "miniProgram", "id": mp, "workspaceId": ws, "merchantId": None, "name": mp,
            "type": type_, "category": category, "source": "wallet", "createdAt": created,
        }))  # fmt: skip
    return world, lines


def users(rng: random.Random, world: World, count: int) -> list[bytes]:
    """``count`` random ``user`` records (a later one for the same guid changes its source)."""
    lines = []
    for _ in range(count):
        guid, source = rng.choice(GUIDS), rng.choice(SOURCES)
        world.sources[guid] = source
        lines.append(_line({"kind": "user", "guid": guid, "source": source}))
    return lines


PLATFORMS = ("IOS", "ANDROID", "HARMONYOS", "WEB")
REGIONS = ("SG", "MY", "ID", "CN")


def _device(rng: random.Random, guid: str) -> tuple[str | None, str | None]:
    """A launch's platform and region: mostly the user's own (by guid), sometimes another
    value or none (``UNKNOWN``)."""
    own = sum(map(ord, guid))
    platform = PLATFORMS[own % len(PLATFORMS)] if rng.random() < 0.7 else rng.choice(PLATFORMS)
    region = REGIONS[own % len(REGIONS)] if rng.random() < 0.8 else rng.choice(REGIONS)
    return (None if rng.random() < 0.1 else platform), (None if rng.random() < 0.1 else region)


def launches(rng: random.Random, world: World, count: int, *, devices: bool = False) -> list[bytes]:
    """``count`` random launches (any day of the window, so later batches hold late events);
    with ``devices``, with platforms and regions (in any case)."""
    lines = []
    for _ in range(count):
        mp = rng.choice(sorted(world.mps))
        app = rng.choice(sorted(a for a, w in APPS.items() if w == world.mps[mp][0]))
        day = BASE + dt.timedelta(days=rng.randrange(DAYS))
        guid, data_type = rng.choice(GUIDS), rng.choice(DATA_TYPES)
        platform, region = _device(rng, guid) if devices else (None, None)
        launch = Launch(f"e{len(world.launches)}", app, mp, guid, data_type, day,
                        platform or "UNKNOWN", region or "UNKNOWN")  # fmt: skip
        world.launches.append(launch)
        at = dt.datetime.combine(day, dt.time(rng.randrange(24), rng.randrange(60)), dt.UTC)
        record = {
            "kind": "launch", "id": launch.id, "at": at.isoformat(), "targetAppId": app,
            "miniProgramId": mp, "userGuid": guid, "dataType": data_type,
        }  # fmt: skip
        if platform is not None:
            record["platform"] = platform.lower() if rng.random() < 0.2 else platform
        if region is not None:
            record["region"] = region.lower() if rng.random() < 0.2 else region
        lines.append(_line(record))
    return lines


@dataclass(frozen=True)
class Ask:
    """One breakdown question: scope ("ws"|"app", id), filters, basis, range R."""

    level: str
    scope_id: str
    type: str | None
    data_type: str
    category: str | None
    basis: str
    start: dt.date
    end: dt.date


def _users(world: World, ask: Ask, start: dt.date, end: dt.date) -> dict[str, set[str]]:
    """Users per category of the launches matching ``ask`` over the basis' days."""
    out: dict[str, set[str]] = defaultdict(set)
    for e in world.launches:
        _, type_, category = world.mps[e.mp]
        in_scope = (APPS[e.app] if ask.level == "ws" else e.app) == ask.scope_id
        in_days = e.day <= end and (ask.basis == "CUMULATIVE" or e.day >= start)
        if (
            in_scope
            and in_days
            and e.data_type == ask.data_type
            and ask.type in (None, type_)
            and ask.category in (None, category)
        ):
            out[category].add(e.guid)
    return out


def _previous(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    days = (end - start).days + 1
    return start - dt.timedelta(days=days), start - dt.timedelta(days=1)


def _counts(
    world: World, ask: Ask, start: dt.date, end: dt.date, by: str
) -> tuple[dict[str, int], int]:
    per_category = _users(world, ask, start, end)
    everyone = set().union(*per_category.values())
    if by == "category":
        return {c: len(u) for c, u in per_category.items() if u}, len(everyone)
    counts: dict[str, int] = defaultdict(int)
    for guid in everyone:
        counts[world.sources.get(guid, "unknown")] += 1
    return dict(counts), len(everyone)


def expected(world: World, ask: Ask, by: str) -> dict[str, Any]:
    """The ``Breakdown`` GraphQL answer of ``usersBySource`` (``by="source"``) or
    ``usersByCategory`` (``by="category"``) for ``ask``."""
    now, total = _counts(world, ask, ask.start, ask.end, by)
    before, previous_total = _counts(world, ask, *_previous(ask.start, ask.end), by)
    bases = (total, previous_total) if by == "source" else (sum(now.values()), sum(before.values()))
    items: list[dict[str, Any]] = []
    for key in set(now) | set(before):
        c, p = now.get(key, 0), before.get(key, 0)
        share = c / bases[0] if bases[0] else 0.0
        previous_share = p / bases[1] if bases[1] else 0.0
        items.append({
            "key": key, "count": c, "share": share, "previousCount": p,
            "previousShare": previous_share, "countChange": c - p,
            "shareChange": share - previous_share,
        })  # fmt: skip
    items.sort(key=lambda item: (-item["count"], item["key"]))
    return {"total": total, "previousTotal": previous_total, "items": items}


def scoped_nodes(data: dict[str, Any]) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """Every node of an answer to ``workspaces { nodes { miniPrograms targetApps { miniPrograms
    } } }`` with its scope: ("ws", id), ("app", id), ("mp", id) or ("mp", id, via app)."""
    found: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    for ws in data["workspaces"]["nodes"]:
        found.append((("ws", ws["id"]), ws))
        found += [(("mp", mp["id"]), mp) for mp in ws["miniPrograms"]["nodes"]]
        for app in ws["targetApps"]["nodes"]:
            found.append((("app", app["id"]), app))
            found += [(("mp", mp["id"], app["id"]), mp) for mp in app["miniPrograms"]["nodes"]]
    return found


async def answer(
    schema: Any, engine: Any, settings: Any, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """The data of ``query`` run as the admin at :data:`NOW` (it must not fail)."""
    async with Context.create(engine, settings, now=NOW, principal=ADMIN) as context:
        result = await schema.execute(query, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    data: dict[str, Any] = result.data
    return data
