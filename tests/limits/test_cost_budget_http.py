"""The cost budget over HTTP: what each request spends (executed operations their cost, cached
answers one point), the refusal before execution, the ``X-RateLimit-*`` headers and
``extensions.rateLimit``, the window's reset, two processes sharing a Redis budget, Redis
down failing open, ``/export`` and batches."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import redis.asyncio as aioredis
from prometheus_client import REGISTRY
from starlette.applications import Starlette

from gateway.settings import Settings
from tests.cache_http.support import serve
from tests.conftest import REDIS_URL
from tests.limits.support import codes
from tests.limits.test_rate_limit import _script_calls
from tests.redis_server import _free_port

Opened = Callable[..., AbstractAsyncContextManager[tuple[httpx.AsyncClient, Starlette]]]

WORKSPACES = "query W($n: Int) { workspaces(first: $n) { nodes { id } } }"


def _query(n: int) -> dict[str, object]:
    """An operation costing ``1 + n`` (the page, and ``n`` workspaces)."""
    return {"query": WORKSPACES, "variables": {"n": n}}


def _budget(cache_url: str | None, limit: int, window: int = 3600) -> dict[str, object]:
    return {
        "cost_budget_per_window": limit,
        "cost_budget_window_seconds": window,
        "redis_url": cache_url,
    }


def _opened(app_settings: Settings) -> Opened:
    @asynccontextmanager
    async def opened(**overrides: object) -> AsyncIterator[tuple[httpx.AsyncClient, Starlette]]:
        async with serve(app_settings.model_copy(update=overrides)) as gateway:
            yield gateway.http, gateway.app

    return opened


def _window(response: httpx.Response) -> tuple[int, int, int, int]:
    """The ``X-RateLimit-*`` headers: limit, remaining, used, reset."""
    names = ("limit", "remaining", "used", "reset")
    limit, remaining, used, reset = (int(response.headers[f"x-ratelimit-{n}"]) for n in names)
    return limit, remaining, used, reset


def _report(response: httpx.Response) -> dict[str, Any]:
    report: dict[str, Any] = response.json()["extensions"]["rateLimit"]
    return report


async def test_executed_operations_spend_their_cost_and_hits_one_point(
    app_settings: Settings, admin: dict[str, str], cache_url: str | None
) -> None:
    async with _opened(app_settings)(**_budget(cache_url, 1000)) as (http, _):
        miss = await http.post("/graphql", json=_query(10), headers=admin)
        hit = await http.post("/graphql", json=_query(10), headers=admin)  # the fast path
        params = {"query": WORKSPACES, "variables": '{"n": 10}'}
        get_miss = await http.get("/graphql", params=params, headers=admin)
        get_hit = await http.get("/graphql", params=params, headers=admin)  # the full path
    cost = miss.json()["extensions"]["cost"]
    assert cost == 11
    # The request's point, then the operation's cost.
    report = _report(miss)
    assert {k: v for k, v in report.items() if k != "resetAt"} == {
        "cost": 12,
        "limit": 1000,
        "remaining": 988,
        "used": 12,
    }
    limit, remaining, used, reset = _window(miss)
    assert (limit, remaining, used) == (1000, 988, 12)
    assert dt.datetime.fromisoformat(report["resetAt"]).timestamp() == reset
    # A cached answer does no work: it spends its point only.
    assert hit.json()["extensions"]["cache"]["hit"] is True
    assert (_report(hit)["cost"], _report(hit)["used"], _window(hit)[2]) == (1, 13, 13)
    assert _report(get_miss)["cost"] == 12  # GET is another cache entry
    assert get_hit.json()["extensions"]["cache"]["hit"] is True
    assert (_report(get_hit)["cost"], _window(get_hit)[1:3]) == (1, (1000 - 26, 26))


async def test_a_spent_budget_refuses_before_execution(
    app_settings: Settings, admin: dict[str, str], cache_url: str | None, executions: list[str]
) -> None:
    typed = {**admin, "Accept": "application/graphql-response+json"}
    async with _opened(app_settings)(**_budget(cache_url, 40)) as (http, _):
        runs = [await http.post("/graphql", json=_query(n), headers=admin) for n in (10, 11, 12)]
        ran = len(executions)
        refused = await http.post("/graphql", json=_query(13), headers=admin)  # needs 14 of 1
        hit = await http.post("/graphql", json=_query(10), headers=admin)  # needs its 1 point
        typed_refusal = await http.post("/graphql", json=_query(13), headers=typed)
    assert [r.status_code for r in runs] == [200, 200, 200]
    assert [_window(r)[2] for r in runs] == [12, 25, 39]
    assert len(executions) == ran == 3  # the refused operation never ran
    # Its point spent (40 of 40), the operation's 14 do not fit: refused, even under
    # application/json, before execution.
    for response, cost in ((refused, 14), (hit, 1), (typed_refusal, 1)):
        assert response.status_code == 429
        assert codes(response) == ["RATE_LIMITED"]
        error = response.json()["errors"][0]["extensions"]
        assert (error["cost"], error["limit"], error["remaining"]) == (cost, 40, 0)
        assert 3500 < error["retryAfter"] <= 3600
        assert response.headers["retry-after"] == str(math.ceil(error["retryAfter"]))
        assert _window(response)[:3] == (40, 0, 40)
    assert typed_refusal.headers["content-type"] == "application/graphql-response+json"


async def test_the_window_resets(app_settings: Settings, admin: dict[str, str]) -> None:
    # In-process windows run on the process's clock (faked here); Redis's on Redis's.
    now = [1_000_000.0]
    async with _opened(app_settings)(**_budget(None, 20, window=60)) as (http, app):
        budget = app.state.services.cost_budget
        assert budget is not None
        budget.clock = lambda: now[0]
        first = await http.post("/graphql", json=_query(10), headers=admin)  # 12 of 20
        hit = await http.post("/graphql", json=_query(10), headers=admin)  # 13 of 20
        refused = await http.post("/graphql", json=_query(11), headers=admin)  # 14, then 12
        now[0] += 59.9
        still = await http.post("/graphql", json=_query(11), headers=admin)
        now[0] += 0.1  # 60 s after the first spend: a new window
        fresh = await http.post("/graphql", json=_query(11), headers=admin)
    assert _window(first) == (20, 8, 12, 1_000_060)
    assert _window(hit) == (20, 7, 13, 1_000_060)
    assert [refused.status_code, still.status_code] == [429, 429]
    assert refused.headers["retry-after"] == "60"
    assert still.headers["retry-after"] == "1"
    assert fresh.status_code == 200
    assert _window(fresh) == (20, 7, 13, 1_000_120)


async def test_a_redis_window_answers_on_redis_clock(
    app_settings: Settings, admin: dict[str, str], redis_client: aioredis.Redis
) -> None:
    # A gateway whose clock runs an hour ahead still reports the shared window as Redis keeps
    # it: reset an hour after Redis's now, Retry-After the whole window, not 1 s.
    async with _opened(app_settings)(**_budget(REDIS_URL, 20, window=3600)) as (http, app):
        budget = app.state.services.cost_budget
        assert budget is not None
        budget.clock = lambda: time.time() + 3600
        first = await http.post("/graphql", json=_query(10), headers=admin)  # 12 of 20
        refused = await http.post("/graphql", json=_query(11), headers=admin)
    server, _ = await redis_client.time()
    assert first.status_code == 200
    assert abs(_window(first)[3] - (server + 3600)) <= 2
    assert refused.status_code == 429
    assert 3590 <= int(refused.headers["retry-after"]) <= 3600


async def test_two_processes_share_a_redis_budget(
    app_settings: Settings, admin: dict[str, str], redis_client: aioredis.Redis
) -> None:
    opened = _opened(app_settings)
    budget = _budget(REDIS_URL, 30)  # under 200 points: no leases, exact
    async with opened(**budget) as (one, _), opened(**budget) as (two, _):
        spent = await one.post("/graphql", json=_query(10), headers=admin)
        seen = await two.post("/graphql", json=_query(5), headers=admin)
        refused = await one.post("/graphql", json=_query(11), headers=admin)
    assert _window(spent)[2] == 12
    assert _window(seen)[2] == 12 + 7  # what the other process spent, then its own
    assert refused.status_code == 429  # 1 + 12 more would pass 30
    assert _window(refused)[2] == 20


def _budget_errors() -> float:
    return REGISTRY.get_sample_value("gateway_cost_budget_errors_total") or 0.0


async def test_redis_down_lets_requests_through_unmetered(
    app_settings: Settings, admin: dict[str, str]
) -> None:
    down = f"redis://127.0.0.1:{_free_port()}/0"
    before = _budget_errors()
    async with _opened(app_settings)(**_budget(down, 1)) as (http, _):
        answers = [await http.post("/graphql", json=_query(n), headers=admin) for n in (5, 6)]
    assert [a.status_code for a in answers] == [200, 200]
    assert all("x-ratelimit-used" not in a.headers for a in answers)
    assert all("rateLimit" not in a.json()["extensions"] for a in answers)
    assert _budget_errors() > before


async def test_cached_hits_spend_a_lease_not_a_redis_call(
    app_settings: Settings, admin: dict[str, str], redis_client: aioredis.Redis
) -> None:
    async with _opened(app_settings)(**_budget(REDIS_URL, 10_000)) as (http, _):
        await http.post("/graphql", json=_query(10), headers=admin)
        await http.post("/graphql", json=_query(10), headers=admin)
        calls = await _script_calls(redis_client)
        hits = [await http.post("/graphql", json=_query(10), headers=admin) for _ in range(30)]
        after = await _script_calls(redis_client)
    assert all(h.json()["extensions"]["cache"]["hit"] for h in hits)
    assert [_window(h)[2] for h in hits] == list(range(14, 44))
    assert after == calls  # 30 points from the process's lease of 50


async def test_export_spends_and_reports_the_budget(
    app_settings: Settings, admin: dict[str, str], cache_url: str | None
) -> None:
    export = {"query": WORKSPACES, "variables": {"n": 10}, "format": "csv"}
    async with _opened(app_settings)(**_budget(cache_url, 15)) as (http, _):
        file = await http.post("/export", json=export, headers=admin)
        refused = await http.post("/export", json={**export, "variables": {"n": 3}}, headers=admin)
    assert file.status_code == 200
    assert file.headers["content-type"] == "application/zip"
    assert _window(file)[:3] == (15, 3, 12)
    assert refused.status_code == 429
    assert codes(refused) == ["RATE_LIMITED"]
    assert _window(refused)[:3] == (15, 2, 13)
    assert int(refused.headers["retry-after"]) > 3500


async def test_a_batch_spends_the_cost_of_each_operation(
    app_settings: Settings, admin: dict[str, str], cache_url: str | None
) -> None:
    async with _opened(app_settings)(**_budget(cache_url, 1000), allow_batching=True) as (
        http,
        _,
    ):
        batch = await http.post("/graphql", json=[_query(3), _query(4)], headers=admin)
    assert batch.status_code == 200
    assert [r["extensions"]["cost"] for r in batch.json()] == [4, 5]
    assert _window(batch)[2] == 1 + 4 + 5


async def test_the_budget_is_off_at_zero(
    app_settings: Settings, admin: dict[str, str], cache_url: str | None
) -> None:
    async with _opened(app_settings)(**_budget(cache_url, 0)) as (http, _):
        answer = await http.post("/graphql", json=_query(100), headers=admin)
    assert answer.status_code == 200
    assert "x-ratelimit-limit" not in answer.headers
    assert "rateLimit" not in answer.json()["extensions"]
