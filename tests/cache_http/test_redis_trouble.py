"""Redis trouble over HTTP: stopped, restarted, slow or flushed while requests run.

Each test runs its own redis-server on a free port (the shared 6379 is never touched). Every
answer must be a 200 equal to a cache-less execution of the same document for the same
principal; the cache must be used again once Redis is back. Most tests turn the near copy off
(``cache_max_bytes=0``) so that lookups reach Redis; the last one shows what it adds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.authz.principal import Principal
from gateway.cache.redis import RedisBackend
from gateway.roles import Role
from gateway.schema import GatewaySchema
from gateway.settings import Settings
from tests.cache.conftest import RedisServer
from tests.cache.support import lookups
from tests.cache_http.support import Answer, Fresh, Gateway, fresh, http_settings, serve
from tests.principals import ADMIN, principal
from tests.redis_server import STALLS, stalled

# Redis trouble does not depend on the database: run on the production pairing only
# (PostgreSQL + Redis), which keeps the package's run time in budget.
pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)

RESET_SECONDS = 0.5
R = '{from: "2024-03-01", to: "2024-03-14"}'
WORKSPACE = f"""{{ workspace(id: "ws-1") {{ name
  activeUsers(timeRange: {R}) {{ value series {{ date value }} }}
  estimatedAdRevenue(timeRange: {R}) {{ value previousValue }} }} }}"""
APP = f"""{{ targetApp(id: "app-1") {{ name miniProgramStatusCounts {{ all reviewing }}
  launches(timeRange: {R}) {{ value series(granularity: WEEK) {{ date value }} }}
  miniPrograms {{ nodes {{ id activeUsers(timeRange: {R}) {{ value }} }} }} }} }}"""
MINI = f"""{{ miniProgram(id: "mp-1") {{ name
  pageViews(timeRange: {R}) {{ value series {{ date value }} }}
  averageTimePerUser(timeRange: {R}) {{ value }} }} }}"""
DOCUMENTS: list[tuple[Principal, str]] = [
    (ADMIN, WORKSPACE),
    (ADMIN, APP),
    (principal(Role.SUPERAPP_OPERATOR, "ws-1"), APP),
    (principal(Role.SUPERAPP_OPERATOR, "ws-2"), WORKSPACE),  # NOT_FOUND
    (principal(Role.SUPERAPP_DEVELOPER, "ws-1"), WORKSPACE),  # FORBIDDEN metrics
    (principal(Role.MINI_PROGRAM_ADMIN, merchant="m-1"), MINI),
    (principal(Role.MINI_PROGRAM_DEVELOPER, merchant="m-1"), APP),  # NOT_FOUND
]


@pytest.fixture
async def expected(schema: GatewaySchema, world: AsyncEngine, settings: Settings) -> list[Fresh]:
    """Each document of :data:`DOCUMENTS` executed without any cache."""
    return [await fresh(schema, world, settings, who, query) for who, query in DOCUMENTS]


def trouble_settings(settings: Settings, server: RedisServer, near_bytes: int = 0) -> Settings:
    """The app on ``server``: 100 ms timeouts, breaker opens after 3 failures; no near copy
    unless ``near_bytes``."""
    return http_settings(
        settings,
        server.url,
        redis_timeout_ms=100,
        cache_breaker_failures=3,
        cache_breaker_reset_seconds=RESET_SECONDS,
        cache_max_bytes=near_bytes,
    )


@pytest.fixture
async def gateway(
    world: AsyncEngine, settings: Settings, private_redis: RedisServer
) -> AsyncIterator[Gateway]:
    """The app on the private Redis (see :func:`trouble_settings`)."""
    async with serve(trouble_settings(settings, private_redis)) as served:
        yield served


def breaker_state(gateway: Gateway) -> str:
    """The state of the app's Redis circuit breaker."""
    backend = gateway.app.state.services.cache.backend
    assert isinstance(backend, RedisBackend)
    return backend.breaker.state


async def round_(gateway: Gateway, expected: list[Fresh]) -> list[Answer]:
    """Every document once, concurrently; each answer must equal the cache-less one."""
    answers = await asyncio.gather(*(gateway.ask(who, query) for who, query in DOCUMENTS))
    for answer, want in zip(answers, expected, strict=True):
        assert answer.status == 200, answer.body
        assert (answer.data, answer.errors) == (want.data, want.errors)
    return list(answers)


async def keep_asking(gateway: Gateway, expected: list[Fresh], rounds: int) -> list[Answer]:
    """``rounds`` rounds, 10 ms apart."""
    answers: list[Answer] = []
    for _ in range(rounds):
        answers += await round_(gateway, expected)
        await asyncio.sleep(0.01)
    return answers


def response_lookups() -> dict[str, float]:
    """Layer (b) lookups so far, by result."""
    return {result: lookups("response", result) for result in ("hit", "miss", "error")}


async def test_redis_stopped_mid_load_answers_every_request(
    gateway: Gateway, expected: list[Fresh], private_redis: RedisServer
) -> None:
    warm = await keep_asking(gateway, expected, 2)
    assert [a.hit for a in warm[len(DOCUMENTS) :]] == [True] * len(DOCUMENTS)
    before = response_lookups()
    loading = asyncio.create_task(keep_asking(gateway, expected, 20))
    for _ in range(500):  # until the load has been served from Redis (a slow host: later)
        if response_lookups()["hit"] > before["hit"]:
            break
        await asyncio.sleep(0.01)
    assert not loading.done()
    await asyncio.to_thread(private_redis.stop)  # while requests are in flight
    answers = await loading  # every one a 200 with the right data (checked in round_)
    assert breaker_state(gateway) == "open"
    after = response_lookups()
    assert after["hit"] > before["hit"]  # before the stop
    assert after["error"] > before["error"]  # after it
    assert not any(a.hit for a in answers[-len(DOCUMENTS) :])


async def test_redis_restarted_is_used_again_after_the_reset_period(
    gateway: Gateway, expected: list[Fresh], private_redis: RedisServer
) -> None:
    private_redis.stop()
    await keep_asking(gateway, expected, 3)
    assert breaker_state(gateway) == "open"
    private_redis.start()
    await asyncio.sleep(RESET_SECONDS + 0.1)
    answers = await keep_asking(gateway, expected, 3)
    assert breaker_state(gateway) == "closed"
    # The first round stored the answers in the restarted Redis; the next ones hit them.
    assert [a.hit for a in answers[-len(DOCUMENTS) :]] == [True] * len(DOCUMENTS)
    async with aioredis.Redis.from_url(private_redis.url) as client:
        assert await client.dbsize() > 0


@pytest.mark.parametrize("stall", STALLS, ids=["pause", "sleep"])
async def test_slow_redis_answers_before_the_stall_ends(
    gateway: Gateway, expected: list[Fresh], private_redis: RedisServer, stall: tuple[str, ...]
) -> None:
    await keep_asking(gateway, expected, 2)  # connections open, answers cached
    async with stalled(private_redis.url, stall) as redis_answers:
        await keep_asking(gateway, expected, 3)  # each answer checked against the fresh one
        answered_during_stall = not redis_answers.done()
    assert answered_during_stall  # all three rounds answered while Redis was stalled
    assert breaker_state(gateway) == "open"


async def test_flushall_mid_load_keeps_answers_right(
    gateway: Gateway, expected: list[Fresh], private_redis: RedisServer
) -> None:
    await keep_asking(gateway, expected, 2)
    async with aioredis.Redis.from_url(private_redis.url) as admin:
        loading = asyncio.create_task(keep_asking(gateway, expected, 20))
        await asyncio.sleep(0.05)
        await admin.flushall()
        await asyncio.sleep(0.05)
        await admin.flushall()
        answers: list[Answer] = await loading
    assert not all(a.hit for a in answers)  # the flush was noticed: recomputed, rightly
    assert all(a.hit for a in answers[-len(DOCUMENTS) :])  # and stored again
    assert breaker_state(gateway) == "closed"


async def test_near_copy_keeps_seen_answers_cached_while_redis_is_down(
    world: AsyncEngine, settings: Settings, private_redis: RedisServer, expected: list[Fresh]
) -> None:
    async with serve(trouble_settings(settings, private_redis, near_bytes=1 << 24)) as gateway:
        warm = await keep_asking(gateway, expected, 2)
        assert all(a.hit for a in warm[len(DOCUMENTS) :])
        await asyncio.to_thread(private_redis.stop)
        errors_before = response_lookups()["error"]
        answers = await keep_asking(gateway, expected, 5)  # right answers (checked in round_)
        assert all(a.hit for a in answers)  # every one from this process's near copy
        assert response_lookups()["error"] == errors_before  # Redis was not even asked
        private_redis.start()
        async with aioredis.Redis.from_url(private_redis.url) as client:
            assert await client.dbsize() == 0  # restarted empty: hits above were near


async def test_redis_restarted_under_load_answers_every_request_and_is_used_again(
    gateway: Gateway, expected: list[Fresh], private_redis: RedisServer
) -> None:
    """20 clients ask the whole time Redis stops and starts again: every answer is a 200 with
    the right data (checked in round_), and the restarted Redis serves hits again."""
    await keep_asking(gateway, expected, 2)
    stop = asyncio.Event()

    async def client() -> list[Answer]:
        answers: list[Answer] = []
        while not stop.is_set():
            answers += await round_(gateway, expected)
        return answers

    clients = [asyncio.create_task(client()) for _ in range(20)]
    await asyncio.sleep(0.2)
    await asyncio.to_thread(private_redis.stop)
    await asyncio.sleep(0.5)
    await asyncio.to_thread(private_redis.start)
    await asyncio.sleep(RESET_SECONDS + 0.5)
    stop.set()
    answered = [a for answers in await asyncio.gather(*clients) for a in answers]
    assert len(answered) > 20 * len(DOCUMENTS)
    assert breaker_state(gateway) == "closed"
    again = await keep_asking(gateway, expected, 2)
    assert all(a.hit for a in again[-len(DOCUMENTS) :])
    async with aioredis.Redis.from_url(private_redis.url) as client_:
        assert await client_.dbsize() > 0
