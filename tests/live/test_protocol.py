"""graphql-transport-ws at /graphql: authentication by connection_init, the protocol's close
codes, limits, keep-alive, and the end of a connection whose credential ends."""

from __future__ import annotations

import asyncio
import itertools
import threading
from contextlib import AsyncExitStack

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.roles import Role
from gateway.settings import Settings
from gateway.store.apikeys import create_api_key, revoke_api_key
from gateway.store.rollup import refresh
from gateway.web.live.evaluation import Answer
from gateway.web.live.hub import LiveHub
from gateway.web.live.peer import Subscriber
from tests.live.support import LiveClient, bearer, live_settings, served
from tests.principals import ADMIN, principal

SNAPSHOTS = "subscription { snapshots { id } }"


async def test_no_credential_is_refused_with_4403(url: str) -> None:
    async with LiveClient.connect(url, {}, ack=False) as client:
        code, reason = await client.closed()
    assert code == 4403
    assert "Authorization" in reason


@pytest.mark.parametrize(
    "payload",
    [
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"X-API-Key": "gw_0123456789ab_wrong"},
        {"Authorization": 7},
    ],
)
async def test_a_bad_credential_is_refused_with_4403(url: str, payload: dict[str, object]) -> None:
    async with LiveClient.connect(url, payload, ack=False) as client:
        code, reason = await client.closed()
    assert code == 4403, reason
    assert reason.startswith("Forbidden")


async def test_subscribe_before_acknowledgement_closes_4401(url: str) -> None:
    async with LiveClient.connect(url, None) as client:
        await client.subscribe("1", SNAPSHOTS)
        assert (await client.closed())[0] == 4401


async def test_duplicate_id_closes_4409(url: str, served_settings: Settings) -> None:
    async with LiveClient.connect(url, bearer(served_settings, ADMIN)) as client:
        await client.subscribe("1", SNAPSHOTS)
        assert (await client.next("1"))["type"] == "next"
        await client.subscribe("1", SNAPSHOTS)
        assert (await client.closed())[0] == 4409


async def test_messages_are_text_and_answers_follow_the_protocol(
    url: str, served_settings: Settings
) -> None:
    async with LiveClient.connect(url, bearer(served_settings, ADMIN)) as client:
        await client.subscribe("s", "subscription { s: snapshots { id } }")
        first = await client.next("s")
        assert first["type"] == "next"
        assert first["payload"]["data"] == {"s": {"id": "1"}}
        assert first["payload"]["extensions"]["snapshot"]["id"] == 1
        # A query over the socket: one answer, then complete.
        await client.subscribe("q", "{ snapshot { id } }")
        assert (await client.next("q"))["payload"]["data"] == {"snapshot": {"id": "1"}}
        assert (await client.next("q"))["type"] == "complete"
        # Client ping -> pong.
        await client.send({"type": "ping"})
        assert (await client.receive())["type"] == "pong"


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        ("subscription { live { nope } }", None, "Cannot query field 'nope' on type 'Query'"),
        ("subscription {", None, "Syntax Error"),
        ("subscription { live { snapshot { id } } snapshots { id } }", None, "one top level"),
        ("subscription { ... on Subscription { live { snapshot { id } } } }", "BAD_USER_INPUT",
         "directly at the subscription's root"),
        ("mutation { x }", "BAD_USER_INPUT", "mutations do not run over WebSocket"),
    ],
)  # fmt: skip
async def test_refusals_are_error_messages_and_the_connection_stays(
    url: str, served_settings: Settings, query: str, code: str | None, message: str
) -> None:
    async with LiveClient.connect(url, bearer(served_settings, ADMIN)) as client:
        await client.subscribe("1", query)
        error = await client.next("1")
        assert error["type"] == "error"
        assert message in error["payload"][0]["message"]
        if code is not None:
            assert error["payload"][0]["extensions"]["code"] == code
        await client.subscribe("2", SNAPSHOTS)  # the id is free again, the socket open
        assert (await client.next("2"))["type"] == "next"


async def test_error_locations_point_into_the_subscription_document(
    url: str, served_settings: Settings
) -> None:
    query = 'subscription Wall {\n  board: live {\n    workspace(id: "ws-1") { nope }\n  }\n}'
    async with LiveClient.connect(url, bearer(served_settings, ADMIN)) as client:
        await client.subscribe("1", query)
        error = (await client.next("1"))["payload"][0]
    assert error["locations"] == [{"line": 3, "column": 29}]


async def test_an_operation_still_starting_counts_once_against_the_limit(
    settings: Settings, world: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "1" has joined its topic but its first answer is not out yet (held here): it is both
    # starting and subscribed, and must count once, so "2" is admitted and "3" refused.
    joined, release = threading.Event(), threading.Event()
    calls = itertools.count()
    first_answer = LiveHub.first_answer

    async def held_first(self: LiveHub, subscriber: Subscriber) -> Answer:
        if next(calls) == 0:
            joined.set()
            await asyncio.to_thread(release.wait, 15)
        return await first_answer(self, subscriber)

    monkeypatch.setattr(LiveHub, "first_answer", held_first)
    limited = live_settings(settings, live_subscriptions_per_connection=2)
    with served(limited) as url:
        async with LiveClient.connect(url, bearer(limited, ADMIN)) as client:
            await client.subscribe("1", SNAPSHOTS)
            assert await asyncio.to_thread(joined.wait, 15)
            await client.subscribe("2", SNAPSHOTS)
            await client.subscribe("3", SNAPSHOTS)
            refused = await client.next("3")
            assert refused["type"] == "error", refused
            assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
            second = await client.next("2")
            release.set()
            first = await client.next("1")
    assert (first["type"], second["type"]) == ("next", "next"), (first, second)


async def test_the_limits_of_queries_apply(settings: Settings, world: AsyncEngine) -> None:
    limited = live_settings(settings, max_query_depth=3, max_query_cost=50)
    deep = 'subscription { live { workspace(id: "ws-1") { targetApps { nodes { id } } } } }'
    costly = (
        'subscription { live { workspace(id: "ws-1") { targetApps(first: 100) { nodes { '
        "activeUsers(timeRange: {preset: LAST_30_DAYS}) { series { value } } } } } } }"
    )
    with served(limited) as url:
        async with LiveClient.connect(url, bearer(limited, ADMIN)) as client:
            await client.subscribe("deep", deep)
            await client.subscribe("costly", costly)
            for operation in ("deep", "costly"):
                error = await client.next(operation)
                assert error["type"] == "error", error
                assert error["payload"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_subscriptions_per_connection_are_limited(
    settings: Settings, world: AsyncEngine
) -> None:
    limited = live_settings(settings, live_subscriptions_per_connection=2)
    with served(limited) as url:
        async with LiveClient.connect(url, bearer(limited, ADMIN)) as client:
            for operation in ("1", "2", "3"):
                await client.subscribe(operation, SNAPSHOTS)
            for operation in ("1", "2"):
                answer = await client.next(operation)
                assert answer["type"] == "next", answer
            refused = await client.next("3")
            assert refused["type"] == "error"
            assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
            await client.send({"id": "1", "type": "complete"})
            await asyncio.sleep(0.2)
            await client.subscribe("3", SNAPSHOTS)
            assert (await client.next("3"))["type"] == "next"


async def test_connections_per_principal_are_limited(
    settings: Settings, world: AsyncEngine
) -> None:
    limited = live_settings(settings, live_connections_per_principal=2)
    other = principal(Role.SUPERAPP_OPERATOR, workspace="ws-1")
    with served(limited) as url:
        async with (
            LiveClient.connect(url, bearer(limited, ADMIN)),
            LiveClient.connect(url, bearer(limited, ADMIN)),
        ):
            async with LiveClient.connect(url, bearer(limited, ADMIN), ack=False) as third:
                code, reason = await third.closed()
            assert (code, "too many connections" in reason) == (1013, True)
            async with LiveClient.connect(url, bearer(limited, other)):
                pass  # another principal is not counted with the first
        # Closed connections are not counted any more.
        async with LiveClient.connect(url, bearer(limited, ADMIN)):
            pass


async def test_a_connection_ends_when_its_token_expires(
    url: str, served_settings: Settings
) -> None:
    # The verification leeway (a few seconds of clock skew) is added to exp.
    async with LiveClient.connect(url, bearer(served_settings, ADMIN, seconds=1)) as client:
        await client.subscribe("1", SNAPSHOTS)
        assert (await client.next("1"))["type"] == "next"
        code, reason = await client.closed(wait=90)
    assert code == 4403
    assert "expired" in reason


async def test_a_connection_ends_when_its_api_key_is_revoked(url: str, world: AsyncEngine) -> None:
    key = await create_api_key(world, "wall", ADMIN.grants)
    async with LiveClient.connect(url, {"X-API-Key": key}) as client:
        await client.subscribe("1", SNAPSHOTS)
        assert (await client.next("1"))["type"] == "next"
        assert await client.silent(0.5) == []  # valid keys stay connected across polls
        await revoke_api_key(world, "wall")
        code, reason = await client.closed()
    assert (code, "revoked" in reason) == (4403, True)


async def test_the_server_pings(settings: Settings, world: AsyncEngine) -> None:
    quick = live_settings(settings, live_keepalive_seconds=0.2)
    with served(quick) as url:
        async with LiveClient.connect(url, bearer(quick, ADMIN)) as client:
            raw = await asyncio.wait_for(client.socket.recv(), 10)
            assert raw == '{"type":"ping"}'


async def test_http_refuses_subscriptions(url: str, served_settings: Settings) -> None:
    http_url = url.replace("ws://", "http://")
    headers = bearer(served_settings, ADMIN)
    async with httpx.AsyncClient() as http:
        answer = await http.post(http_url, json={"query": SNAPSHOTS}, headers=headers)
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "WebSocket" in error["message"]


async def test_the_cost_budget_is_charged_once_per_subscription(
    settings: Settings, world: AsyncEngine
) -> None:
    # 1 admission point + the operation's cost, at subscribe; pushes are not charged.
    budgeted = live_settings(settings, cost_budget_per_window=5, cost_budget_window_seconds=600)
    costly = (
        'subscription { live { workspace(id: "ws-1") { '
        "a: launches(timeRange: {days: 7}) { value } } } }"
    )
    async with AsyncExitStack() as stack:
        url = stack.enter_context(served(budgeted))
        client = await stack.enter_async_context(LiveClient.connect(url, bearer(budgeted, ADMIN)))
        await client.subscribe("1", costly)
        first = await client.next("1")
        assert first["type"] == "next"
        cost = first["payload"]["extensions"]["cost"]
        assert 1 + cost <= 5 < 2 * (1 + cost)
        await client.subscribe("2", costly)
        refused = await client.next("2")
        assert refused["type"] == "error"
        extensions = refused["payload"][0]["extensions"]
        assert extensions["code"] == "RATE_LIMITED"
        assert extensions["retryAfter"] > 0


def _gauge(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def test_gauges_count_connections_and_subscriptions_and_nothing_leaks(
    url: str, served_settings: Settings
) -> None:
    connections, subscriptions = (
        _gauge("gateway_live_connections"),
        _gauge("gateway_live_subscriptions"),
    )
    async with (
        LiveClient.connect(url, bearer(served_settings, ADMIN)) as one,
        LiveClient.connect(url, bearer(served_settings, ADMIN)) as two,
    ):
        await one.subscribe("a", SNAPSHOTS)
        await one.subscribe("b", "subscription { live { snapshot { id } } }")
        await two.subscribe("a", SNAPSHOTS)
        for client, operation in ((one, "a"), (one, "b"), (two, "a")):
            assert (await client.next(operation))["type"] == "next"
        assert _gauge("gateway_live_connections") - connections == 2
        assert _gauge("gateway_live_subscriptions") - subscriptions == 3
        await one.send({"id": "a", "type": "complete"})
        await one.send({"type": "ping"})
        assert (await one.receive())["type"] == "pong"  # the complete was handled
        assert _gauge("gateway_live_subscriptions") - subscriptions == 2
    for _ in range(50):  # the server notices the closed sockets
        if _gauge("gateway_live_connections") == connections:
            break
        await asyncio.sleep(0.1)
    assert _gauge("gateway_live_connections") == connections
    assert _gauge("gateway_live_subscriptions") == subscriptions
    assert _gauge("gateway_live_documents") == 0


async def test_an_answer_of_a_newer_snapshot_than_polled_moves_everyone(
    settings: Settings, world: AsyncEngine
) -> None:
    # The process polls the generation every 60 s and hears no announcement (no Redis): a
    # new subscriber's answer reads the snapshot a refresh just committed; it is labelled
    # with that snapshot, and the subscribers of the older one are pushed at once.
    slow = live_settings(settings, cache_poll_seconds=60)
    with served(slow) as url:
        async with LiveClient.connect(url, bearer(slow, ADMIN)) as client:
            await client.subscribe("old", SNAPSHOTS)
            assert (await client.next("old"))["payload"]["data"] == {"snapshots": {"id": "1"}}
            await refresh(world)
            await client.subscribe("new", "subscription { s: snapshots { id } }")  # not cached
            new = (await client.next("new"))["payload"]
            assert new["data"] == {"s": {"id": "2"}}
            assert new["extensions"]["snapshot"]["id"] == 2
            pushed = (await client.next("old", wait=10))["payload"]
            assert pushed["data"] == {"snapshots": {"id": "2"}}
