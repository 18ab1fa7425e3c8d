"""Cost budgets per caller over a window, in Redis and in-process: spend, refusal, reset,
leases shared by two processes, failing open when Redis is down."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY

from gateway.cache.breaker import CircuitBreaker
from gateway.cache.buckets import LEASE_SECONDS
from gateway.cache.budgets import Budgets, MemoryBudgets, RedisBudgets, Spent, lease_points
from tests.conftest import REDIS_URL
from tests.limits.test_rate_limit import _script_calls
from tests.redis_server import _free_port

WINDOW = 60.0


def _budgets(cache_url: str | None, url: str | None = None) -> Budgets:
    """The budgets of ``cache_url`` (None: in-process)."""
    if cache_url is None:
        return MemoryBudgets()
    return RedisBudgets.from_url(url or cache_url, 0.5, CircuitBreaker(3, 60.0))


async def test_spends_until_the_window_is_spent_then_resets(cache_url: str | None) -> None:
    budgets = _budgets(cache_url)
    try:
        assert await budgets.spend("jwt:a", 60, 100, WINDOW, 1000.0) == Spent(True, 60, 1060.0)
        # 40 left: 41 is refused and changes nothing, 40 fits exactly.
        assert await budgets.spend("jwt:a", 41, 100, WINDOW, 1010.0) == Spent(False, 60, 1060.0)
        assert await budgets.spend("jwt:a", 40, 100, WINDOW, 1020.0) == Spent(True, 100, 1060.0)
        assert await budgets.spend("jwt:a", 1, 100, WINDOW, 1059.9) == Spent(False, 100, 1060.0)
        # The window opened by the first spend ends 60 s later: a new one opens.
        assert await budgets.spend("jwt:a", 1, 100, WINDOW, 1060.0) == Spent(True, 1, 1120.0)
    finally:
        await budgets.close()


async def test_callers_have_their_own_windows(cache_url: str | None) -> None:
    budgets = _budgets(cache_url)
    try:
        assert (await budgets.spend("jwt:a", 10, 10, WINDOW, 0.0) or Spent(False, 0, 0)).granted
        assert not (await budgets.spend("jwt:a", 1, 10, WINDOW, 1.0) or Spent(True, 0, 0)).granted
        b = await budgets.spend("jwt:b", 1, 10, WINDOW, 30.0)
        assert b == Spent(True, 1, 90.0)  # b's window opens with b's first spend
    finally:
        await budgets.close()


async def test_a_cost_above_the_whole_budget_needs_a_fresh_window(cache_url: str | None) -> None:
    budgets = _budgets(cache_url)
    try:
        assert await budgets.spend("jwt:a", 500, 100, WINDOW, 0.0) == Spent(True, 500, 60.0)
        assert await budgets.spend("jwt:a", 500, 100, WINDOW, 59.0) == Spent(False, 500, 60.0)
        assert await budgets.spend("jwt:a", 1, 100, WINDOW, 59.0) == Spent(False, 500, 60.0)
        assert await budgets.spend("jwt:a", 500, 100, WINDOW, 60.0) == Spent(True, 500, 120.0)
    finally:
        await budgets.close()


def _redis_budgets() -> RedisBudgets:
    return RedisBudgets.from_url(REDIS_URL, 0.5, CircuitBreaker(3, 60.0))


async def test_a_process_leases_points_and_spends_small_costs_without_redis(
    redis_client: aioredis.Redis,
) -> None:
    budgets = _redis_budgets()
    limit = 10_000
    lease = lease_points(limit)  # 50
    try:
        calls = await _script_calls(redis_client)
        spent = [await budgets.spend("jwt:a", 1, limit, WINDOW, 10.0) for _ in range(2 * lease)]
        # Each script call spends 1 and leases 50 more: 100 spends, two calls. What each
        # answer reports counts what was spent, not what is leased.
        assert await _script_calls(redis_client) - calls == 2
        assert [s.used for s in spent if s is not None] == list(range(1, 2 * lease + 1))
        # A cost above what the lease holds goes to Redis, giving the rest of the lease back.
        big = await budgets.spend("jwt:a", 1000, limit, WINDOW, 10.0)
        assert big == Spent(True, 2 * lease + 1000, 70.0)
    finally:
        await budgets.close()


async def test_two_processes_never_spend_more_than_the_budget(
    redis_client: aioredis.Redis,
) -> None:
    one, two = _redis_budgets(), _redis_budgets()
    limit = 2000
    try:
        granted = 0
        for i in range(1500):  # alternating, as two workers behind one load balancer
            for budgets in (one, two):
                spent = await budgets.spend("jwt:a", 1, limit, WINDOW, 10.0 + i * 1e-6)
                granted += spent is not None and spent.granted
        # Never more than the budget; at most a lease per process refused early.
        assert limit - 2 * lease_points(limit) <= granted <= limit
        # A third process sees what both spent (and what they still hold in leases).
        three = _redis_budgets()
        try:
            seen = await three.spend("jwt:a", 0, limit, WINDOW, 11.0)
        finally:
            await three.close()
        assert seen is not None
        assert granted <= seen.used <= granted + 2 * lease_points(limit)
    finally:
        await one.close()
        await two.close()


async def test_a_lapsed_lease_goes_back_within_its_window(redis_client: aioredis.Redis) -> None:
    budgets = _redis_budgets()
    limit = 10_000
    try:
        await budgets.spend("jwt:a", 1, limit, WINDOW, 10.0)  # 1 spent, 50 leased
        later = await budgets.spend("jwt:a", 1, limit, WINDOW, 10.0 + LEASE_SECONDS)
        # The lapsed lease's 50 went back before this call's 1 and its new lease of 50.
        assert later == Spent(True, 2, 70.0)
        other = _redis_budgets()
        try:
            seen = await other.spend("jwt:a", 0, limit, WINDOW, 12.0)
            assert seen == Spent(True, 2 + lease_points(limit), 70.0)  # the live lease counts
        finally:
            await other.close()
    finally:
        await budgets.close()


def _errors() -> float:
    return REGISTRY.get_sample_value("gateway_cost_budget_errors_total") or 0.0


async def test_redis_down_fails_open_and_counts_it() -> None:
    before = _errors()
    budgets = _budgets("redis", f"redis://127.0.0.1:{_free_port()}/0")
    try:
        spent = [await budgets.spend("jwt:a", 10**6, 1, WINDOW, 0.0) for _ in range(5)]
    finally:
        await budgets.close()
    assert spent == [None] * 5  # not metered: nothing refused
    assert _errors() == before + 5  # 3 failures, then the open breaker skips Redis


@pytest.mark.parametrize("limit", [1, 199, 200, 5000, 10**9])
def test_lease_points_stay_small_and_vanish_for_small_budgets(limit: int) -> None:
    points = lease_points(limit)
    assert 0 <= points <= 1000
    assert points <= limit // 200
