"""``rollup_user_sources``: kept by the refresh, incrementally, from ingested ``user`` records."""

from __future__ import annotations

import json
import random

import pytest
from pyroaring import BitMap
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store.ingest import ingest_lines
from gateway.store.rollup import read_user_sources, refresh
from gateway.store.rollup.source_counts import SourceCounter
from gateway.store.rollup.user_sources import refresh_user_sources
from gateway.store.rollup_tables import rollup_user_sources
from gateway.store.tables import ingest_batches, users

CATALOG: list[dict[str, object]] = [
    {"kind": "workspace", "id": "w", "name": "W"},
    {"kind": "targetApp", "id": "a", "workspaceId": "w", "name": "A",
     "createdAt": "2026-01-01T00:00:00Z"},
    {"kind": "miniProgram", "id": "m", "workspaceId": "w", "merchantId": None, "name": "M",
     "type": "MINI_PROGRAM", "category": "food", "source": "wallet",
     "createdAt": "2026-01-01T00:00:00Z"},
]  # fmt: skip


def _launch(n: int, guid: str) -> dict[str, object]:
    return {"kind": "launch", "id": f"e{n}", "at": "2026-11-02T08:00:00+00:00",
            "targetAppId": "a", "miniProgramId": "m", "userGuid": guid}  # fmt: skip


def _user(guid: str, source: str) -> dict[str, object]:
    return {"kind": "user", "guid": guid, "source": source}


async def _ingest(engine: AsyncEngine, records: list[dict[str, object]]) -> None:
    report = await ingest_lines(engine, [json.dumps(r).encode() for r in records], source="t")
    assert report.quarantined == 0, report.problems


async def _sources(engine: AsyncEngine) -> dict[str, set[str]]:
    """Source -> guids, read through the stored bitmaps."""
    async with engine.connect() as conn:
        bitmaps = await read_user_sources(conn)
        guids = dict((await conn.execute(select(users.c.uid, users.c.guid))).all())
    return {source: {guids[uid] for uid in bitmap} for source, bitmap in bitmaps.items()}


async def test_late_user_record_moves_user_from_unknown(engine: AsyncEngine) -> None:
    await _ingest(engine, [*CATALOG, _user("u1", "wallet"), _launch(1, "u1"), _launch(2, "u2")])
    await refresh(engine)
    assert await _sources(engine) == {"wallet": {"u1"}}  # u2 has no record: unknown

    await _ingest(engine, [_user("u2", "merchant"), _user("u1", "alipay_plus")])
    info = await refresh(engine)
    assert not info.full_rebuild
    assert await _sources(engine) == {"merchant": {"u2"}, "alipay_plus": {"u1"}}

    # A refresh with no new user records leaves the bitmaps as they are.
    await refresh(engine)
    assert await _sources(engine) == {"merchant": {"u2"}, "alipay_plus": {"u1"}}


async def test_ingest_stamps_user_rows_with_their_batch(engine: AsyncEngine) -> None:
    await _ingest(engine, [*CATALOG, _launch(1, "u1"), _launch(2, "u2"), _user("u2", "wallet")])
    async with engine.connect() as conn:
        rows = dict((await conn.execute(select(users.c.guid, users.c.source_batch_id))).all())
    assert rows["u1"] is None  # created by its event: no user record yet
    assert isinstance(rows["u2"], int)
    assert rows["u2"] > 0


async def test_empty_table_is_recomputed_from_users(engine: AsyncEngine) -> None:
    # As right after the migration that added the table: users have sources, no bitmaps.
    await _ingest(
        engine, [*CATALOG, _user("u1", "wallet"), _user("u2", "wallet"), _launch(1, "u3")]
    )
    await refresh(engine)
    async with engine.begin() as conn:
        await conn.execute(delete(rollup_user_sources))
    await refresh(engine)
    assert await _sources(engine) == {"wallet": {"u1", "u2"}}
    async with engine.connect() as conn:
        stored = (await conn.execute(select(rollup_user_sources.c.bitmap))).scalars().all()
    assert [len(BitMap.deserialize(raw)) for raw in stored] == [2]


async def test_only_users_whose_source_changed_are_moved(engine: AsyncEngine) -> None:
    """A ``user`` record sent again with the same source moves nobody, so the refresh has no
    stored counts to recount for it (:mod:`gateway.store.rollup.source_counts`)."""
    await _ingest(engine, [*CATALOG, _user("u1", "wallet"), _user("u2", "ads"), _launch(1, "u1")])
    await refresh(engine)
    async with engine.connect() as conn:
        after = int((await conn.execute(select(func.max(ingest_batches.c.id)))).scalar_one())
    await _ingest(engine, [_user("u1", "wallet"), _user("u2", "referral"), _user("u3", "ads")])
    async with engine.begin() as conn:
        upto = int((await conn.execute(select(func.max(ingest_batches.c.id)))).scalar_one())
        update = await refresh_user_sources(conn, after=after, upto=upto, full=False)
        uids = dict((await conn.execute(select(users.c.guid, users.c.uid))).all())
    assert update.moved == BitMap([uids["u2"], uids["u3"]])  # u1 was sent again unchanged
    assert update.sources is not None
    named = {source: set(bitmap) for source, bitmap in update.sources.items()}
    assert named == {"wallet": {uids["u1"]}, "referral": {uids["u2"]}, "ads": {uids["u3"]}}


@pytest.mark.parametrize("sources", [0, 1, 7])
def test_counting_many_rows_at_once_counts_as_one_at_a_time(sources: int) -> None:
    rng = random.Random(sources)
    named = {f"s{n}": BitMap(rng.sample(range(5_000), 700)) for n in range(sources)}
    for bitmap in named.values():  # a user has one source
        for other in named.values():
            if other is not bitmap:
                other -= bitmap
    news: list[BitMap | None] = [
        BitMap(rng.sample(range(6_000), rng.randrange(0, 300))) for _ in range(40)
    ]
    news += [None, BitMap([5_999, 10**7])]  # no row; users past every source
    cells = [rng.randrange(3) for _ in news]
    one = SourceCounter(named, {0, 1})
    many = SourceCounter(named, {0, 1})
    singly = [one.row(cell, new) for cell, new in zip(cells, news, strict=True)]
    assert many.rows(cells, news) == singly
    # once indexed, one row at a time counts through the index too
    assert [many.row(cell, new) for cell, new in zip(cells, news, strict=True)] == singly
    assert any(many.rows(cells, news)) == bool(sources)
