"""Loader contracts: answers in key order, None/empty for unknown keys, one query per batch."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.loaders import Loaders
from gateway.loaders.keys import PageKey, PairKey
from tests.loaders.statements import counting_statements
from tests.schema.catalog_data import HISTORY, insert_catalog


async def test_by_id_answers_in_key_order_with_none_for_unknown(engine: AsyncEngine) -> None:
    await insert_catalog(engine)
    loaders = Loaders.create(engine)
    rows = await loaders.mini_program.load_many(["mp-3", "nope", "mp-1", "mp-3"])
    assert [row.id if row else None for row in rows] == ["mp-3", None, "mp-1", "mp-3"]
    assert rows[0] is not None
    assert rows[0].created_at.tzinfo is not None


async def test_one_statement_per_batch(engine: AsyncEngine) -> None:
    await insert_catalog(engine)
    loaders = Loaders.create(engine)
    pairs = [PairKey(app, mp) for app, mp in HISTORY] + [PairKey("app-1", "mp-5")]
    with counting_statements(engine) as seen:
        histories = await asyncio.gather(*(loaders.deployment_history.load(p) for p in pairs))
    assert len(seen) == 1
    assert [[c.status for c in h] for h in histories[:-1]] == [
        [s for s, _ in changes] for changes in HISTORY.values()
    ]
    assert histories[-1] == ()


async def test_page_keys_with_different_arguments_in_one_batch(engine: AsyncEngine) -> None:
    await insert_catalog(engine)
    loaders = Loaders.create(engine)
    keys = [
        PageKey("app-1", first=2),
        PageKey("app-2", first=2),
        PageKey("app-1", first=2, after="mp-2"),
        PageKey("app-3", first=0),
    ]
    pages = await loaders.mini_programs_by_target_app.load_many(keys)
    assert [[row.id for row in page.items] for page in pages] == [
        ["mp-1", "mp-2"],
        ["mp-1", "mp-3"],
        ["mp-3", "mp-4"],
        [],
    ]
    assert [(page.has_next, page.total) for page in pages] == [
        (True, 4),
        (False, 2),
        (False, 4),
        (True, 1),
    ]
