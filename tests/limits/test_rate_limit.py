"""The per-principal rate limit: token buckets in Redis and in-process, 429 with retry
information, the fast path of cached hits included, failing open when Redis is down."""

from __future__ import annotations

import datetime as dt

import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY

from gateway.authz.tokens import mint_token
from gateway.cache.breaker import CircuitBreaker
from gateway.cache.buckets import LEASE_SECONDS, Buckets, MemoryBuckets, RedisBuckets, lease_size
from gateway.cache.keys import cache_key
from gateway.settings import Settings
from tests.conftest import REDIS_URL
from tests.limits.conftest import Serve
from tests.limits.support import codes
from tests.principals import ADMIN
from tests.redis_server import _free_port


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _buckets(
    cache_url: str | None, url: str | None = None, clock: FakeClock | None = None
) -> Buckets:
    """The buckets of ``cache_url`` (None: in-process, on ``clock``)."""
    if cache_url is None:
        return MemoryBuckets(clock=clock or FakeClock(1000.0))
    return RedisBuckets.from_url(url or cache_url, 0.5, CircuitBreaker(3, 60.0))


async def _pass(buckets: Buckets, key: str, seconds: float) -> None:
    """Let ``seconds`` pass for ``key``'s bucket: on the in-process clock, or (Redis keeps
    its own time) by dating the bucket's last update back."""
    if isinstance(buckets, MemoryBuckets):
        clock = buckets._clock
        assert isinstance(clock, FakeClock)
        clock.now += seconds
        return
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.hincrbyfloat(cache_key("rate", key), "at", -seconds)
    finally:
        await client.aclose()


def _approx(seconds: float) -> object:
    return pytest.approx(seconds, abs=0.05)  # Redis's clock runs on during a test


async def test_a_bucket_empties_after_its_burst_and_refills_at_its_rate(
    cache_url: str | None,
) -> None:
    buckets = _buckets(cache_url)
    try:
        taken = [await buckets.take("jwt:a", 2.0, 3) for _ in range(4)]
        assert taken[:3] == [0.0, 0.0, 0.0]
        assert taken[3] == _approx(0.5)  # one token at 2 a second
        await _pass(buckets, "jwt:a", 0.25)
        assert await buckets.take("jwt:a", 2.0, 3) == _approx(0.25)
        await _pass(buckets, "jwt:a", 0.25)
        assert await buckets.take("jwt:a", 2.0, 3) == 0.0  # refilled
        assert await buckets.take("jwt:a", 2.0, 3) > 0
        # A long pause refills up to the burst, no more.
        await _pass(buckets, "jwt:a", 1000.0)
        later = [await buckets.take("jwt:a", 2.0, 3) for _ in range(4)]
        assert later[:3] == [0.0, 0.0, 0.0]
        assert later[3] > 0
    finally:
        await buckets.close()


async def test_separate_callers_have_separate_buckets(cache_url: str | None) -> None:
    buckets = _buckets(cache_url)
    try:
        assert await buckets.take("jwt:a", 1.0, 1) == 0.0
        assert await buckets.take("jwt:a", 1.0, 1) > 0
        assert await buckets.take("jwt:b", 1.0, 1) == 0.0
        assert await buckets.take("ip:10.0.0.1", 1.0, 1) == 0.0
    finally:
        await buckets.close()


def _redis_buckets(clock: FakeClock | None = None) -> RedisBuckets:
    buckets = RedisBuckets.from_url(REDIS_URL, 0.5, CircuitBreaker(3, 60.0))
    if clock is not None:
        buckets._clock = clock  # times this process's leases only
    return buckets


async def _script_calls(client: aioredis.Redis) -> int:
    stats = await client.info("commandstats")
    return sum(
        int(v["calls"]) for k, v in stats.items() if k in ("cmdstat_evalsha", "cmdstat_eval")
    )


async def test_a_process_leases_tokens_and_spends_them_without_redis(
    redis_client: aioredis.Redis,
) -> None:
    buckets = _redis_buckets()
    try:
        calls = await _script_calls(redis_client)
        taken = [await buckets.take("jwt:a", 1000.0, 1000) for _ in range(1000)]
        # The burst, in leases of 100 tokens: ten script calls (Redis's clock refills the
        # bucket meanwhile, so the next call may still be granted).
        assert taken == [0.0] * 1000
        assert await _script_calls(redis_client) - calls == 10
    finally:
        await buckets.close()


async def test_two_processes_never_spend_more_than_the_bucket(
    redis_client: aioredis.Redis,
) -> None:
    one, two = _redis_buckets(), _redis_buckets()
    try:
        allowed = 0
        for _ in range(700):  # alternating, as two workers behind one load balancer
            for buckets in (one, two):
                allowed += await buckets.take("jwt:a", 100.0, 1000) == 0.0
        # + what Redis's clock refilled meanwhile (100 a second)
        assert 1000 - 2 * lease_size(100.0, 1000) <= allowed <= 1000 + 50
    finally:
        await one.close()
        await two.close()


async def test_a_lapsed_leases_rest_goes_back_to_the_bucket(
    redis_client: aioredis.Redis,
) -> None:
    clock = FakeClock(10.0)
    buckets = _redis_buckets(clock)
    try:
        # 4,901 tokens spent from 50 leases of 100: 5,000 left in Redis, 99 in this process.
        taken = [await buckets.take("jwt:a", 1000.0, 10_000) for _ in range(4901)]
        assert set(taken) == {0.0}
        # A second later the lease has lapsed: its 99 go back with the next call, beside the
        # 1,000 refilled, and a new lease of 100 is taken (without the 99: 5,900).
        clock.now += LEASE_SECONDS
        await _pass(buckets, "jwt:a", LEASE_SECONDS)
        assert await buckets.take("jwt:a", 1000.0, 10_000) == 0.0
        tokens = await redis_client.hget(cache_key("rate", "jwt:a"), "tokens")
        assert tokens is not None
        # + what Redis's clock refilled during the test (1,000 a second)
        assert 5000 + 1000 + 99 - 100 <= float(tokens) <= 5000 + 1000 + 99 - 100 + 500
    finally:
        await buckets.close()


def _errors() -> float:
    return REGISTRY.get_sample_value("gateway_rate_limit_errors_total") or 0.0


async def test_redis_down_lets_requests_through_and_counts_it() -> None:
    before = _errors()
    buckets = _buckets("redis", f"redis://127.0.0.1:{_free_port()}/0")
    try:
        assert [await buckets.take("jwt:a", 1.0, 1) for _ in range(5)] == [0.0] * 5
    finally:
        await buckets.close()
    assert _errors() == before + 5  # 3 failures, then the open breaker skips Redis


QUERY = {"query": "{ snapshot { id } }"}


def _limited(cache_url: str | None) -> dict[str, object]:
    """Settings overrides: a burst of 2 and a refill too slow to matter during a test."""
    return {"rate_limit_per_second": 0.001, "rate_limit_burst": 2, "redis_url": cache_url}


async def test_an_empty_bucket_answers_429_with_retry_information(
    serve: Serve, admin: dict[str, str], cache_url: str | None
) -> None:
    headers = {**admin, "Accept": "application/graphql-response+json"}
    async with serve(**_limited(cache_url)) as http:
        # The same query three times: a miss, a hit (the fast path), then refused.
        answers = [await http.post("/graphql", json=QUERY, headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[1].json()["extensions"]["cache"]["hit"] is True
    refused = answers[2]
    assert codes(refused) == ["RATE_LIMITED"]
    assert refused.headers["content-type"] == "application/graphql-response+json"
    retry_after = refused.json()["errors"][0]["extensions"]["retryAfter"]
    assert 900 < retry_after <= 1000  # a token every 1,000 s
    assert refused.headers["retry-after"] == str(int(retry_after) + 1)


async def test_principals_and_addresses_have_their_own_buckets(
    serve: Serve, admin: dict[str, str], app_settings: Settings, cache_url: str | None
) -> None:
    token = mint_token(app_settings, "someone-else", ADMIN.grants, dt.timedelta(hours=1))
    other = {"Authorization": f"Bearer {token}"}
    async with serve(**_limited(cache_url)) as http:
        mine = [await http.post("/graphql", json=QUERY, headers=admin) for _ in range(3)]
        theirs = await http.post("/graphql", json=QUERY, headers=other)
        anonymous = [await http.post("/graphql", json=QUERY) for _ in range(3)]
    assert [a.status_code for a in mine] == [200, 200, 429]
    assert theirs.status_code == 200
    # Without credentials the address's bucket applies, before the 401.
    assert [a.status_code for a in anonymous] == [401, 401, 429]


async def test_the_limit_is_off_at_zero(serve: Serve, admin: dict[str, str]) -> None:
    async with serve(rate_limit_per_second=0, rate_limit_burst=1) as http:
        answers = [await http.post("/graphql", json=QUERY, headers=admin) for _ in range(5)]
    assert {a.status_code for a in answers} == {200}


async def test_redis_down_lets_http_requests_through(serve: Serve, admin: dict[str, str]) -> None:
    down = f"redis://127.0.0.1:{_free_port()}/0"
    async with serve(rate_limit_per_second=0.001, rate_limit_burst=1, redis_url=down) as http:
        answers = [await http.post("/graphql", json=QUERY, headers=admin) for _ in range(4)]
    assert {a.status_code for a in answers} == {200}


async def test_a_take_of_several_tokens_is_all_or_nothing(cache_url: str | None) -> None:
    buckets = _buckets(cache_url)
    try:
        assert await buckets.take("jwt:a", 1.0, 5, 3) == 0.0
        # Two tokens left: three more are refused (none taken), with the wait for the third.
        assert await buckets.take("jwt:a", 1.0, 5, 3) == _approx(1.0)
        assert await buckets.take("jwt:a", 1.0, 5, 2) == 0.0
        assert await buckets.take("jwt:a", 1.0, 5) > 0
        # More than the burst takes the whole bucket, once it is full: never refused for ever.
        await _pass(buckets, "jwt:a", 100.0)
        assert await buckets.take("jwt:a", 1.0, 5, 50) == 0.0
        assert await buckets.take("jwt:a", 1.0, 5) > 0
    finally:
        await buckets.close()


def _batch(size: int) -> list[dict[str, object]]:
    return [{"query": "query B($n: Int) { workspaces(first: $n) { totalCount } }",
             "variables": {"n": i + 1}} for i in range(size)]  # fmt: skip


async def test_a_batch_takes_a_token_per_operation(
    serve: Serve, admin: dict[str, str], cache_url: str | None, executions: list[str]
) -> None:
    limited = {**_limited(cache_url), "rate_limit_burst": 5, "allow_batching": True}
    async with serve(**limited) as http:
        first = await http.post("/graphql", json=_batch(3), headers=admin)
        second = await http.post("/graphql", json=_batch(3), headers=admin)  # 2 tokens left
        ran = len(executions)
        single = await http.post("/graphql", json=_batch(1)[0], headers=admin)
    assert first.status_code == 200
    assert len(first.json()) == 3
    # Counted as one request, the second batch would run; it needs three tokens of the two
    # left and is refused before anything executes.
    assert second.status_code == 429
    assert codes(second) == ["RATE_LIMITED"]
    assert ran == 3
    assert single.status_code == 200  # the one token the refusal left


async def test_processes_whose_clocks_disagree_share_one_bucket_through_redis(
    redis_client: aioredis.Redis,
) -> None:
    """Redis's clock, not the callers', refills the bucket: one process a day behind and one a
    day ahead neither refill it early nor lock it for a day."""
    past, future = _redis_buckets(FakeClock(-86_400.0)), _redis_buckets(FakeClock(86_400.0))
    try:
        taken = [
            await buckets.take("jwt:a", 1.0, 4) for _ in range(3) for buckets in (past, future)
        ]
        assert taken[:4] == [0.0] * 4  # the burst of 4, shared
        assert all(wait == _approx(1.0) or wait > 0.9 for wait in taken[4:])
        await _pass(past, "jwt:a", 1.0)  # a second later (on Redis's clock) one token is back
        assert await future.take("jwt:a", 1.0, 4) == 0.0
        assert await past.take("jwt:a", 1.0, 4) > 0
    finally:
        await past.close()
        await future.close()
