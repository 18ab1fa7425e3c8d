"""Layer (b) over HTTP: whole responses, keyed by document, variables, grants and generation.

Each test drives the real app (lifespan, JWT authentication, the view) on both databases and
both cache kinds, and reads ``extensions.cache`` and the cache's Prometheus counters.
"""

from __future__ import annotations

import datetime as dt

import orjson
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.authz.principal import Principal
from gateway.authz.tokens import mint_token
from gateway.roles import Grant, Role
from gateway.settings import Settings
from tests.cache.support import computations, lookups
from tests.cache_http.support import Gateway, http_settings, serve
from tests.cache_http.world import RANGE, more_events
from tests.conftest import REDIS_URL
from tests.principals import ADMIN, principal

DASHBOARD = """query Dashboard($ws: ID!, $r: TimeRangeInput!) {
  workspace(id: $ws) {
    id name
    activeUsers(timeRange: $r) { value previousValue series { date value } }
    launches(timeRange: $r) { value }
  }
}"""
OPERATOR_1 = principal(Role.SUPERAPP_OPERATOR, "ws-1")
OPERATOR_2 = principal(Role.SUPERAPP_OPERATOR, "ws-2")
DEVELOPER_1 = principal(Role.SUPERAPP_DEVELOPER, "ws-1")
WS1 = {"ws": "ws-1", "r": RANGE}


def response_computations() -> float:
    """Responses computed so far (layer b)."""
    return computations("response")


async def test_a_repeated_document_is_served_only_to_the_same_grants(gateway: Gateway) -> None:
    before = response_computations()
    first = await gateway.ask(OPERATOR_1, DASHBOARD, WS1)
    assert (first.status, first.errors, first.hit) == (200, [], False)
    assert first.data["workspace"]["activeUsers"]["value"] > 0
    again = await gateway.ask(OPERATOR_1, DASHBOARD, WS1)
    assert (again.hit, again.data) == (True, first.data)
    # Same grants, another subject: the same effective scope, so the same entry.
    twin = await gateway.ask(Principal("someone-else", OPERATOR_1.grants), DASHBOARD, WS1)
    assert (twin.hit, twin.data) == (True, first.data)
    assert response_computations() == before + 1
    # Other grants: never the first entry.
    other = await gateway.ask(OPERATOR_2, DASHBOARD, WS1)
    assert (other.hit, other.data) == (False, {"workspace": None})
    assert other.errors == [(("workspace",), "NOT_FOUND")]
    other_again = await gateway.ask(OPERATOR_2, DASHBOARD, WS1)
    assert (other_again.hit, other_again.body["errors"]) == (True, other.body["errors"])
    platform = await gateway.ask(ADMIN, DASHBOARD, WS1)
    assert (platform.hit, platform.data) == (False, first.data)
    assert response_computations() == before + 3


async def test_variables_in_another_key_order_are_the_same_entry(gateway: Gateway) -> None:
    first = await gateway.ask(OPERATOR_1, DASHBOARD, {"ws": "ws-1", "r": RANGE})
    reordered = {"r": {"to": RANGE["to"], "from": RANGE["from"]}, "ws": "ws-1"}
    assert orjson.dumps(reordered) != orjson.dumps(WS1)  # really another text
    second = await gateway.ask(OPERATOR_1, DASHBOARD, reordered)
    assert (first.hit, second.hit, second.data) == (False, True, first.data)
    other_range = await gateway.ask(
        OPERATOR_1, DASHBOARD, {**WS1, "r": {**RANGE, "to": "2024-03-13"}}
    )
    assert other_range.hit is False


async def test_a_refresh_starts_a_new_generation(gateway: Gateway, world: AsyncEngine) -> None:
    first = await gateway.ask(OPERATOR_1, DASHBOARD, WS1)
    assert (await gateway.ask(OPERATOR_1, DASHBOARD, WS1)).hit
    await more_events(world)
    after = await gateway.ask(OPERATOR_1, DASHBOARD, WS1)
    assert after.hit is False
    assert after.snapshot_id > first.snapshot_id > 0
    users = after.data["workspace"]["activeUsers"]["value"]
    assert users > first.data["workspace"]["activeUsers"]["value"]
    again = await gateway.ask(OPERATOR_1, DASHBOARD, WS1)
    assert (again.hit, again.snapshot_id, again.data) == (True, after.snapshot_id, after.data)


async def test_an_ingested_catalog_record_shows_in_the_next_answer(gateway: Gateway) -> None:
    query = "{ workspaces { totalCount nodes { id name } } }"
    first = await gateway.ask(ADMIN, query)
    assert [n["id"] for n in first.data["workspaces"]["nodes"]] == ["ws-1", "ws-2"]
    assert (await gateway.ask(ADMIN, query)).hit
    ingester = Principal("ingester", (Grant(Role.INGESTER),))
    posted = await gateway.http.post(
        "/v1/events",
        content=b'{"kind": "workspace", "id": "ws-9", "name": "Late"}\n',
        headers=gateway.headers(ingester),
    )
    assert posted.status_code == 200, posted.text
    after = await gateway.ask(ADMIN, query)
    assert after.hit is False
    assert after.snapshot_id == first.snapshot_id  # no refresh: only the catalog moved
    assert [n["id"] for n in after.data["workspaces"]["nodes"]] == ["ws-1", "ws-2", "ws-9"]


async def test_a_forbidden_answer_stays_with_its_scope(gateway: Gateway) -> None:
    query = (
        '{ workspace(id: "ws-1") { name activeUsers(timeRange: '
        '{from: "2024-03-01", to: "2024-03-14"}) { value } } }'
    )
    denied = await gateway.ask(DEVELOPER_1, query)
    assert denied.data == {"workspace": {"name": "Alpha", "activeUsers": None}}
    assert (denied.hit, denied.errors) == (False, [(("workspace", "activeUsers"), "FORBIDDEN")])
    denied_again = await gateway.ask(DEVELOPER_1, query)
    assert (denied_again.hit, denied_again.body["errors"]) == (True, denied.body["errors"])
    allowed = await gateway.ask(OPERATOR_1, query)
    assert (allowed.hit, allowed.errors) == (False, [])
    assert allowed.data["workspace"]["activeUsers"]["value"] > 0
    allowed_again = await gateway.ask(OPERATOR_1, query)
    assert (allowed_again.hit, allowed_again.data) == (True, allowed.data)
    still_denied = await gateway.ask(DEVELOPER_1, query)
    assert (still_denied.hit, still_denied.data) == (True, denied.data)


async def test_other_errors_are_never_stored(gateway: Gateway) -> None:
    reversed_range = (
        '{ workspace(id: "ws-1") { name activeUsers(timeRange: '
        '{from: "2024-03-14", to: "2024-03-01"}) { value } } }'
    )
    invalid = '{ workspace(id: "ws-1") { nope } }'
    before = response_computations()
    for query, code in ((reversed_range, "BAD_USER_INPUT"), (invalid, None)):
        for _ in range(2):
            answer = await gateway.ask(ADMIN, query)
            assert answer.hit is False
            assert answer.body["errors"], answer.body
            if code is not None:
                assert answer.errors == [(("workspace", "activeUsers"), code)]
    assert response_computations() == before + 4  # each one computed: nothing was stored


async def test_unauthenticated_requests_never_touch_the_cache(gateway: Gateway) -> None:
    counted = [lookups("response", r) for r in ("hit", "miss", "error")]
    before = response_computations()
    expired = mint_token(
        gateway.settings,
        ADMIN.subject,
        ADMIN.grants,
        dt.timedelta(minutes=1),
        now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Bearer {expired}"}):
        answer = await gateway.ask(None, DASHBOARD, WS1, headers=headers)
        assert answer.status == 401
        assert "extensions" not in answer.body or "cache" not in answer.body["extensions"]
    assert [lookups("response", r) for r in ("hit", "miss", "error")] == counted
    assert response_computations() == before


async def test_the_viewer_is_never_served_to_another_subject(gateway: Gateway) -> None:
    query = "query Me { me: viewer { subject grants { role workspaceId } } }"
    mine = await gateway.ask(OPERATOR_1, query)
    assert mine.data["me"]["subject"] == OPERATOR_1.subject
    assert (await gateway.ask(OPERATOR_1, query)).hit  # still cached for its own subject
    twin = await gateway.ask(Principal("someone-else", OPERATOR_1.grants), query)
    assert twin.data["me"] == {**mine.data["me"], "subject": "someone-else"}


async def test_entries_expire_when_the_next_snapshot_is_due_plus_grace(
    world: AsyncEngine, settings: Settings, redis_client: aioredis.Redis
) -> None:
    configured = http_settings(
        settings, REDIS_URL, refresh_interval_seconds=600, cache_grace_seconds=30
    )
    async with serve(configured) as gateway:
        answer = await gateway.ask(OPERATOR_1, DASHBOARD, WS1)
    taken = dt.datetime.fromisoformat(answer.body["extensions"]["snapshot"]["takenAt"])
    due = (taken + dt.timedelta(seconds=600 + 30) - dt.datetime.now(dt.UTC)).total_seconds()
    for layer in ("response", "metric"):
        keys = [key async for key in redis_client.scan_iter(f"gw:v2:{layer}:*")]
        assert keys, layer
        for key in keys:
            ttl = await redis_client.pttl(key) / 1000
            assert due - 10 < ttl <= due + 0.5, (layer, ttl, due)


async def test_near_identical_grants_never_share_an_entry(gateway: Gateway) -> None:
    # A superset of grants, the same workspace under another role, and ids that differ only by
    # a character a separator could stand for: each is its own scope, so its own entry.
    listing = "{ workspaces(first: 10) { nodes { id } } }"
    both = Principal("both", (*OPERATOR_1.grants, *OPERATOR_2.grants))
    near = principal(Role.SUPERAPP_OPERATOR, "ws-1:")
    first = await gateway.ask(OPERATOR_1, listing)
    assert (first.hit, first.data) == (False, {"workspaces": {"nodes": [{"id": "ws-1"}]}})
    wider = await gateway.ask(both, listing)
    assert wider.hit is False
    assert wider.data == {"workspaces": {"nodes": [{"id": "ws-1"}, {"id": "ws-2"}]}}
    other_role = await gateway.ask(DEVELOPER_1, listing)
    assert (other_role.hit, other_role.data) == (False, first.data)
    lookalike = await gateway.ask(near, listing)
    assert (lookalike.hit, lookalike.data) == (False, {"workspaces": {"nodes": []}})
    assert (await gateway.ask(both, listing)).hit is True  # and each entry is still its own
