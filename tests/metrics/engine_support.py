"""Random catalogs and events for the metrics engine tests, inserted with plain SQLAlchemy Core.

Nothing here uses the ingester: catalog rows, users, ``ingest_batches`` rows and event rows are
written directly, so the engine is tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from hypothesis import strategies as st
from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.domain import DataType, MiniProgramType
from gateway.store import tables as t
from gateway.store.partitions import ensure_days

BASE = date(2026, 10, 20)
"""First day of the generated events (the 20 days cross a month boundary)."""
DAYS = 20
USERS = 10
WORKSPACES = ("w0", "w1")
APPS = {"a0": "w0", "a1": "w0", "a2": "w1"}
CATEGORIES = ("food", "games", "travel")
TYPES = (MiniProgramType.MINI_PROGRAM.name, MiniProgramType.MINI_GAME.name)
DATA_TYPES = (DataType.PRODUCTION.name, DataType.NON_PRODUCTION.name)
KINDS = ("launch", "launch", "pageView", "adImpression")
SOURCES = ("wallet", "ads", "referral")
"""User sources: user ``uid`` starts with ``SOURCES[uid % 4]``, none when ``uid % 4 == 3``."""


@dataclass(frozen=True)
class MiniProgram:
    id: str
    workspace: str
    type: str
    category: str


@dataclass(frozen=True)
class Event:
    id: str
    kind: str
    app: str
    mp: str
    uid: int
    data_type: str
    at: datetime
    duration_ms: int = 0
    valid: bool = False
    revenue_micros: int = 0

    @property
    def day(self) -> date:
        return self.at.date()


@dataclass
class Dataset:
    mini_programs: dict[str, MiniProgram]
    batches: list[list[Event]] = field(default_factory=list)

    @property
    def events(self) -> list[Event]:
        return [event for batch in self.batches for event in batch]


@st.composite
def mini_program_sets(draw: st.DrawFn) -> dict[str, MiniProgram]:
    out = {}
    for i in range(6):
        mp_type = draw(st.sampled_from(TYPES))
        out[f"m{i}"] = MiniProgram(
            f"m{i}", WORKSPACES[i % 2], mp_type, draw(st.sampled_from(CATEGORIES))
        )
    return out


def _event(draw: st.DrawFn, number: int, mps: dict[str, MiniProgram]) -> Event:
    mp = draw(st.sampled_from(sorted(mps)))
    apps = sorted(app for app, ws in APPS.items() if ws == mps[mp].workspace)
    at = datetime.combine(BASE, datetime.min.time()) + timedelta(
        days=draw(st.integers(0, DAYS - 1)), minutes=draw(st.integers(0, 24 * 60 - 1))
    )
    return Event(
        id=f"e{number}",
        kind=draw(st.sampled_from(KINDS)),
        app=draw(st.sampled_from(apps)),
        mp=mp,
        uid=draw(st.integers(1, USERS)),
        data_type=draw(st.sampled_from(DATA_TYPES)),
        at=at,
        duration_ms=draw(st.integers(0, 120_000)),
        valid=draw(st.booleans()),
        revenue_micros=draw(st.integers(0, 3_000_000)),
    )


@st.composite
def datasets(draw: st.DrawFn, max_events: int = 80) -> Dataset:
    """A catalog and 0..max_events events split into 1..3 batches (later batches may be older)."""
    mps = draw(mini_program_sets())
    count = draw(st.integers(0, max_events))
    events = [_event(draw, i, mps) for i in range(count)]
    batches = draw(st.integers(1, 3))
    split: list[list[Event]] = [[] for _ in range(batches)]
    for event in events:
        split[draw(st.integers(0, batches - 1))].append(event)
    return Dataset(mps, split)


async def clear(engine: AsyncEngine) -> None:
    """Delete every row of every table (hypothesis reuses one database across examples)."""
    async with engine.begin() as conn:
        for table in reversed(t.metadata.sorted_tables):
            await conn.execute(delete(table))


async def insert_catalog(engine: AsyncEngine, mps: dict[str, MiniProgram]) -> None:
    created = datetime(2026, 1, 1)
    async with engine.begin() as conn:
        await conn.execute(insert(t.workspaces), [{"id": w, "name": w} for w in WORKSPACES])
        await conn.execute(
            insert(t.target_apps),
            [
                {"id": a, "workspace_id": w, "name": a, "created_at": created}
                for a, w in APPS.items()
            ],
        )
        rows = [
            {"id": mp.id, "workspace_id": mp.workspace, "merchant_id": None, "name": mp.id,
             "type": MiniProgramType[mp.type], "category": mp.category, "source": "wallet",
             "created_at": created}
            for mp in mps.values()
        ]  # fmt: skip
        await conn.execute(insert(t.mini_programs), rows)
        users = [
            {"uid": uid, "guid": f"u{uid}", "source": (*SOURCES, None)[uid % 4]}
            for uid in range(1, USERS + 1)
        ]
        await conn.execute(insert(t.users), users)


async def set_sources(engine: AsyncEngine, sources: dict[int, str], batch_id: int) -> None:
    """``user`` records changing the source of users (by uid), as batch ``batch_id`` stamps."""
    async with engine.begin() as conn:
        for uid, source in sources.items():
            stmt = update(t.users).where(t.users.c.uid == uid)
            await conn.execute(stmt.values(source=source, source_batch_id=batch_id))


def event_row(event: Event, batch_id: int) -> dict[str, object]:
    """The event table row of ``event`` stored by batch ``batch_id``."""
    row: dict[str, object] = {
        "id": event.id, "batch_id": batch_id, "at": event.at, "day": event.day,
        "target_app_id": event.app,
        "mini_program_id": event.mp, "uid": event.uid, "data_type": DataType[event.data_type],
    }  # fmt: skip
    if event.kind == "pageView":
        row.update(page=None, duration_ms=event.duration_ms)
    elif event.kind == "adImpression":
        row.update(valid=event.valid, revenue_micros=event.revenue_micros)
    return row


async def insert_batch(engine: AsyncEngine, events: list[Event]) -> int:
    """One committed ingest batch: its ``ingest_batches`` row and its events."""
    await ensure_days(engine, {event.day for event in events})
    async with engine.begin() as conn:
        result = await conn.execute(
            insert(t.ingest_batches).values(
                source="test", committed_at=datetime(2026, 11, 20), records=len(events),
                stored=len(events), duplicates=0, quarantined=0,
                first_day=min((e.day for e in events), default=None),
                last_day=max((e.day for e in events), default=None),
            )
        )  # fmt: skip
        assert result.inserted_primary_key is not None
        batch_id = int(result.inserted_primary_key[0])
        for kind, table in t.EVENT_TABLES.items():
            rows = [event_row(e, batch_id) for e in events if e.kind == kind]
            if rows:
                await conn.execute(insert(table), rows)
    return batch_id
