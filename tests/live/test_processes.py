"""Two ``gateway serve`` processes sharing Redis: a new snapshot announced over Redis reaches
both at once (their database polls are 60 s apart), the same evaluation is computed once for
both, and stopping a process closes its connections gracefully."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.cache.announce import announce_snapshot
from gateway.settings import Settings
from tests.cache_http.world import RANGE, more_events
from tests.live.support import LiveClient, bearer, live_settings
from tests.principals import ADMIN
from tests.test_cli_serve import Running, _free_port

QUERY = (
    "subscription Wall($r: TimeRangeInput!) { live { snapshot { id } "
    'workspace(id: "ws-1") { launches(timeRange: $r) { value } } } }'
)


def _counter(metrics: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def _metrics(base: str) -> str:
    async with httpx.AsyncClient() as http:
        return (await http.get(f"{base}/metrics")).text


@pytest.mark.parametrize("cache_url", ["redis"], indirect=True)
async def test_two_processes_push_the_announced_snapshot_and_compute_once(
    world: AsyncEngine, settings: Settings, cache_url: str
) -> None:
    served = live_settings(settings, cache_url)
    assert served.jwt_secret is not None
    env = {
        "GATEWAY_DATABASE_URL": served.database_url,
        "GATEWAY_REDIS_URL": cache_url,
        "GATEWAY_JWT_SECRET": served.jwt_secret.get_secret_value(),
        "GATEWAY_CACHE_POLL_SECONDS": "60",
        "GATEWAY_REFRESH_IN_PROCESS": "false",
        "GATEWAY_LOG_LEVEL": "warning",
    }
    ports = [_free_port(), _free_port()]
    processes = [Running(["serve", "--port", str(port)], env=env) for port in ports]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for running, base in zip(processes, bases, strict=True):
            running.wait_until(f"{base}/readyz")
        urls = [base.replace("http://", "ws://") + "/graphql" for base in bases]
        async with (
            LiveClient.connect(urls[0], bearer(served, ADMIN)) as first,
            LiveClient.connect(urls[1], bearer(served, ADMIN)) as second,
        ):
            for client in (first, second):
                await client.subscribe("wall", QUERY, {"r": RANGE})
            answers = [await client.next("wall") for client in (first, second)]
            assert answers[0]["payload"] == answers[1]["payload"]
            before = [await _metrics(base) for base in bases]
            await more_events(world)  # a new snapshot: 2
            await announce_snapshot(served, 2)
            pushed = [await client.next("wall", wait=20) for client in (first, second)]
            for push in pushed:
                live = push["payload"]["data"]["live"]
                assert live["snapshot"] == {"id": "2"}
            assert pushed[0]["payload"] == pushed[1]["payload"]
            launches = [a["payload"]["data"]["live"]["workspace"]["launches"] for a in answers]
            assert pushed[0]["payload"]["data"]["live"]["workspace"]["launches"] != launches[0]
            after = [await _metrics(base) for base in bases]
            computed = sum(
                _counter(a, "gateway_live_computations_total")
                - _counter(b, "gateway_live_computations_total")
                for a, b in zip(after, before, strict=True)
            )
            assert computed == 1  # one process computed, the other read it from Redis
            # A stopping process closes its connections with "going away".
            stopping = asyncio.get_running_loop().run_in_executor(None, processes[0].stop)
            code, _ = await first.closed(wait=20)
            assert code in (1001, 1012)
            assert await stopping == 0
    finally:
        for running in processes:
            running.stop()
