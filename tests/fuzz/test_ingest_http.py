"""``POST /v1/events`` under random input, on the live gateway: random bytes never get a 5xx,
and in a mixed batch (valid records, records with a key dropped or a value replaced by junk,
junk lines) every valid record is stored (SPEC §2: bad lines are quarantined, never the rest).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store import tables as t
from gateway.store.db import create_engine
from tests.fuzz.conftest import EXAMPLES, Live
from tests.store.ingest_support import catalog, lines
from tests.store.test_ingest_property import near_valid

STATUSES = {200, 207, 400}
"""All stored; some quarantined; a body that is not records at all."""
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
BODIES = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=500).map(str.encode),
    st.lists(st.binary(max_size=80), max_size=20).map(b"\n".join),
    st.sampled_from([b"[", b"[]", b"[1,", b"{}", b'[{"kind": "launch"}]', b"\x00", b"\xff\xfe"]),
)


@pytest.fixture(scope="module")
async def ingesting(live: Live) -> AsyncIterator[tuple[Live, AsyncEngine]]:
    """The live gateway with the ingest tests' catalog, and an engine on its database."""
    async with httpx.AsyncClient(base_url=live.url, headers=live.ingester) as client:
        response = await client.post("/v1/events", content=b"".join(lines(catalog())))
        assert response.status_code == 200, response.text
    engine = create_engine(live.settings)
    yield live, engine
    await engine.dispose()


@FUZZ
@given(body=BODIES)
async def test_random_bytes_never_get_a_server_error(
    ingesting: tuple[Live, AsyncEngine], body: bytes
) -> None:
    live, _ = ingesting
    async with httpx.AsyncClient(base_url=live.url, headers=live.ingester) as client:
        response = await client.post("/v1/events", content=body)
    assert response.status_code in STATUSES, (response.status_code, response.text[:500])
    assert isinstance(response.json(), dict)


@FUZZ
@given(
    batch=st.lists(near_valid(), max_size=25),
    junk=st.lists(st.binary(max_size=40).filter(lambda b: b"\n" not in b), max_size=3),
    as_array=st.booleans(),
)
async def test_every_valid_record_of_a_mixed_batch_is_stored(
    ingesting: tuple[Live, AsyncEngine],
    batch: list[tuple[dict[str, Any], bool]],
    junk: list[bytes],
    as_array: bool,
) -> None:
    live, engine = ingesting
    records = [json.dumps(record).encode() for record, _ in batch]
    array = b"[" + b",".join(records) + b"]"
    body = array if as_array else b"\n".join([*records, *junk])
    async with httpx.AsyncClient(base_url=live.url, headers=live.ingester) as client:
        response = await client.post("/v1/events", content=body)
    assert response.status_code in STATUSES, (response.status_code, response.text[:500])
    if not records and not junk:
        return
    report = orjson.loads(response.content)
    if response.status_code != 400:
        assert report["stored"] + report["duplicates"] + report["quarantined"] == report["records"]
    valid = {r["id"]: r["kind"] for r, ok in batch if ok and r["kind"] != "user"}
    async with engine.connect() as conn:
        for kind, table in t.EVENT_TABLES.items():
            wanted = {i for i, k in valid.items() if k == kind}
            stored = set(await conn.scalars(select(table.c.id).where(table.c.id.in_(wanted))))
            assert stored == wanted, (response.status_code, report)
