"""The metric registry: one declared table of every ``Metric`` of SPEC §4.

Each entry names the GraphQL field, says what it means (the text the schema's descriptions and
``metricDefinitions`` are derived from), its unit, whether it is exact, and how it comes out of a
rollup cell's days (:class:`Computation`). :mod:`gateway.metrics.aggregate` dispatches on the
computation; nothing else decides how a metric is computed.

Worked example: a cell has, for 2026-11-02 and 2026-11-03,

=========== ======== ========== =========== ========= ===========
day         launches duration   active      new_users  revenue
=========== ======== ========== =========== ========= ===========
2026-11-02  3        90_000 ms  {1, 2}      2          1_500_000 µ$
2026-11-03  2        30_000 ms  {2, 3}      1          0
=========== ======== ========== =========== ========= ===========

and one user (uid 9) was first seen before 2026-11-02. Over R = 2026-11-02..2026-11-03:

- ``launches`` (SUM of ``launches``) = 5
- ``activeUsers`` (DISTINCT_USERS: |{1, 2} ∪ {2, 3}|) = 3, while its DAY series is [2, 2]
- ``newUsers`` (SUM of ``new_users``, disjoint across days) = 3
- ``lifetimeUsers`` (CUMULATIVE: 1 before R + 2 + 1) = 4; DAY series [3, 4]
- ``averageTimePerUser`` (PER_ACTIVE_USER: 120_000 ms / 1000 / 3 users) = 40.0 seconds
- ``estimatedAdRevenue`` (SUM of ``revenue_micros`` x 1e-6) = 1.5 USD

>>> REGISTRY["averageTimePerUser"].computation
<Computation.PER_ACTIVE_USER: 'per_active_user'>
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from types import MappingProxyType


class Computation(enum.Enum):
    """How a metric comes out of one cell's days over a range R."""

    SUM = "sum"
    """Sum of an additive column over the days of R, times ``scale``."""
    DISTINCT_USERS = "distinct_users"
    """Cardinality of the union of the days' active-user bitmaps (one day: its count)."""
    CUMULATIVE = "cumulative"
    """Sum of ``new_users`` over every day up to R's last day (first-seen days are disjoint)."""
    PER_ACTIVE_USER = "per_active_user"
    """Sum of ``column`` over R, times ``scale``, divided by DISTINCT_USERS over R (0 if none)."""
    CATALOG = "catalog"
    """Counted from the catalog, not from events (no rollup; ``dataType`` does not apply)."""
    PER_PAGE = "per_page"
    """Page views, distinct visitors and time per page of a mini program over a range
    (:mod:`gateway.metrics.pages`)."""
    COHORTS = "cohorts"
    """A table of intersections of cohorts' user sets with later periods' active users
    (:mod:`gateway.metrics.retention`)."""
    PORTRAIT = "portrait"
    """Distinct users per platform or region of their launches (:mod:`gateway.metrics.portrait`)."""


@dataclass(frozen=True)
class MetricDefinition:
    """One metric: its GraphQL field name, meaning, unit and computation.

    Attributes:
        name: The GraphQL field name (``activeUsers``).
        description: What it counts, for client documentation.
        unit: ``users``, ``events``, ``seconds``, ``USD`` or ``mini programs``.
        exact: False when the value is an estimate.
        computation: How it is computed from a cell's days.
        column: The ``rollup_days`` column summed, for SUM / PER_ACTIVE_USER.
        scale: Factor applied to the column sum (``duration_ms`` -> seconds: 0.001).
        money: True for the advertising figures only some roles may read (SPEC §6's
            "money" group: :mod:`gateway.authz.matrix` guards these fields with it).
    """

    name: str
    description: str
    unit: str
    exact: bool
    computation: Computation
    column: str | None = None
    scale: float = 1.0
    money: bool = False

    @property
    def needs_bitmaps(self) -> bool:
        """True when a multi-day value needs the daily user bitmaps, not just counts."""
        return self.computation in (Computation.DISTINCT_USERS, Computation.PER_ACTIVE_USER)


_C = Computation
_DEFINITIONS = (
    MetricDefinition(
        "activeUsers",
        "Distinct users with a launch in the range (UV). Daily points are DAU.",
        "users", True, _C.DISTINCT_USERS,
    ),
    MetricDefinition(
        "newUsers",
        "Users active in the range whose first-ever launch in the same scope and filters falls "
        "in the range. Daily points are the users first seen that day; they sum to the value.",
        "users", True, _C.SUM, "new_users",
    ),
    MetricDefinition(
        "lifetimeUsers",
        "Distinct users with a launch in scope and filters on or before the range's last day. "
        "Points are cumulative as of each bucket's last day.",
        "users", True, _C.CUMULATIVE, "new_users",
    ),
    MetricDefinition(
        "launches", "Number of launch events in the range.", "events", True, _C.SUM, "launches"
    ),
    MetricDefinition(
        "pageViews", "Number of page views in the range.", "events", True, _C.SUM, "page_views"
    ),
    MetricDefinition(
        "averageTimePerUser",
        "Total page-view duration in the range, in seconds, divided by activeUsers; "
        "0 when there are no active users.",
        "seconds", True, _C.PER_ACTIVE_USER, "duration_ms", 0.001,
    ),
    MetricDefinition(
        "validAdImpressions",
        "Number of ad impressions in the range that earned revenue (valid).",
        "events", True, _C.SUM, "valid_impressions", money=True,
    ),
    MetricDefinition(
        "estimatedAdRevenue",
        "Revenue of the valid ad impressions in the range, in USD; an estimate until month-end.",
        "USD", False, _C.SUM, "revenue_micros", 1e-6, money=True,
    ),
    MetricDefinition(
        "monthlyActiveUsers",
        "Per calendar month: distinct users with a launch in that month (MAU).",
        "users", True, _C.DISTINCT_USERS,
    ),
    MetricDefinition(
        "retention",
        "Per cohort (the users new, or active, in one day, ISO week or month of the range): "
        "its size, and for each later period (day, week or month k after the cohort's) the "
        "cohort members with a launch in it and their rate (users / size).",
        "users", True, _C.COHORTS,
    ),
    MetricDefinition(
        "usersByPlatform",
        "Distinct users with a launch in the range, per platform of their launches (IOS, "
        "ANDROID, HARMONYOS, WEB, WINDOWS, MACOS, OTHER, UNKNOWN when not sent): a user seen "
        "on two platforms counts in each; total = distinct users; share = count / sum of counts.",
        "users", True, _C.PORTRAIT,
    ),
    MetricDefinition(
        "usersByRegion",
        "Distinct users with a launch in the range, per region of their launches (ISO 3166-1 "
        "alpha-2 country code, UNKNOWN when not sent): a user seen in two regions counts in "
        "each; total = distinct users; share = count / sum of counts.",
        "users", True, _C.PORTRAIT,
    ),
    MetricDefinition(
        "pages",
        "Per page of a mini program (page views' `page`; `(not set)` without one): page views, "
        "distinct visitors and total time in seconds in the range, and time per visitor.",
        "users", True, _C.PER_PAGE,
    ),
    MetricDefinition(
        "miniProgramCount",
        "Mini programs associated with the target app by the range's last day (any status).",
        "mini programs", True, _C.CATALOG,
    ),
    MetricDefinition(
        "createdMiniPrograms",
        "The workspace's mini programs created on or before the range's last day.",
        "mini programs", True, _C.CATALOG,
    ),
)  # fmt: skip

REGISTRY: MappingProxyType[str, MetricDefinition] = MappingProxyType(
    {definition.name: definition for definition in _DEFINITIONS}
)
"""Every metric by GraphQL field name, in documentation order."""

EVENT_METRICS: tuple[str, ...] = tuple(
    name
    for name, d in REGISTRY.items()
    if d.computation
    not in (Computation.CATALOG, Computation.COHORTS, Computation.PER_PAGE, Computation.PORTRAIT)
    and name != "monthlyActiveUsers"
)
"""The metric fields every level carries, computed from rollup cells over a range."""

MONEY_METRICS: tuple[str, ...] = tuple(name for name in EVENT_METRICS if REGISTRY[name].money)
"""The event metrics of the "money" access group (ad impressions and revenue)."""
