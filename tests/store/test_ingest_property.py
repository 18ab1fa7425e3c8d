"""Property: near-valid input never makes ingest_lines raise, and valid events are stored."""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store import tables as t
from gateway.store.ingest import ingest_lines
from gateway.store.records import MAX_DURATION_MS
from tests.store.ingest_support import ad_impression, catalog, launch, lines, page_view, user

_ids = itertools.count()

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=200),
    st.lists(st.integers(), max_size=3),
    st.sampled_from(["", "app1", "mp1", "-1", "1e400", "2024-02-30T00:00:00Z", "PRODUCTION"]),
    st.sampled_from(["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "1e30"]),
)


@st.composite
def near_valid(draw: st.DrawFn) -> tuple[dict[str, Any], bool]:
    """A valid record, or one with one key dropped or one value replaced: (record, valid)."""
    n = next(_ids)
    builders = [
        lambda: launch(f"L{n}", guid=f"g{n % 5}"),
        lambda: page_view(f"P{n}", duration=draw(st.integers(0, MAX_DURATION_MS))),
        lambda: ad_impression(f"A{n}", revenue=draw(st.sampled_from(["0", "1.5", "0.000001"]))),
        lambda: user(f"g{n % 5}"),
    ]
    record = draw(st.sampled_from(builders))()
    mutation = draw(st.sampled_from(["none", "drop", "replace"]))
    key = draw(st.sampled_from(sorted(record)))
    if mutation == "drop" and key not in {"page", "createdAt"}:
        record = {k: v for k, v in record.items() if k != key}
        return record, False
    if mutation == "replace":
        record = {**record, key: draw(JUNK)}
        return record, False  # may happen to be valid; only "valid => stored" is asserted
    return record, True


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(near_valid(), max_size=25), chunk_size=st.integers(1, 30))
async def test_near_valid_records_never_raise(
    engine: AsyncEngine, batch: list[tuple[dict[str, Any], bool]], chunk_size: int
) -> None:
    data = lines(catalog()) + [json.dumps(record).encode() for record, _ in batch]
    report = await ingest_lines(engine, data, source="fuzz", chunk_size=chunk_size)
    assert report.records == len(data)
    assert report.stored + report.duplicates + report.quarantined == report.records
    valid = {r["id"]: r["kind"] for r, ok in batch if ok and r["kind"] != "user"}
    tables = {"launch": t.launches, "pageView": t.page_views, "adImpression": t.ad_impressions}
    async with engine.connect() as conn:
        for kind, table in tables.items():
            wanted = [i for i, k in valid.items() if k == kind]
            stored = set(await conn.scalars(select(table.c.id).where(table.c.id.in_(wanted))))
            assert stored == set(wanted)
