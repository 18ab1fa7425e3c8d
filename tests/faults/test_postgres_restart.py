"""A real PostgreSQL stopped and started again under load (a private cluster; the shared
server on 5432 is never touched).

While the database is down, answers already in the snapshot cache still arrive (200, with
their data) and the rest get ``SERVICE_UNAVAILABLE`` in their fields (HTTP 200), or, where
nothing can run without the database (an API key to look up, a body to store), HTTP 503 with
``Retry-After``; never a 500 or ``INTERNAL_SERVER_ERROR``. Once the database accepts
connections again, not one request fails: pre-ping replaces the pool's dead connections and
a read that lost its connection anyway is run once more.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from typing import Any

from gateway.authz.principal import Principal
from gateway.roles import Grant, Role
from gateway.settings import Settings
from gateway.store.apikeys import create_api_key
from gateway.store.db import create_engine
from gateway.store.db_faults import RETRY_AFTER_SECONDS
from tests.cache_http.support import Gateway, http_settings, serve
from tests.faults.conftest import launch_line
from tests.postgres_server import PostgresServer
from tests.principals import ADMIN

R = '{from: "2024-03-01", to: "2024-03-14"}'
CACHED = (
    f'{{ workspace(id: "ws-1") {{ name activeUsers(timeRange: {R}) {{ value }} }} }}',
    f'{{ targetApp(id: "app-1") {{ name launches(timeRange: {R}) {{ value series {{ value }} }} }}'
    " }",
)
"""Documents answered once before the database stops: in the response cache."""
CLIENTS = 20


def uncached(n: int) -> str:
    """A document no one asked before (its alias is new), so only the database answers it."""
    return f'{{ w{n}: workspace(id: "ws-1") {{ name pageViews(timeRange: {R}) {{ value }} }} }}'


@dataclass(frozen=True)
class Outcome:
    """One answer under load: when it was asked and answered, what was asked, what came
    back."""

    started: float
    finished: float
    cached: bool
    status: int
    body: dict[str, Any]

    @property
    def codes(self) -> set[str]:
        """The error codes of the answer."""
        return {str(e.get("extensions", {}).get("code")) for e in self.body.get("errors") or ()}


async def load(gateway: Gateway, stop: asyncio.Event, expected: dict[str, Any]) -> list[Outcome]:
    """:data:`CLIENTS` clients asking cached and new documents in turn until ``stop``."""
    counter = itertools.count()
    outcomes: list[Outcome] = []

    async def client() -> None:
        while not stop.is_set():
            n = next(counter)
            cached = n % 2 == 0
            query = CACHED[n // 2 % len(CACHED)] if cached else uncached(n)
            started = time.monotonic()
            answer = await gateway.ask(ADMIN, query)
            finished = time.monotonic()
            outcomes.append(Outcome(started, finished, cached, answer.status, answer.body))
            if cached:
                assert answer.data == expected[query], answer.body
            await asyncio.sleep(0.005)

    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return outcomes


async def test_postgres_restart_under_load(gateway: Gateway, postgres_up: PostgresServer) -> None:
    expected = {}
    for query in CACHED:  # computed and cached while the database is up
        answer = await gateway.ask(ADMIN, query)
        assert answer.errors == [], answer.body
        expected[query] = answer.data
    stop = asyncio.Event()
    loading = asyncio.create_task(load(gateway, stop, expected))
    await asyncio.sleep(0.5)
    await asyncio.to_thread(postgres_up.stop)
    down = time.monotonic()
    await asyncio.sleep(1.5)
    starting = time.monotonic()
    await asyncio.to_thread(postgres_up.start)  # returns once it accepts connections
    up = time.monotonic()
    await asyncio.sleep(2.0)
    stop.set()
    outcomes = await loading

    assert all(o.status == 200 for o in outcomes), {o.status for o in outcomes}
    assert not any("INTERNAL_SERVER_ERROR" in o.codes for o in outcomes)
    around = [o for o in outcomes if down < o.started < up]
    # Asked and answered while the server was down (stopped before, started after).
    while_down = [o for o in around if down < o.started and o.finished < starting]
    after = [o for o in outcomes if o.started > up]
    assert while_down
    assert after
    # Cached answers kept coming with their data (checked in load()) and without errors.
    assert all(not o.codes for o in around if o.cached)
    # The rest said the database is unavailable, and nothing else.
    assert {frozenset(o.codes) for o in while_down if not o.cached} == {
        frozenset({"SERVICE_UNAVAILABLE"})
    }
    assert set().union(*(o.codes for o in around)) == {"SERVICE_UNAVAILABLE"}
    # Once the database accepts connections again: not one failed request.
    failed = [o.body for o in after if o.codes]
    assert failed == [], failed[:3]
    assert sum(not o.cached for o in after) >= CLIENTS


async def _api_key(settings: Settings, name: str, grant: Grant) -> str:
    engine = create_engine(settings)
    try:
        return await create_api_key(engine, name, [grant])
    finally:
        await engine.dispose()


async def test_what_needs_the_database_before_execution_answers_503_with_retry_after(
    gateway: Gateway, database: Settings, postgres_up: PostgresServer
) -> None:
    reader = await _api_key(database, "dashboard", Grant(Role.PLATFORM_ADMIN))
    ingester = await _api_key(database, "ingest-bot", Grant(Role.INGESTER))
    body = b"\n".join(launch_line(f"outage-{n}") for n in range(3))
    await asyncio.to_thread(postgres_up.stop)
    keyed = await gateway.http.post(
        "/graphql", json={"query": CACHED[0]}, headers={"X-API-Key": reader}
    )
    stored = await gateway.http.post("/v1/events", content=body, headers={"X-API-Key": ingester})
    bearer = gateway.headers(Principal("bot", (Grant(Role.INGESTER),)))
    by_token = await gateway.http.post("/v1/events", content=body, headers=bearer)
    await asyncio.to_thread(postgres_up.start)

    assert keyed.status_code == 503
    assert keyed.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert keyed.json()["errors"][0]["extensions"] == {
        "code": "SERVICE_UNAVAILABLE",
        "retryAfter": RETRY_AFTER_SECONDS,
    }
    for refused in (stored, by_token):  # the client is told to send the body again
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
        assert refused.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    # Back up: the same requests succeed at once, and the body is stored exactly once.
    keyed = await gateway.http.post(
        "/graphql", json={"query": CACHED[0]}, headers={"X-API-Key": reader}
    )
    assert keyed.status_code == 200
    assert "errors" not in keyed.json()
    for _ in range(2):
        stored = await gateway.http.post(
            "/v1/events", content=body, headers={"X-API-Key": ingester}
        )
        assert stored.status_code == 200
    assert stored.json()["duplicates"] == 3


async def test_a_database_down_from_the_start_answers_503_until_it_is_back(
    database: Settings, postgres_up: PostgresServer
) -> None:
    await asyncio.to_thread(postgres_up.stop)
    async with serve(http_settings(database, None, cache_poll_seconds=0.2)) as gateway:
        answer = await gateway.http.post(
            "/graphql", json={"query": CACHED[0]}, headers=gateway.headers(ADMIN)
        )
        assert answer.status_code == 503  # no generation known: nothing can be answered
        assert answer.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
        assert answer.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        await asyncio.to_thread(postgres_up.start)
        again = await gateway.ask(ADMIN, CACHED[0])
        assert again.status == 200
        assert again.errors == []
