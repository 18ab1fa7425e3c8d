"""Stampedes over HTTP: concurrent identical cold requests compute the response once.

Within one process the cache's single flight joins them; across processes ("workers": here two
apps, each with its own engine, cache and single flight) the Redis lock does.
"""

from __future__ import annotations

import asyncio

import orjson
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.roles import Role
from gateway.settings import Settings
from tests.cache.support import computations
from tests.cache_http.support import Answer, Gateway, http_settings, serve
from tests.conftest import REDIS_URL
from tests.principals import principal

OPERATOR = principal(Role.SUPERAPP_OPERATOR, "ws-1")
R = '{from: "2024-03-01", to: "2024-03-14"}'
PAGE = f"""{{ targetApp(id: "app-1") {{
  name
  miniProgramStatusCounts {{ all fullRelease reviewing }}
  activeUsers(timeRange: {R}) {{ value previousValue series {{ date value }} }}
  launches(timeRange: {R}) {{ value series {{ date value }} }}
  usersBySource(timeRange: {R}) {{ total items {{ key count share }} }}
  miniPrograms {{ nodes {{ id status pageViews(timeRange: {R}) {{ value }} }} }}
}} }}"""


async def warm(gateway: Gateway) -> None:
    """Read the generation once, so that the 500 requests reach the cache together."""
    assert (await gateway.ask(OPERATOR, "{ __typename }")).status == 200


def assert_one_computation(answers: list[Answer], before: float) -> None:
    """Every answer is the same 200 and exactly one request computed it."""
    assert computations("response") == before + 1
    assert {a.status for a in answers} == {200}
    assert answers[0].errors == []
    assert answers[0].data["targetApp"]["activeUsers"]["value"] > 0
    payloads = {orjson.dumps(a.data) for a in answers}
    assert len(payloads) == 1
    computed = [a for a in answers if not a.hit and not a.body["extensions"]["cache"]["shared"]]
    assert len(computed) == 1


async def test_500_concurrent_cold_requests_compute_once(
    world: AsyncEngine, settings: Settings, cache_url: str | None
) -> None:
    async with serve(http_settings(settings, cache_url, cache_poll_seconds=60)) as gateway:
        await warm(gateway)
        before = computations("response")
        answers = await asyncio.gather(*(gateway.ask(OPERATOR, PAGE) for _ in range(500)))
    assert_one_computation(list(answers), before)
    # Truly concurrent: nobody found a stored value, all 499 others waited for the one.
    assert not any(a.hit for a in answers)


async def test_two_workers_sharing_redis_compute_once(
    world: AsyncEngine, settings: Settings, redis_client: aioredis.Redis
) -> None:
    del world, redis_client  # the data, and Redis DB 15 flushed
    configured = http_settings(settings, REDIS_URL, cache_poll_seconds=60)
    async with serve(configured) as one, serve(configured) as two:
        await asyncio.gather(warm(one), warm(two))
        before = computations("response")
        requests = [g.ask(OPERATOR, PAGE) for _ in range(250) for g in (one, two)]
        answers = await asyncio.gather(*requests)
    assert_one_computation(list(answers), before)
