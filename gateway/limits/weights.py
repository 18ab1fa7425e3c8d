"""The weights of query cost (:mod:`gateway.limits.cost`): one table, looked up by coordinate.

Example:
    >>> COST_WEIGHTS[LEAF], COST_WEIGHTS[OBJECT], COST_WEIGHTS["Metric.series"]
    (0, 1, 1)
    >>> weight("Workspace", "name", "String", leaf=True)
    0
"""

from __future__ import annotations

from collections.abc import Mapping

LEAF = "<leaf>"
OBJECT = "<object>"
INTROSPECTION = "<introspection>"

COST_WEIGHTS: Mapping[str, int] = {
    LEAF: 0,  # a scalar or enum field: read from its parent's object
    OBJECT: 1,  # any other object or list field: one lookup per entity (a connection: a page)
    INTROSPECTION: 1,  # __schema / __type: from memory, not walked
    "Metric": 1,  # a metric's totals (value and previous value) over its range
    "Metric.series": 1,  # per point: one bucket of the range at the granularity
    "Breakdown": 2,  # the groups over the range and over the previous period
    "MonthlyActiveUsers": 1,  # per month
    "Retention": 1,  # per cell of the table: cohorts x periods
    "MerchantOnboarding.series": 1,  # per day of the range
    "Workspace.availableMiniPrograms": 1,  # a count over the catalog
    "TargetApp.availableMiniPrograms": 1,
    "*.totalCount": 1,  # a count query per connection
    "*.edges": 0,  # an edge wraps its node, which is counted
    "PageInfo": 0,  # derived from the page already read
}
"""The one table of query-cost weights. Lookup order: the schema coordinate (``Type.field``),
then ``*.field``, then the returned type's name, then :data:`LEAF` or :data:`OBJECT`."""


def weight(parent: str, field: str, returned: str, leaf: bool) -> int:
    """The weight of ``parent.field`` returning type ``returned`` (see :data:`COST_WEIGHTS`)."""
    for key in (f"{parent}.{field}", f"*.{field}", returned):
        if key in COST_WEIGHTS:
            return COST_WEIGHTS[key]
    return COST_WEIGHTS[LEAF if leaf else OBJECT]
