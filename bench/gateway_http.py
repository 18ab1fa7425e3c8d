"""Talking to a running gateway for benchmarks: POST a page, check cache hits, read /metrics.

Example:
    >>> hit_bytes, content_type, cold_ms = warm(client, page, [other_page])  # doctest: +SKIP
"""

from __future__ import annotations

import time

import httpx

from bench.wrk import WrkResult


def post(client: httpx.Client, body: bytes) -> tuple[httpx.Response, float]:
    """POST ``body`` to ``/graphql``; the response and its latency in ms."""
    started = time.perf_counter()
    response = client.post("/graphql", content=body)
    elapsed = (time.perf_counter() - started) * 1000
    data = response.json()
    if response.status_code != 200 or data.get("errors"):
        raise RuntimeError(f"HTTP {response.status_code}: {data.get('errors')}")
    return response, elapsed


def cache_hit(response: httpx.Response) -> bool:
    """``extensions.cache.hit`` of a gateway response."""
    return bool(response.json().get("extensions", {}).get("cache", {}).get("hit"))


def graphql_outcomes(client: httpx.Client) -> dict[str, float]:
    """``gateway_graphql_responses_total`` by cache outcome, from ``/metrics``."""
    counts: dict[str, float] = {}
    for line in client.get("/metrics").text.splitlines():
        if line.startswith('gateway_graphql_responses_total{cache="'):
            label, value = line.split('"')[1], line.rsplit(" ", 1)[1]
            counts[label] = float(value)
    return counts


def warm(
    client: httpx.Client, page: bytes, cold_pages: list[bytes]
) -> tuple[bytes, str, list[float]]:
    """Compute ``page``, check the second answer is a hit; time ``cold_pages``
    (each must be a miss).

    Returns:
        The hit's exact bytes, its content type, and the cold latencies in ms.
    """
    first, _ = post(client, page)  # computed (and the process's first query: not timed)
    if cache_hit(first):
        raise RuntimeError("the first answer was a hit: the cache was not empty")
    second, _ = post(client, page)
    if not cache_hit(second):
        raise SystemExit("FAILED: the second identical request was not a cache hit")
    cold_ms = []
    for body in cold_pages:
        response, elapsed = post(client, body)
        if cache_hit(response):
            raise RuntimeError("a cold request was a hit")
        cold_ms.append(elapsed)
    return second.content, second.headers["content-type"], cold_ms


def check_all_hits(
    before: dict[str, float], after: dict[str, float], runs: list[WrkResult]
) -> None:
    """Fail unless every gateway answer under load was a clean cache hit."""
    delta = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    others = {k: v for k, v in delta.items() if k != "hit" and v}
    served = sum(r.requests for r in runs)
    if others or not all(r.clean for r in runs):
        raise SystemExit(f"FAILED: not every answer was a clean hit: {others}; runs {runs}")
    # wrk does not count the answers in flight when it stops, the server does.
    print(f"    /metrics: {delta.get('hit', 0):,.0f} hits, nothing else "
          f"(wrk counted {served:,} answers)")  # fmt: skip
