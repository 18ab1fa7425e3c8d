"""Differential safety of both cache layers (issue 5, point 6).

Random principals (every role, either tenant, one or two grants) x random documents (aliases,
named and inline fragments, duplicated fields, variables) run through the cached app cold, then
warm with the variables' keys in another order, and once without any cache. For every pair:
warm == cold == fresh (data, error paths and codes), the warm answer is a hit, and no entity
outside the principal's scope appears in the answer, by id or by name.

Principals and documents are drawn from small pools, so one document meets many scopes (the
response layer must keep them apart) and one metric meets many callers (the metric layer
shares it).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.authz.principal import Principal
from gateway.schema import GatewaySchema
from gateway.settings import Settings
from tests.access.conftest import M3, MP6
from tests.cache_http.grammar import Document, random_principal
from tests.cache_http.support import Gateway, fresh
from tests.cache_http.world import WHERE, visible
from tests.schema.catalog_data import MERCHANTS, MINI_PROGRAMS, TARGET_APPS, WORKSPACES

PAIRS = 150
"""(principal, document) pairs per database and cache kind."""
BATCH = 10
"""Pairs run concurrently."""
ALLOWED_CODES = {"FORBIDDEN", "NOT_FOUND"}

NAMES = {row["name"]: row["id"] for row in [*WORKSPACES, *TARGET_APPS, *MERCHANTS, M3]}
NAMES |= {row["name"]: row["id"] for row in [*MINI_PROGRAMS, MP6]}
"""Entity name -> id: a name is as revealing as an id."""


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def leaks(who: Principal, data: Any) -> list[str]:
    """Entities named in ``data`` (by id or name) that ``who`` may not see."""
    named = [NAMES.get(s, s) for s in strings(data)]
    return [entity for entity in named if entity in WHERE and not visible(who, entity)]


def reordered(value: Any) -> Any:
    """``value`` with every object's keys in reverse order (same JSON value)."""
    if isinstance(value, dict):
        return {k: reordered(value[k]) for k in reversed(list(value))}
    return value


async def check_pair(
    gateway: Gateway,
    schema: GatewaySchema,
    engine: AsyncEngine,
    settings: Settings,
    who: Principal,
    doc: Document,
) -> bool:
    """Cold, warm and fresh answers agree and stay in scope; True when cold was a miss."""
    cold = await gateway.ask(who, doc.text, doc.variables)
    warm = await gateway.ask(who, doc.text, reordered(doc.variables))
    want = await fresh(schema, engine, settings, who, doc.text, doc.variables)
    context = f"{who}\n{doc.text}\n{doc.variables}"
    assert {code for _, code in want.errors} <= ALLOWED_CODES, (want.errors, context)
    assert (cold.status, warm.status) == (200, 200), context
    assert (cold.data, cold.formatted) == (want.data, want.formatted), context
    assert (warm.data, warm.formatted) == (want.data, want.formatted), context
    assert warm.hit, context
    assert warm.snapshot_id == cold.snapshot_id
    assert leaks(who, want.data) == [], context
    return not cold.hit


async def test_cached_answers_equal_fresh_ones_and_stay_in_scope(
    gateway: Gateway, schema: GatewaySchema, world: AsyncEngine, settings: Settings
) -> None:
    rng = random.Random(20240301)
    principals = [random_principal(rng, n) for n in range(40)]
    documents = [Document.build(rng) for _ in range(60)]
    pairs = [(rng.choice(principals), rng.choice(documents)) for _ in range(PAIRS)]
    misses = 0
    for start in range(0, PAIRS, BATCH):
        checks = [
            check_pair(gateway, schema, world, settings, who, doc)
            for who, doc in pairs[start : start + BATCH]
        ]
        misses += sum(await asyncio.gather(*checks))
    # Most pairs were new to the cache (the pools repeat some on purpose).
    assert misses > PAIRS // 2
