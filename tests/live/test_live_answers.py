"""``Subscription.live`` answers what a fresh query answers, in scope, before and after a
refresh; each distinct (document, variables, grants) is evaluated once per snapshot.

Random principals (every role, INGESTER included, on either tenant) subscribe with random
documents of the differential cache test, wrapped in ``subscription { live { ... } }``; each
first answer must equal a cache-less execution of the document as a query. Then new events
are ingested and folded into a new snapshot: every subscription whose fresh answer changed
gets exactly that new answer pushed, the others get nothing. On SQLite and PostgreSQL, with
the in-process cache and with Redis.
"""

from __future__ import annotations

import asyncio
import random
from contextlib import AsyncExitStack
from typing import Any

import orjson
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.authz.matrix import DEFAULT_MATRIX
from gateway.authz.principal import Principal
from gateway.roles import Role
from gateway.schema import GatewaySchema
from gateway.settings import Settings
from tests.cache_http.grammar import Document, random_principal
from tests.cache_http.support import Fresh, error_pairs, fresh
from tests.cache_http.test_differential import ALLOWED_CODES, leaks
from tests.cache_http.world import RANGE, more_events
from tests.live.support import LiveClient, bearer, live_settings, served
from tests.principals import ADMIN, principal

SUBSCRIPTIONS = 24
LIVE_ROLES = DEFAULT_MATRIX.roles("Subscription.live")


def as_live(query: str) -> str:
    """A grammar document (``query Q(...) {`` roots ``}`` fragments) as a ``live``
    subscription of the same selection."""
    lines = query.split("\n")
    assert lines[0].startswith("query Q")
    assert lines[0].endswith(" {")
    end = lines.index("}")
    lines[0] = "subscription" + lines[0][len("query") :] + " live {"
    lines[end] = "} }"
    return "\n".join(lines)


SURE = (
    (ADMIN, "workspace", "ws-1"),
    (principal(Role.SUPERAPP_OPERATOR, workspace="ws-2"), "workspace", "ws-2"),
    (principal(Role.SUPERAPP_OPERATOR, workspace="ws-2"), "workspace", "ws-1"),  # NOT_FOUND
    (principal(Role.MINI_PROGRAM_ADMIN, merchant="m-1"), "miniProgram", "mp-1"),
    (principal(Role.MINI_PROGRAM_DEVELOPER, merchant="m-1"), "targetApp", "app-1"),
)
"""Principals and entities whose answers the new launches change (or, out of scope, not)."""


def sure(rng: random.Random, level: str, entity: str) -> Document:
    """A document whose launches and active users the new events change."""
    text = "\n".join(
        [
            "query Q($r: TimeRangeInput!) {",
            f'  a1: {level}(id: "{entity}") {{ id launches(timeRange: $r) {{ value }} '
            "activeUsers(timeRange: $r) { value series { date value } } }",
            "}",
        ]
    )
    return Document(rng, variables={"r": dict(RANGE)}, text=text)


def computations() -> float:
    """Live evaluations executed so far in this process (the served gateway's thread)."""
    return REGISTRY.get_sample_value("gateway_live_computations_total") or 0.0


def topic(who: Principal, doc: Document) -> tuple[str, ...]:
    """What shares an evaluation: document, variables, grants (and subject with viewer)."""
    subject = who.subject if "viewer" in doc.text else ""
    variables = orjson.dumps(doc.variables, option=orjson.OPT_SORT_KEYS).decode()
    return doc.text, variables, who.grants_key, subject


def check(who: Principal, doc: Document, message: dict[str, Any], want: Fresh) -> None:
    """A ``next`` message carries ``want``'s data and errors, under ``live``."""
    context = f"{who}\n{doc.text}\n{doc.variables}"
    assert message["type"] == "next", (message, context)
    payload = message["payload"]
    assert {code for _, code in want.errors} <= ALLOWED_CODES, (want.errors, context)
    assert payload["data"] == {"live": want.data}, context
    errors = [{**e, "path": e["path"][1:]} for e in payload.get("errors", [])]
    assert all(e["path"][0] == "live" for e in payload.get("errors", [])), context
    assert error_pairs(errors) == want.errors, context
    assert leaks(who, want.data) == [], context


async def test_live_answers_equal_fresh_queries_before_and_after_a_refresh(
    world: AsyncEngine, settings: Settings, schema: GatewaySchema, cache_url: str | None
) -> None:
    rng = random.Random(20261206)
    principals = [random_principal(rng, n) for n in range(10)]
    documents = [Document.build(rng) for _ in range(10)]
    pairs = [(rng.choice(principals), rng.choice(documents)) for _ in range(SUBSCRIPTIONS)]
    pairs += [(who, sure(rng, level, entity)) for who, level, entity in SURE]
    pairs += pairs[:4]  # the same pairs twice: shared
    refused = [who for who, _ in pairs if not who.roles & LIVE_ROLES]
    assert refused, "the pool must hold principals who may not subscribe (INGESTER)"
    topics = {topic(who, doc) for who, doc in pairs if who.roles & LIVE_ROLES}
    served_settings = live_settings(settings, cache_url)
    with served(served_settings) as url:
        async with AsyncExitStack() as stack:
            clients = {
                who: await stack.enter_async_context(
                    LiveClient.connect(url, bearer(served_settings, who))
                )
                for who in {who for who, _ in pairs}
            }
            before = computations()
            for n, (who, doc) in enumerate(pairs):
                await clients[who].subscribe(str(n), as_live(doc.text), doc.variables)
            wants = [await fresh(schema, world, settings, who, doc.text, doc.variables)
                     for who, doc in pairs]  # fmt: skip
            for n, (who, doc) in enumerate(pairs):
                message = await clients[who].next(str(n))
                if who.roles & LIVE_ROLES:
                    check(who, doc, message, wants[n])
                else:  # the matrix entry of Subscription.live itself
                    assert message["type"] == "error"
                    assert message["payload"][0]["extensions"]["code"] == "FORBIDDEN"
            assert computations() - before == len(topics)

            before = computations()
            await more_events(world)  # ingests, then takes one new snapshot
            news = [await fresh(schema, world, settings, who, doc.text, doc.variables)
                    for who, doc in pairs]  # fmt: skip
            changed = [
                n
                for n, (who, _) in enumerate(pairs)
                if who.roles & LIVE_ROLES and news[n].data != wants[n].data
            ]
            assert changed, "the new events must change some answers"
            for n in changed:
                who, doc = pairs[n]
                check(who, doc, await clients[who].next(str(n)), news[n])
            await asyncio.sleep(0.5)  # any push still to come
            for client in clients.values():
                assert await client.silent(0.2) == [], "an unchanged answer was sent again"
                assert client.messages == []
            # Every topic was evaluated once for the new snapshot, whoever shares it.
            assert computations() - before == len(topics)
