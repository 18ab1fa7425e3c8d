"""Shared pieces of the catalog metric fields (SPEC §4) of ``Workspace`` and ``TargetApp``.

Catalog metrics count catalog entries, not events (``dataType`` does not apply). "By day D"
means before D + 1 day, 00:00 UTC. The field descriptions are written once here.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.domain import Granularity
from gateway.metrics.aggregate import MetricPoint as Point
from gateway.metrics.catalog_counts import CountMetric
from gateway.schema.metric import Metric

_CUMULATIVE = (
    " previousValue: the same count by the previous period's last day; series: the count as "
    "of each bucket's last day."
)

MINI_PROGRAM_COUNT_DESCRIPTION = (
    "Number of mini programs associated with this app by R's last day (their first deployment "
    "record here is before the next day, 00:00 UTC), whatever their status since." + _CUMULATIVE
)
"""``TargetApp.miniProgramCount``."""

CREATED_MINI_PROGRAMS_DESCRIPTION = (
    "Number of the workspace's mini programs created (createdAt) on or before R's last day, "
    "cumulative." + _CUMULATIVE
)
"""``Workspace.createdMiniPrograms``."""

MERCHANT_ONBOARDING_DESCRIPTION = (
    "Merchants of the workspace onboarded over R (new) and by R's last day (total), by "
    "merchant type, with the previous period and a daily series."
)
"""``Workspace.merchantOnboarding``."""

_SCOPE = (
    "associated with the scope (a target app: from their first deployment record there; a "
    "workspace: with any of its target apps, each counted once, from its first deployment "
    "record in any of them)"
)


def breakdown_description(attribute: str) -> str:
    """The description of ``miniProgramsBy<Attribute>`` (``source`` or ``category``)."""
    return (
        f"Mini programs {_SCOPE} by R's last day (before the next day, 00:00 UTC), whatever "
        f"their status since, grouped by their `{attribute}` slug. total = that number of mini "
        "programs; share = count / total. Previous values: the same by the previous period's "
        "last day."
    )


def count_metric(metric: CountMetric) -> Metric:
    """The GraphQL ``Metric`` of a catalog count (its series computed when asked)."""

    async def series(granularity: Granularity) -> Sequence[Point]:
        return metric.series(granularity)

    return Metric.of(metric.value(), series)
