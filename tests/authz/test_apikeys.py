"""API keys on both databases: created once, stored hashed, listed, verified, revoked at once."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.roles import Grant, Role
from gateway.store import tables as t
from gateway.store.apikeys import (
    LAST_USED_RESOLUTION,
    ApiKeyError,
    create_api_key,
    list_api_keys,
    revoke_api_key,
    verify_api_key,
)

INGESTER = Grant(Role.INGESTER)
OPERATOR = Grant(Role.SUPERAPP_OPERATOR, workspace_id="ws_1")
T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


async def _last_used(engine: AsyncEngine, name: str) -> datetime | None:
    async with engine.connect() as conn:
        query = select(t.api_keys.c.last_used_at).where(t.api_keys.c.name == name)
        value: datetime | None = await conn.scalar(query)
        return value


async def test_create_returns_the_key_once_and_stores_only_its_hash(engine: AsyncEngine) -> None:
    key = await create_api_key(engine, "bot", [OPERATOR, INGESTER], now=T0)
    match = re.fullmatch(r"gw_([0-9a-f]{12})_([A-Za-z0-9_-]{43})", key)
    assert match is not None
    async with engine.connect() as conn:
        row = (await conn.execute(select(t.api_keys))).mappings().one()
    assert row["prefix"] == match[1]
    assert row["secret_hash"] == hashlib.sha256(match[2].encode()).hexdigest()
    assert all(match[2] not in str(value) for value in row.values())
    [info] = await list_api_keys(engine)
    assert (info.name, info.prefix, info.created_at) == ("bot", match[1], T0)
    assert set(info.grants) == {OPERATOR, INGESTER}
    assert (info.last_used_at, info.revoked_at) == (None, None)


async def test_two_keys_differ(engine: AsyncEngine) -> None:
    first = await create_api_key(engine, "a", [INGESTER])
    second = await create_api_key(engine, "b", [INGESTER])
    assert first != second
    assert [k.name for k in await list_api_keys(engine)] == ["a", "b"]


async def test_verify_gives_name_and_grants_and_records_last_use(engine: AsyncEngine) -> None:
    key = await create_api_key(engine, "bot", [OPERATOR], now=T0)
    match = await verify_api_key(engine, key, now=T0 + timedelta(minutes=5))
    assert match is not None
    assert (match.name, match.grants) == ("bot", (OPERATOR,))
    assert await _last_used(engine, "bot") == T0 + timedelta(minutes=5)
    # Within a minute the stored time is not rewritten (spares a write per request) ...
    await verify_api_key(engine, key, now=T0 + timedelta(minutes=5, seconds=30))
    assert await _last_used(engine, "bot") == T0 + timedelta(minutes=5)
    # ... after it, it is.
    later = T0 + timedelta(minutes=5) + LAST_USED_RESOLUTION + timedelta(seconds=1)
    await verify_api_key(engine, key, now=later)
    assert await _last_used(engine, "bot") == later


async def test_wrong_or_malformed_keys_do_not_verify(engine: AsyncEngine) -> None:
    key = await create_api_key(engine, "bot", [INGESTER])
    prefix, secret = key.split("_", 2)[1:]
    wrong_secret = f"gw_{prefix}_{'A' * 43}"
    unknown_prefix = f"gw_{'0' * 12}_{secret}"
    for candidate in (wrong_secret, unknown_prefix, key[:-1], key + "x", "", "gw__", secret):
        assert await verify_api_key(engine, candidate) is None, candidate
    assert await _last_used(engine, "bot") is None
    assert await verify_api_key(engine, key) is not None


@pytest.mark.parametrize("by", ["name", "prefix"])
async def test_revoke_takes_effect_on_the_next_verification(engine: AsyncEngine, by: str) -> None:
    key = await create_api_key(engine, "bot", [INGESTER])
    keep = await create_api_key(engine, "other", [INGESTER])
    assert await verify_api_key(engine, key) is not None
    target = "bot" if by == "name" else key.split("_")[1]
    revoked = await revoke_api_key(engine, target, now=T0)
    assert revoked is not None
    assert (revoked.name, revoked.revoked_at) == ("bot", T0)
    assert await verify_api_key(engine, key) is None
    assert await verify_api_key(engine, keep) is not None
    listed = {k.name: k.revoked_at for k in await list_api_keys(engine)}
    assert listed == {"bot": T0, "other": None}


async def test_revoking_twice_keeps_the_first_time_and_unknown_is_none(
    engine: AsyncEngine,
) -> None:
    await create_api_key(engine, "bot", [INGESTER])
    await revoke_api_key(engine, "bot", now=T0)
    again = await revoke_api_key(engine, "bot", now=T0 + timedelta(days=1))
    assert again is not None
    assert again.revoked_at == T0
    assert await revoke_api_key(engine, "nobody") is None


async def test_a_name_wins_over_another_keys_prefix(engine: AsyncEngine) -> None:
    key = await create_api_key(engine, "first", [INGESTER])
    prefix = key.split("_")[1]
    named_like_prefix = await create_api_key(engine, prefix, [INGESTER])
    revoked = await revoke_api_key(engine, prefix)
    assert revoked is not None
    assert revoked.name == prefix
    assert await verify_api_key(engine, named_like_prefix) is None
    assert await verify_api_key(engine, key) is not None


async def test_names_are_unique_even_after_revocation(engine: AsyncEngine) -> None:
    await create_api_key(engine, "bot", [INGESTER])
    with pytest.raises(ApiKeyError, match="already exists"):
        await create_api_key(engine, "bot", [OPERATOR])
    await revoke_api_key(engine, "bot")
    with pytest.raises(ApiKeyError, match="already exists"):
        await create_api_key(engine, "bot", [INGESTER])


@pytest.mark.parametrize("name", ["", " bot", "bot key", "-bot", "x" * 129, "bøt"])
async def test_bad_names_and_empty_grants_are_refused(engine: AsyncEngine, name: str) -> None:
    with pytest.raises(ApiKeyError, match="bad key name"):
        await create_api_key(engine, name, [INGESTER])
    with pytest.raises(ApiKeyError, match="grant"):
        await create_api_key(engine, "fine", [])
    assert await list_api_keys(engine) == []
