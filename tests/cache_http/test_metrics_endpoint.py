"""``/metrics`` exposes the cache's counters (hits and misses per layer, computations).

The counters are read from the scraped text before and after some traffic; the deltas must be
exactly what the traffic did.
"""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.cache_http.support import Gateway
from tests.principals import ADMIN

R = '{from: "2024-03-01", to: "2024-03-14"}'
FIRST = f'{{ workspace(id: "ws-1") {{ launches(timeRange: {R}) {{ value }} }} }}'
SECOND = f'{{ w: workspace(id: "ws-1") {{ l: launches(timeRange: {R}) {{ value }} }} }}'

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(gateway: Gateway) -> Samples:
    """The cache samples of ``/metrics``, by name and labels."""
    response = await gateway.http.get("/metrics")
    assert response.status_code == 200
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        if family.name.startswith("gateway_cache"):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much one sample grew."""
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_metrics_count_hits_misses_and_computations_per_layer(gateway: Gateway) -> None:
    before = await scrape(gateway)
    assert (await gateway.ask(ADMIN, FIRST)).hit is False  # response miss, metric miss
    assert (await gateway.ask(ADMIN, FIRST)).hit is True  # response hit
    assert (await gateway.ask(ADMIN, SECOND)).hit is False  # response miss, metric hit
    after = await scrape(gateway)
    requests = "gateway_cache_requests_total"
    assert delta(before, after, requests, layer="response", result="miss") == 2
    assert delta(before, after, requests, layer="response", result="hit") == 1
    assert delta(before, after, requests, layer="metric", result="miss") == 1
    assert delta(before, after, requests, layer="metric", result="hit") == 1
    assert delta(before, after, requests, layer="response", result="error") == 0
    computed = "gateway_cache_computations_total"
    assert delta(before, after, computed, layer="response") == 2
    assert delta(before, after, computed, layer="metric") == 1
    assert ("gateway_cache_breaker_open", ()) in after
