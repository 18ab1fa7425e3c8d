"""A small circuit breaker for the Redis calls: closed -> open -> half-open (one trial) -> closed.

Why not a library: ``purgatory`` lets every concurrent call through while half-open (we want one
trial call, not a burst at a Redis that is just coming back), reads the wall clock and routes each
call through a message bus; ``aiobreaker`` is unmaintained since 2020, untyped, and mixes
``datetime.now()`` with ``datetime.utcnow()``. This state machine is about sixty lines and tested
on its own (tests/cache/test_breaker.py).

Example:
    >>> breaker = CircuitBreaker(failures=2, reset_seconds=5.0)
    >>> breaker.failure(); breaker.failure(); breaker.state
    'open'
    >>> breaker.allow()  # open: the call is skipped for 5 seconds
    False
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from redis.exceptions import RedisError

T = TypeVar("T")
State = Literal["closed", "open", "half-open"]

FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)
"""Exceptions that count as a Redis failure (connection refused, timeouts, protocol errors)."""


class CacheUnavailable(Exception):  # noqa: N818 - reads as a state, like `Empty` in `queue`.
    """Redis failed or the breaker is open: treat the lookup as a miss, skip the write."""


class CircuitBreaker:
    """Counts consecutive failures; after ``failures`` of them, skips calls for ``reset_seconds``.

    After the reset period one caller gets a trial call (half-open): success closes the breaker,
    failure opens it again for another period. While the trial is running others are skipped.

    Args:
        failures: Consecutive failures that open the breaker.
        reset_seconds: How long the breaker stays open before a trial call.
        on_change: Called with ``True`` when the breaker opens, ``False`` when it closes.
        clock: Monotonic clock in seconds (tests pass a fake).
    """

    def __init__(
        self,
        failures: int,
        reset_seconds: float,
        on_change: Callable[[bool], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._threshold = max(1, failures)
        self._reset = reset_seconds
        self._on_change = on_change
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False

    @property
    def state(self) -> State:
        """``closed`` (calls go through), ``open`` (skipped) or ``half-open`` (trial running)."""
        if self._opened_at is None:
            return "closed"
        return "half-open" if self._trial else "open"

    def allow(self) -> bool:
        """Return whether a call may go to Redis now (claims the trial slot when due)."""
        if self._opened_at is None:
            return True
        if self._trial or self._clock() - self._opened_at < self._reset:
            return False
        self._trial = True
        return True

    def success(self) -> None:
        """Record a successful call: closes the breaker and resets the failure count."""
        self._failures = 0
        self._trial = False
        if self._opened_at is not None:
            self._opened_at = None
            self._notify(False)

    def failure(self) -> None:
        """Record a failed call: opens the breaker at the threshold, or again after a trial."""
        self._failures += 1
        if self._trial or (self._opened_at is None and self._failures >= self._threshold):
            was_open = self._opened_at is not None
            self._opened_at = self._clock()
            self._trial = False
            if not was_open:
                self._notify(True)

    def reset(self) -> None:
        """Close the breaker without a call (its client is being closed)."""
        self._trial = False
        self.success()

    def abandon(self) -> None:
        """Give the trial slot back without a verdict (the trial call was cancelled)."""
        self._trial = False

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run ``operation`` through the breaker.

        Raises:
            CacheUnavailable: The breaker is open, or the operation failed with a Redis error.
        """
        if not self.allow():
            raise CacheUnavailable("circuit breaker open")
        try:
            result = await operation()
        except FAILURES as exc:
            self.failure()
            raise CacheUnavailable(str(exc) or type(exc).__name__) from exc
        except BaseException:
            # Cancellation or a bug: not Redis' fault, but never leave the trial slot taken.
            self.abandon()
            raise
        self.success()
        return result

    def _notify(self, is_open: bool) -> None:
        if self._on_change is not None:
            self._on_change(is_open)
