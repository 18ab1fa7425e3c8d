"""``MetricDefinition``: the metric registry, for partner tools that introspect the metrics."""

from __future__ import annotations

import strawberry

from gateway.metrics.registry import REGISTRY

METRIC_DEFINITIONS_DESCRIPTION = (
    "Every metric field of the schema with its meaning, unit and exactness (from the "
    "gateway's metric registry)."
)
"""``Query.metricDefinitions``."""


@strawberry.type(description="What one metric field means.")
class MetricDefinition:
    """One entry of the metric registry."""

    name: str = strawberry.field(description="The GraphQL field name, e.g. `activeUsers`.")
    description: str = strawberry.field(description="What the metric counts over a range.")
    unit: str = strawberry.field(
        description="`users`, `events`, `seconds`, `USD` or `mini programs`."
    )
    exact: bool = strawberry.field(
        description="False when the value is an estimate (e.g. ad revenue before month-end)."
    )

    @classmethod
    def all(cls) -> list[MetricDefinition]:
        """Every registry metric, in documentation order."""
        return [
            cls(name=d.name, description=d.description, unit=d.unit, exact=d.exact)
            for d in REGISTRY.values()
        ]
