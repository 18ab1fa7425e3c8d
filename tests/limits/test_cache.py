"""A limit lowered by configuration applies to documents the response cache already holds."""

from __future__ import annotations

import redis.asyncio as aioredis

from tests.conftest import REDIS_URL
from tests.limits.conftest import Serve
from tests.limits.support import codes, deep_query


async def test_lowered_depth_limit_is_not_bypassed_by_a_warm_shared_cache(
    serve: Serve, admin: dict[str, str], executions: list[str], redis_client: aioredis.Redis
) -> None:
    body = {"query": deep_query(6)}
    async with serve(redis_url=REDIS_URL, cache_poll_seconds=0.0) as http:
        first = await http.post("/graphql", json=body, headers=admin)
        second = await http.post("/graphql", json=body, headers=admin)
    assert second.json()["extensions"]["cache"]["hit"] is True  # it is in Redis
    assert first.json()["data"] == second.json()["data"]
    async with serve(redis_url=REDIS_URL, cache_poll_seconds=0.0, max_query_depth=5) as http:
        lowered = await http.post("/graphql", json=body, headers=admin)
    assert codes(lowered) == ["QUERY_TOO_COMPLEX"]
    assert len(executions) == 1
