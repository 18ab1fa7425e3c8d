"""Persisted queries and trusted documents apply to subscription documents as to queries."""

from __future__ import annotations

from hashlib import sha256
from pathlib import Path

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.settings import Settings
from tests.live.support import LiveClient, bearer, live_settings, served
from tests.principals import ADMIN

LISTED = "subscription Listed { live { snapshot { id } } }"
OTHER = "subscription Other { snapshots { id } }"


def _hash(document: str) -> str:
    return sha256(document.encode()).hexdigest()


def _persisted(document: str, with_query: bool) -> dict[str, object]:
    payload: dict[str, object] = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": _hash(document)}}
    }
    if with_query:
        payload["query"] = document
    return payload


async def test_automatic_persisted_subscriptions(url: str, served_settings: Settings) -> None:
    async with LiveClient.connect(url, bearer(served_settings, ADMIN)) as client:
        await client.send({"id": "1", "type": "subscribe", "payload": _persisted(OTHER, False)})
        unknown = await client.next("1")
        assert unknown["type"] == "error"
        assert unknown["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        await client.send({"id": "2", "type": "subscribe", "payload": _persisted(OTHER, True)})
        assert (await client.next("2"))["payload"]["data"] == {"snapshots": {"id": "1"}}
        await client.send({"id": "3", "type": "subscribe", "payload": _persisted(OTHER, False)})
        assert (await client.next("3"))["payload"]["data"] == {"snapshots": {"id": "1"}}
        wrong = {**_persisted(OTHER, False), "query": LISTED}
        await client.send({"id": "4", "type": "subscribe", "payload": wrong})
        mismatch = await client.next("4")
        assert mismatch["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_trusted_documents_bind_subscriptions(
    settings: Settings, world: AsyncEngine, tmp_path: Path
) -> None:
    manifest = tmp_path / "trusted.json"
    manifest.write_bytes(orjson.dumps({_hash(LISTED): LISTED}))
    bound = live_settings(settings, trusted_documents_file=manifest)
    with served(bound) as url:
        async with LiveClient.connect(url, bearer(bound, ADMIN)) as client:
            await client.subscribe("listed", LISTED)
            assert (await client.next("listed"))["type"] == "next"
            await client.send(
                {"id": "by-hash", "type": "subscribe", "payload": _persisted(LISTED, False)}
            )
            assert (await client.next("by-hash"))["type"] == "next"
            await client.subscribe("other", OTHER)
            refused = await client.next("other")
            assert refused["type"] == "error"
            assert refused["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
