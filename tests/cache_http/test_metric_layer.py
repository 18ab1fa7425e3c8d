"""Layer (a) over HTTP: metric values and series, shared across documents and callers.

Two documents that differ in text (aliases, field order, operation name) but ask the same
metrics of the same cells share nothing at the response layer, yet the second computes no
metric: every value and series comes from the metric cache of the same snapshot.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.roles import Role
from tests.cache.support import computations
from tests.cache_http.support import Gateway
from tests.cache_http.world import more_events
from tests.principals import ADMIN, principal

R = '{from: "2024-03-01", to: "2024-03-14"}'
FIRST = f"""query First {{
  workspace(id: "ws-1") {{
    activeUsers(timeRange: {R}) {{ value previousValue series {{ date value }} }}
  }}
  targetApp(id: "app-1") {{
    launches(timeRange: {R}) {{ value series(granularity: WEEK) {{ date value }} }}
  }}
}}"""
SECOND = f"""query Second {{
  t: targetApp(id: "app-1") {{
    name
    l: launches(timeRange: {R}) {{ weekly: series(granularity: WEEK) {{ value date }} value }}
  }}
  w: workspace(id: "ws-1") {{ au: activeUsers(timeRange: {R}) {{ series {{ value date }} value }} }}
}}"""


def metric_computations() -> float:
    """Metric values and series computed so far (layer a)."""
    return computations("metric")


async def test_another_document_reuses_the_metrics_of_the_snapshot(
    gateway: Gateway, world: AsyncEngine
) -> None:
    before = metric_computations()
    first = await gateway.ask(ADMIN, FIRST)
    assert (first.errors, first.hit) == ([], False)
    computed = metric_computations() - before
    assert computed >= 2  # at least the two values (series may be counted on their own)

    before = metric_computations()
    responses = computations("response")
    # Another document, by another caller (the metric layer is role-independent).
    second = await gateway.ask(principal(Role.SUPERAPP_OPERATOR, "ws-1"), SECOND)
    assert (second.errors, second.hit) == ([], False)
    assert computations("response") == responses + 1  # the response itself was computed...
    assert metric_computations() == before  # ...from cached metrics only
    workspace, app = first.data["workspace"]["activeUsers"], first.data["targetApp"]["launches"]
    assert second.data["w"]["au"]["value"] == workspace["value"] > 0
    assert second.data["w"]["au"]["series"] == workspace["series"]
    assert second.data["t"]["l"]["value"] == app["value"] > 0
    assert second.data["t"]["l"]["weekly"] == app["series"]

    await more_events(world)  # a new snapshot: metric keys name it
    before = metric_computations()
    after = await gateway.ask(ADMIN, FIRST)
    assert after.hit is False
    assert after.snapshot_id > first.snapshot_id
    assert metric_computations() - before == computed
    assert after.data["workspace"]["activeUsers"]["value"] > workspace["value"]
    assert after.data["targetApp"]["launches"]["value"] > app["value"]
