"""Cost budgets per caller over a window: atomic in Redis (a Lua script), or in-process.

A caller's window opens with its first spend and lasts ``window`` seconds; within it the caller
may spend ``limit`` points. A spend of ``cost`` is granted while ``used + cost <= limit`` (a
cost above the whole limit needs a fresh window, and then spends all of it); a refused spend
changes nothing, and the answer says when the window resets. With ``GATEWAY_REDIS_URL`` every
worker shares the budgets (the script reads, resets, checks and adds at once, so two workers
can never spend the same points); without it each process keeps its own.

A Redis round trip on every cached answer would cost it most of its speed, so each process
**leases** a few points with each script call (:func:`lease_points`: none for small limits,
which stay exact) and spends small costs from the lease; what a lease has left after
:data:`~gateway.cache.buckets.LEASE_SECONDS` goes back with the process's next call for that
caller, if the window has not reset meanwhile. Points are never spent twice; a caller may be
refused a little early while another process holds a lease, and a lease of a caller who stops
stays counted until the window resets.

The windows in Redis run on Redis's own clock (``TIME`` in the script), so workers whose clocks
disagree still open, reset and report one window alike; the caller's clock only times its own
leases. In-process budgets run on the caller's clock.

Redis trouble never refuses a request: the spend fails open (None: not metered), counted in
``gateway_cost_budget_errors_total``; after a few failures the circuit breaker skips Redis for
a while, as for the cache.

Example:
    >>> budgets = MemoryBudgets()
    >>> [budgets.spend_now("k", cost, limit=10, window=60.0, now=100.0).granted
    ...  for cost in (6, 5, 4)]
    [True, False, True]
    >>> budgets.spend_now("k", 1, limit=10, window=60.0, now=160.0)  # a new window
    Spent(granted=True, used=1, reset_at=220.0, at=160.0)
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from cachetools import LRUCache
from prometheus_client import Counter
from redis.asyncio import Redis

from gateway.cache.breaker import CacheUnavailable, CircuitBreaker
from gateway.cache.buckets import LEASE_SECONDS, MAX_MEMORY_BUCKETS
from gateway.cache.keys import cache_key
from gateway.cache.redis import fail_fast_client

BUDGET_ERRORS = Counter(
    "gateway_cost_budget_errors_total",
    "Cost-budget spends that failed open because Redis did not answer.",
)

MAX_LEASE_POINTS = 1000
"""Most points a process leases per caller at once."""

# KEYS[1]: the budget (a hash of points used and when the window resets, in ms since the
# epoch on Redis's clock); ARGV: cost, limit, window (ms), points wanted beyond the cost (a
# lease), points given back and the reset of the window they were leased in. Returns {1
# granted or 0, points used, reset (ms), points leased, Redis's now (ms)}. The time is Redis's
# own (TIME; scripts are replicated by their effects since Redis 5).
_SPEND = """
local clock = redis.call("TIME")
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local cost, limit, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local extra = tonumber(ARGV[4])
local back, back_reset = tonumber(ARGV[5]), tonumber(ARGV[6])
local state = redis.call("HMGET", KEYS[1], "used", "reset")
local used, reset = tonumber(state[1]), tonumber(state[2])
if used == nil or reset == nil or now >= reset then
    used, reset = 0, now + window
elseif back > 0 and back_reset == reset then
    used = math.max(0, used - back)
end
local granted, leased = 0, 0
if used + math.min(cost, limit) <= limit then
    granted = 1
    used = used + cost
    leased = math.max(0, math.min(extra, limit - used))
    used = used + leased
end
redis.call("HSET", KEYS[1], "used", used, "reset", reset)
redis.call("PEXPIRE", KEYS[1], reset - now + 1000)
return {granted, used, reset, leased, now}
"""


class Spent(NamedTuple):
    """A caller's window after a spend (a tuple: cheap to make on every cached answer).

    Attributes:
        granted: The spend was made (else nothing changed: not enough left).
        used: Points spent in the window (this spend included when granted).
        reset_at: When the window ends and ``used`` falls back to 0 (seconds since the epoch,
            on the budgets' clock).
        at: When the spend was made, on the same clock (``reset_at - at`` is the wait until
            the reset, whatever the caller's own clock says).
    """

    granted: bool
    used: int
    reset_at: float
    at: float

    @property
    def wait(self) -> float:
        """Seconds from the spend until the window resets."""
        return max(0.0, self.reset_at - self.at)


def lease_points(limit: int) -> int:
    """Points one script call leases beyond its cost: a two-hundredth of the limit, at most
    :data:`MAX_LEASE_POINTS` (0 under 200: small budgets stay exact).

    >>> lease_points(60_000), lease_points(150), lease_points(10**9)
    (300, 0, 1000)
    """
    return min(MAX_LEASE_POINTS, limit // 200)


class Budgets(Protocol):
    """Where the budgets live."""

    async def spend(
        self, key: str, cost: int, limit: int, window: float, now: float
    ) -> Spent | None:
        """Spend ``cost`` points of ``key``'s window of ``limit`` points over ``window``
        seconds (see the module docstring) at the caller's ``now`` (seconds since the epoch:
        the clock of in-process windows and of leases; Redis's windows run on Redis's clock);
        None when not metered (Redis failed open)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class MemoryBudgets:
    """Budgets of this process (see the module docstring)."""

    def __init__(self, maxsize: int = MAX_MEMORY_BUCKETS) -> None:
        self._state: LRUCache[str, list[float]] = LRUCache(maxsize=maxsize)
        """Per caller: ``[points used, reset]``, changed in place (one lookup a spend)."""

    def spend_now(self, key: str, cost: int, limit: int, window: float, now: float) -> Spent:
        """:meth:`spend`, synchronously."""
        state = self._state.get(key)
        if state is None:
            state = self._state[key] = [0, now + window]
        elif now >= state[1]:
            state[0], state[1] = 0, now + window
        granted = state[0] + min(cost, limit) <= limit
        if granted:
            state[0] += cost
        return Spent(granted, int(state[0]), state[1], now)

    async def spend(
        self, key: str, cost: int, limit: int, window: float, now: float
    ) -> Spent | None:
        """Spend points (see :class:`Budgets`)."""
        return self.spend_now(key, cost, limit, window, now)

    async def close(self) -> None:
        """Nothing to release."""


@dataclass(slots=True)
class _Lease:
    """Points of a caller this process may still spend without Redis."""

    left: int
    lapses: float
    """When the rest goes back (the caller's clock; at the latest when the window resets)."""
    reset_ms: int
    """The reset of the window the points belong to (ms since the epoch, on Redis's clock)."""
    used: int
    """Points used in Redis as of the lease, the lease included."""
    skew: float
    """Redis's clock minus the caller's when the lease was taken (seconds)."""


class RedisBudgets:
    """Budgets in Redis, shared by every worker; fails open (see the module docstring).

    Args:
        client: A ``redis.asyncio`` client.
        breaker: The circuit breaker in front of it.
        timeout_seconds: Upper bound of one spend.
    """

    def __init__(self, client: Redis, breaker: CircuitBreaker, timeout_seconds: float) -> None:
        self._client = client
        self._breaker = breaker
        self._timeout = timeout_seconds
        self._script = client.register_script(_SPEND)
        self._leases: LRUCache[str, _Lease] = LRUCache(maxsize=MAX_MEMORY_BUCKETS)

    @classmethod
    def from_url(cls, url: str, timeout_seconds: float, breaker: CircuitBreaker) -> RedisBudgets:
        """Connect lazily to ``url``, ``timeout_seconds`` for connecting and for replies."""
        return cls(fail_fast_client(url, timeout_seconds), breaker, timeout_seconds * 3)

    async def spend(
        self, key: str, cost: int, limit: int, window: float, now: float
    ) -> Spent | None:
        """Spend points (see :class:`Budgets`): from this process's lease of ``key`` while
        it lasts and holds enough, else in Redis; None (not metered) when Redis fails."""
        lease = self._leases.get(key)
        if lease is not None:
            if lease.left >= cost and now < lease.lapses:  # changed in place: no await since
                lease.left -= cost
                used = lease.used - lease.left
                return Spent(True, used, lease.reset_ms / 1000, now + lease.skew)
            del self._leases[key]
        back = (lease.left, lease.reset_ms) if lease is not None else (0, 0)
        args = [cost, limit, int(window * 1000), lease_points(limit), *back]

        async def call() -> object:
            async with asyncio.timeout(self._timeout):
                return await self._script(keys=[cache_key("budget", key)], args=args)

        try:
            answer = await self._breaker.call(call)
        except CacheUnavailable:
            BUDGET_ERRORS.inc()
            return None
        if not isinstance(answer, list) or len(answer) != 5:
            BUDGET_ERRORS.inc()  # not the script's answer: fail open as for a Redis error
            return None
        granted, used, reset_ms, leased, redis_ms = (int(v) for v in answer)
        if granted:
            # Never past its window: the window's rest, measured on Redis's clock.
            lapses = now + min(LEASE_SECONDS, (reset_ms - redis_ms) / 1000)
            skew = redis_ms / 1000 - now
            self._merge(key, _Lease(leased, lapses, reset_ms, used, skew))
        used -= leased if granted else 0
        return Spent(bool(granted), used, reset_ms / 1000, redis_ms / 1000)

    def _merge(self, key: str, lease: _Lease) -> None:
        """Keep ``lease``, with another request's lease of the same window taken meanwhile."""
        other = self._leases.pop(key, None)
        if other is not None and other.reset_ms == lease.reset_ms:
            lease.left += other.left
        self._leases[key] = lease

    async def close(self) -> None:
        """Close the client's connections."""
        self._breaker.reset()
        await self._client.aclose()
