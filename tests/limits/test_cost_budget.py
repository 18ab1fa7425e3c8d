"""Cost budgets per caller over a window, in Redis and in-process: spend, refusal, reset,
leases shared by two processes, failing open when Redis is down."""

from __future__ import annotations

import asyncio
import time

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


def _same_window(spent: Spent | None, first: Spent | None, granted: bool, used: int) -> bool:
    """``spent`` is ``(granted, used)`` in the window ``first`` opened."""
    assert spent is not None
    assert first is not None
    return (spent.granted, spent.used, spent.reset_at) == (granted, used, first.reset_at)


async def _after_reset(budgets: Budgets, first: Spent, cost: int) -> tuple[bool, int]:
    """Granted and used of a spend of ``cost`` once ``first``'s window has reset (a new
    window, ending after ``first``'s)."""
    await asyncio.sleep(first.reset_at - time.time() + 0.05)
    fresh = await budgets.spend("jwt:a", cost, 100, first.reset_at - first.at, time.time())
    assert fresh is not None
    assert fresh.reset_at > first.reset_at
    return fresh.granted, fresh.used


async def test_spends_until_the_window_is_spent_then_resets(cache_url: str | None) -> None:
    # Real time and a short window: windows in Redis run on Redis's clock, not the caller's.
    budgets, window = _budgets(cache_url), 0.5
    try:
        first = await budgets.spend("jwt:a", 60, 100, window, time.time())
        assert first is not None
        assert first.granted
        assert first.used == 60
        assert first.reset_at == pytest.approx(first.at + window, abs=0.002)
        assert abs(first.at - time.time()) < 5  # the budgets' clock is a wall clock
        # 40 left: 41 is refused and changes nothing, 40 fits exactly.
        refused = await budgets.spend("jwt:a", 41, 100, window, time.time())
        assert _same_window(refused, first, False, 60)
        assert refused is not None
        assert 0 < refused.wait <= window
        full = await budgets.spend("jwt:a", 40, 100, window, time.time())
        assert _same_window(full, first, True, 100)
        assert _same_window(
            await budgets.spend("jwt:a", 1, 100, window, time.time()), first, False, 100
        )
        # The window opened by the first spend ends ``window`` later: a new one opens.
        assert await _after_reset(budgets, first, 1) == (True, 1)
    finally:
        await budgets.close()


async def test_callers_have_their_own_windows(cache_url: str | None) -> None:
    budgets = _budgets(cache_url)
    try:
        a = await budgets.spend("jwt:a", 10, 10, WINDOW, time.time())
        assert a is not None
        assert a.granted
        assert _same_window(await budgets.spend("jwt:a", 1, 10, WINDOW, time.time()), a, False, 10)
        await asyncio.sleep(0.01)
        b = await budgets.spend("jwt:b", 1, 10, WINDOW, time.time())
        assert b is not None
        assert (b.granted, b.used) == (True, 1)
        assert b.reset_at > a.reset_at  # b's window opens with b's first spend
    finally:
        await budgets.close()


async def test_a_cost_above_the_whole_budget_needs_a_fresh_window(cache_url: str | None) -> None:
    budgets, window = _budgets(cache_url), 0.5
    try:
        first = await budgets.spend("jwt:a", 500, 100, window, time.time())
        assert first is not None
        assert (first.granted, first.used) == (True, 500)
        assert _same_window(
            await budgets.spend("jwt:a", 500, 100, window, time.time()), first, False, 500
        )
        assert _same_window(
            await budgets.spend("jwt:a", 1, 100, window, time.time()), first, False, 500
        )
        assert await _after_reset(budgets, first, 500) == (True, 500)
    finally:
        await budgets.close()


def test_in_process_windows_run_on_the_callers_clock() -> None:
    budgets = MemoryBudgets()
    assert budgets.spend_now("jwt:a", 60, 100, WINDOW, 1000.0) == Spent(True, 60, 1060.0, 1000.0)
    assert budgets.spend_now("jwt:a", 41, 100, WINDOW, 1010.0) == Spent(False, 60, 1060.0, 1010.0)
    assert budgets.spend_now("jwt:a", 1, 100, WINDOW, 1059.9) == Spent(True, 61, 1060.0, 1059.9)
    assert budgets.spend_now("jwt:a", 1, 100, WINDOW, 1060.0) == Spent(True, 1, 1120.0, 1060.0)


async def test_redis_windows_ignore_the_callers_clock(redis_client: aioredis.Redis) -> None:
    # Two workers whose clocks are an hour apart share one window, opened and reset on
    # Redis's clock: the late clock neither resets it nor reports another reset.
    early, late = _redis_budgets(), _redis_budgets()
    try:
        now = time.time()
        first = await early.spend("jwt:a", 6, 10, WINDOW, now)
        skewed = await late.spend("jwt:a", 5, 10, WINDOW, now + 3600)
        assert first is not None
        assert skewed is not None
        assert (skewed.granted, skewed.used, skewed.reset_at) == (False, 6, first.reset_at)
        assert skewed.wait == pytest.approx(WINDOW, abs=1.0)
        server, micros = await redis_client.time()
        assert first.at == pytest.approx(server + micros / 1e6, abs=1.0)
    finally:
        await early.close()
        await late.close()


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
        assert _same_window(big, spent[0], True, 2 * lease + 1000)
        # Spends from the lease report Redis's clock, not the caller's (10.0 here).
        assert spent[-1] is not None
        assert abs(spent[-1].at - time.time()) < 5
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
        first = await budgets.spend("jwt:a", 1, limit, WINDOW, 10.0)  # 1 spent, 50 leased
        # Leases lapse on the caller's clock (10.0 here: a lease times this process only).
        later = await budgets.spend("jwt:a", 1, limit, WINDOW, 10.0 + LEASE_SECONDS)
        # The lapsed lease's 50 went back before this call's 1 and its new lease of 50.
        assert _same_window(later, first, True, 2)
        other = _redis_budgets()
        try:
            seen = await other.spend("jwt:a", 0, limit, WINDOW, 12.0)
            assert _same_window(seen, first, True, 2 + lease_points(limit))  # the lease counts
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
