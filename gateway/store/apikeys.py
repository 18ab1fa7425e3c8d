"""API keys (``X-API-Key``): create, list, revoke and verify; only a hash of the secret is kept.

A key reads ``gw_<prefix>_<secret>``: the prefix (12 hex digits) is a public id that finds the
row and is shown by ``gateway apikey list``; the secret (32 random bytes, URL-safe base64) is
stored as its SHA-256 hex. A fast hash is right here, unlike for passwords: the secret has 256
bits of entropy, so there is nothing to brute-force, and verifying costs one hash per request.

Every verification reads the row, so a revocation takes effect on the very next request.

Example:
    >>> key = await create_api_key(engine, "ingest-bot", [Grant(Role.INGESTER)])
    >>> (await verify_api_key(engine, key)).name
    'ingest-bot'
    >>> _ = await revoke_api_key(engine, "ingest-bot")
    >>> await verify_api_key(engine, key) is None
    True
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import RowMapping, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.roles import Grant, GrantError
from gateway.store.db_faults import read_retrying
from gateway.store.tables import api_keys

KEY_PREFIX = "gw"
"""First part of every key, so a leaked key is recognisable (e.g. by secret scanners)."""

LAST_USED_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` is rewritten at most this often per key: a busy key would otherwise cost
a write (and, on SQLite, the database's single write lock) on every request."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_KEY = re.compile(r"^gw_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


class ApiKeyError(ValueError):
    """A key cannot be created as asked (bad or taken name, no grants)."""


class ApiKeyMatch(NamedTuple):
    """What a valid key authenticates as."""

    name: str
    grants: tuple[Grant, ...]


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """One key as ``gateway apikey list`` shows it (never the secret)."""

    name: str
    prefix: str
    grants: tuple[Grant, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _grants_json(grants: Sequence[Grant]) -> str:
    return json.dumps([grant.as_claim() for grant in grants], separators=(",", ":"))


def _parse_grants(text: str) -> tuple[Grant, ...]:
    return tuple(Grant.from_claim(claim) for claim in json.loads(text))


async def create_api_key(
    engine: AsyncEngine, name: str, grants: Sequence[Grant], *, now: datetime | None = None
) -> str:
    """Store a new key named ``name`` holding ``grants``; returns the full key (only once).

    Raises:
        ApiKeyError: when the name is malformed or taken (revoked keys keep their name), or
            ``grants`` is empty.
    """
    if not _NAME.match(name):
        raise ApiKeyError(
            f"bad key name {name!r}: 1-128 letters, digits, '.', '_', ':' or '-', "
            "starting with a letter or digit"
        )
    if not grants:
        raise ApiKeyError("an API key needs at least one grant")
    prefix, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    row = {
        "name": name,
        "prefix": prefix,
        "secret_hash": _hash(secret),
        "grants": _grants_json(sorted(set(grants))),
        "created_at": now or _utcnow(),
    }
    try:
        async with engine.begin() as conn:
            await conn.execute(api_keys.insert().values(**row))
    except IntegrityError as exc:
        # A prefix collision (48 random bits) is far less likely than a taken name.
        raise ApiKeyError(
            f"an API key named {name!r} already exists (revoked keys keep their name)"
        ) from exc
    return f"{KEY_PREFIX}_{prefix}_{secret}"


def _info(mapping: RowMapping) -> ApiKeyInfo:
    return ApiKeyInfo(
        name=mapping["name"],
        prefix=mapping["prefix"],
        grants=_parse_grants(mapping["grants"]),
        created_at=mapping["created_at"],
        last_used_at=mapping["last_used_at"],
        revoked_at=mapping["revoked_at"],
    )


_INFO_COLUMNS = (
    api_keys.c.name,
    api_keys.c.prefix,
    api_keys.c.grants,
    api_keys.c.created_at,
    api_keys.c.last_used_at,
    api_keys.c.revoked_at,
)


async def list_api_keys(engine: AsyncEngine) -> list[ApiKeyInfo]:
    """Every key, revoked ones included, oldest first."""
    query = select(*_INFO_COLUMNS).order_by(api_keys.c.created_at, api_keys.c.id)
    async with engine.connect() as conn:
        return [_info(row) for row in (await conn.execute(query)).mappings()]


async def revoke_api_key(
    engine: AsyncEngine, name_or_prefix: str, *, now: datetime | None = None
) -> ApiKeyInfo | None:
    """Revoke the key with this name (or, failing that, this prefix); None when none matches.

    Revoking twice keeps the first revocation time. Returns the key as it is afterwards.
    """
    match = or_(api_keys.c.name == name_or_prefix, api_keys.c.prefix == name_or_prefix)
    # A name wins over another key's prefix: order the name match first.
    query = (
        select(api_keys.c.id, *_INFO_COLUMNS)
        .where(match)
        .order_by((api_keys.c.name == name_or_prefix).desc())
        .limit(1)
    )
    async with engine.begin() as conn:
        row = (await conn.execute(query)).first()
        if row is None:
            return None
        await conn.execute(
            update(api_keys)
            .where(api_keys.c.id == row.id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now or _utcnow())
        )
        fresh = await conn.execute(select(*_INFO_COLUMNS).where(api_keys.c.id == row.id))
        return _info(fresh.mappings().one())


def api_key_prefix(key: str) -> str | None:
    """The public prefix of a well-formed key (no database read), else None.

    >>> api_key_prefix("gw_0123456789ab_" + "x" * 43), api_key_prefix("nonsense")
    ('0123456789ab', None)
    """
    parsed = _KEY.match(key.strip())
    return parsed.group(1) if parsed is not None else None


async def verify_api_key(
    engine: AsyncEngine, key: str, *, now: datetime | None = None
) -> ApiKeyMatch | None:
    """The name and grants of ``key`` when it exists, matches and is not revoked, else None.

    Records the use in ``last_used_at`` (at most once per :data:`LAST_USED_RESOLUTION`).
    Idempotent, so run once more on a lost connection (:func:`read_retrying`).

    Raises:
        ServiceUnavailableError: the database cannot be reached.
    """
    parsed = _KEY.match(key)
    if parsed is None:
        return None
    return await read_retrying(lambda: _verify(engine, parsed, now))


async def _verify(
    engine: AsyncEngine, parsed: re.Match[str], now: datetime | None
) -> ApiKeyMatch | None:
    """:func:`verify_api_key` once, for the key's ``(prefix, secret)`` match."""
    prefix, secret = parsed.groups()
    query = select(
        api_keys.c.id,
        api_keys.c.name,
        api_keys.c.secret_hash,
        api_keys.c.grants,
        api_keys.c.last_used_at,
    ).where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    # compare_digest: the time taken must not tell how much of the hash matched.
    if row is None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
        return None
    now = now or _utcnow()
    stale = now - LAST_USED_RESOLUTION
    if row.last_used_at is None or row.last_used_at < stale:
        async with engine.begin() as conn:
            await conn.execute(
                update(api_keys)
                .where(
                    api_keys.c.id == row.id,
                    or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at < stale),
                )
                .values(last_used_at=now)
            )
    try:
        grants = _parse_grants(row.grants)
    except GrantError:  # stored before ids had a grammar: the key no longer authenticates
        return None
    return ApiKeyMatch(row.name, grants)
