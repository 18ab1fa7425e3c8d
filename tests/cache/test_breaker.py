"""The circuit breaker state machine, on a fake clock."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.cache.breaker import CacheUnavailable, CircuitBreaker


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_opens_after_consecutive_failures_only(clock: Clock) -> None:
    changes: list[bool] = []
    breaker = CircuitBreaker(3, 5.0, on_change=changes.append, clock=clock)
    breaker.failure()
    breaker.failure()
    breaker.success()  # a success in between resets the count
    breaker.failure()
    breaker.failure()
    assert breaker.state == "closed"
    assert breaker.allow()
    breaker.failure()
    assert breaker.state == "open"
    assert changes == [True]
    assert not breaker.allow()


def test_one_trial_after_the_reset_period_then_closes_on_success(clock: Clock) -> None:
    changes: list[bool] = []
    breaker = CircuitBreaker(1, 5.0, on_change=changes.append, clock=clock)
    breaker.failure()
    clock.now += 4.9
    assert not breaker.allow()
    clock.now += 0.2
    assert breaker.allow()  # the trial
    assert breaker.state == "half-open"
    assert not breaker.allow()  # only one trial at a time
    breaker.success()
    assert breaker.state == "closed"
    assert breaker.allow()
    assert changes == [True, False]


def test_failed_trial_opens_again_for_a_full_period(clock: Clock) -> None:
    changes: list[bool] = []
    breaker = CircuitBreaker(2, 5.0, on_change=changes.append, clock=clock)
    breaker.failure()
    breaker.failure()
    clock.now += 5.0
    assert breaker.allow()
    breaker.failure()
    assert breaker.state == "open"
    clock.now += 4.0
    assert not breaker.allow()
    clock.now += 1.0
    assert breaker.allow()
    assert changes == [True]  # still the same opening: the gauge is not counted twice


async def test_call_converts_redis_errors_and_skips_while_open(clock: Clock) -> None:
    breaker = CircuitBreaker(2, 5.0, clock=clock)
    calls = 0

    async def failing() -> int:
        nonlocal calls
        calls += 1
        raise RedisConnectionError("refused")

    for _ in range(3):
        with pytest.raises(CacheUnavailable):
            await breaker.call(failing)
    assert calls == 2  # the third was skipped: the breaker was open

    async def working() -> int:
        return 7

    clock.now += 5.0
    assert await breaker.call(working) == 7
    assert breaker.state == "closed"


async def test_cancelled_trial_gives_the_slot_back(clock: Clock) -> None:
    breaker = CircuitBreaker(1, 5.0, clock=clock)
    breaker.failure()
    clock.now += 5.0
    task = asyncio.create_task(breaker.call(lambda: asyncio.sleep(10)))
    await asyncio.sleep(0)
    assert breaker.state == "half-open"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert breaker.state == "open"
    assert breaker.allow()  # the next caller gets the trial


async def test_other_exceptions_propagate_and_do_not_count(clock: Clock) -> None:
    breaker = CircuitBreaker(1, 5.0, clock=clock)

    async def buggy() -> int:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await breaker.call(buggy)
    assert breaker.state == "closed"
