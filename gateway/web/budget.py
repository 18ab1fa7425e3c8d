"""The cost budget of ``/graphql`` and ``/export``: points per caller over a window.

As GitHub's GraphQL API counts points per hour, each caller (the rate limit's key: JWT
subject, API key) may spend ``GATEWAY_COST_BUDGET_PER_WINDOW`` points in a window of
``GATEWAY_COST_BUDGET_WINDOW_SECONDS`` opened by its first spend (0 turns the budget off). A
request spends

* 1 point once admitted (authenticated, within the rate limit), whatever follows: an answer
  from the cache spends that point only, since it does no work;
* then, just before each operation it executes, that operation's cost (``extensions.cost``,
  :mod:`gateway.limits.cost`): a batch spends the cost of each of its operations.

When the window has not enough left, the request (or the operation) is refused before
anything runs: HTTP 429, ``RATE_LIMITED``, ``Retry-After`` until the window resets::

    {"errors": [{"message": "cost budget spent: the operation needs 120 points, 30 of 5000
                 are left until 2024-12-05T13:20:00Z",
                 "extensions": {"code": "RATE_LIMITED", "retryAfter": 1234.5, "cost": 120,
                                "limit": 5000, "remaining": 30,
                                "resetAt": "2024-12-05T13:20:00Z"}}]}

Every answer reports the window after its spends, in headers::

    X-RateLimit-Limit: 5000        points per window
    X-RateLimit-Remaining: 4880    points left
    X-RateLimit-Used: 120          points spent in the window
    X-RateLimit-Reset: 1733404800  when the window resets (seconds since the epoch)

and, in a JSON answer that carries ``extensions.cache``, as ``extensions.rateLimit``:
``{"cost": 21, "limit": 5000, "remaining": 4880, "used": 120, "resetAt": "..."}`` (``cost``:
the points this request spent). The budgets live in Redis with ``GATEWAY_REDIS_URL`` (shared
by every worker; Redis down lets requests through unmetered, without these headers), else in
the process (:mod:`gateway.cache.budgets`).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import orjson
from prometheus_client import Counter
from starlette.responses import Response
from starlette.types import Message, Scope, Send

from gateway.authz.principal import Principal
from gateway.cache.budgets import Budgets, MemoryBudgets, RedisBudgets, Spent
from gateway.cache.redis import from_settings
from gateway.errors import RateLimitedError
from gateway.settings import Settings
from gateway.web.negotiation import scope_media_type
from gateway.web.ratelimit import rate_key

BUDGET_REFUSED = Counter(
    "gateway_cost_budget_refused_total",
    "Requests and operations refused because the caller's cost budget was spent (429).",
)


def _iso(seconds: float) -> str:
    """``seconds`` since the epoch, rounded up, as ISO 8601 UTC (``...Z``)."""
    return _iso_of(math.ceil(seconds))


@lru_cache(maxsize=1024)
def _iso_of(seconds: int) -> str:
    # Memoized: every answer of a caller's window reports the same reset.
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat().replace("+00:00", "Z")


@dataclass
class CostBudget:
    """The budgets of one process (in Redis or in memory), at one limit and window.

    Args:
        budgets: Where the budgets live.
        limit: Points per window.
        window: The window's length, in seconds.
        clock: Wall clock in seconds: the clock of in-process windows and of leases (tests
            pass a fake one); windows in Redis run on Redis's clock.
    """

    budgets: Budgets
    limit: int
    window: float
    clock: Callable[[], float] = field(default=time.time)

    @classmethod
    def create(cls, settings: Settings) -> CostBudget | None:
        """The budget ``settings`` ask for; None when it is off."""
        if settings.cost_budget_per_window <= 0 or settings.cost_budget_window_seconds <= 0:
            return None
        budgets: Budgets = from_settings(settings, RedisBudgets.from_url) or MemoryBudgets()
        return cls(budgets, settings.cost_budget_per_window, settings.cost_budget_window_seconds)

    async def spend(self, key: str, cost: int) -> Spent | None:
        """Spend ``cost`` points of ``key``'s window (None: not metered, Redis failed)."""
        return await self.budgets.spend(key, cost, self.limit, self.window, self.clock())

    def report(self, window: Spent | None, cost: int) -> dict[str, object]:
        """``extensions.rateLimit`` after a request that spent ``cost`` ({}: not metered)."""
        if window is None:
            return {}
        remaining = max(0, self.limit - window.used)
        return {
            "cost": cost,
            "limit": self.limit,
            "remaining": remaining,
            "used": window.used,
            "resetAt": _iso(window.reset_at),
        }

    def headers(self, window: Spent | None) -> list[tuple[bytes, bytes]]:
        """The ``X-RateLimit-*`` headers of ``window`` (none when not metered)."""
        if window is None:
            return []
        return [
            (b"x-ratelimit-limit", b"%d" % self.limit),
            (b"x-ratelimit-remaining", b"%d" % max(0, self.limit - window.used)),
            (b"x-ratelimit-used", b"%d" % window.used),
            (b"x-ratelimit-reset", b"%d" % math.ceil(window.reset_at)),
        ]

    def refusal(self, window: Spent, cost: int) -> RateLimitedError:
        """The error refusing a spend of ``cost`` that ``window`` cannot hold."""
        wait = window.wait
        remaining = max(0, self.limit - window.used)
        reset_at = _iso(window.reset_at)
        what = "the request needs 1 point" if cost == 1 else f"the operation needs {cost} points"
        BUDGET_REFUSED.inc()
        return RateLimitedError(
            f"cost budget spent: {what}, {remaining} of {self.limit} are left until {reset_at}",
            extensions={
                "retryAfter": math.ceil(wait * 1000) / 1000,
                "cost": cost,
                "limit": self.limit,
                "remaining": remaining,
                "resetAt": reset_at,
            },
        )

    def refused(self, window: Spent, cost: int, media_type: str) -> Response:
        """The HTTP 429 answer to a request whose spend of ``cost`` ``window`` cannot hold."""
        return self.answer(self.refusal(window, cost), window, media_type)

    def answer(self, error: RateLimitedError, window: Spent, media_type: str) -> Response:
        """The HTTP 429 answer carrying ``error``, refused by ``window``."""
        headers = {k.decode(): v.decode() for k, v in self.headers(window)}
        headers["Retry-After"] = str(retry_after(window))
        body = orjson.dumps(error.body())
        return Response(body, error.status, headers=headers, media_type=media_type)

    async def close(self) -> None:
        """Release the budgets' connections."""
        await self.budgets.close()


def retry_after(window: Spent) -> int:
    """Whole seconds from the spend until ``window`` resets, at least 1 (``Retry-After``),
    on the budgets' clock (Redis's, for shared windows)."""
    return max(1, math.ceil(window.wait))


@dataclass
class Meter:
    """One request's spending of its caller's budget: the
    :class:`~gateway.limits.cost_limit.CostMeter` the cost limit charges before execution.

    Attributes:
        budget: The app's budget.
        key: The caller's key.
        spent: Points this request spent.
        window: The caller's window as the last spend saw it (None: none yet, or not
            metered).
        refused: The window that refused a spend, if one did.
        batch: The request is a batch (a refused operation leaves its status alone).
    """

    budget: CostBudget
    key: str
    spent: int = 0
    window: Spent | None = None
    refused: Spent | None = None
    batch: bool = False

    async def charge(self, cost: int) -> None:
        """Spend ``cost`` points; raises :class:`RateLimitedError` when the window lacks them
        (nothing spent)."""
        window = await self.budget.spend(self.key, cost)
        if window is None:
            return
        self.window = window
        if not window.granted:
            self.refused = window
            raise self.budget.refusal(window, cost)
        self.spent += cost

    def report(self) -> dict[str, object]:
        """``{"rateLimit": ...}`` for the answer's ``extensions`` ({} when not metered)."""
        report = self.budget.report(self.window, self.spent)
        return {"rateLimit": report} if report else {}

    def send(self, send: Send) -> Send:
        """``send`` adding the ``X-RateLimit-*`` headers to the response, and making it a 429
        with ``Retry-After`` when a (single) operation was refused."""

        async def metered(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), *self.budget.headers(self.window)]
                status = message["status"]
                if self.refused is not None:
                    wait = retry_after(self.refused)
                    headers.append((b"retry-after", b"%d" % wait))
                    status = status if self.batch else 429
                message = {**message, "status": status, "headers": headers}
            await send(message)

        return metered


async def open_meter(
    budget: CostBudget | None, scope: Scope, principal: Principal
) -> Meter | Response | None:
    """The request's meter with its admission point spent (the cost limit charges the rest);
    the 429 answer when the caller's window has no point left; None when ``budget`` is
    None (off)."""
    if budget is None:
        return None
    meter = Meter(budget, rate_key(principal, scope))
    try:
        await meter.charge(1)
    except RateLimitedError as error:
        assert meter.refused is not None  # charge() sets it before raising
        return budget.answer(error, meter.refused, scope_media_type(scope))
    return meter
