"""The "straightforward implementation" of SPEC §9, kept only as a yardstick for the benchmarks.

A small strawberry schema whose ``TargetApp`` fields each run their own SQL over the raw event
and catalog tables on every request: ``COUNT(DISTINCT uid)``, ``COUNT(*)`` and ``MIN(at)`` per
user, grouped by day for the daily series. No rollups, no dataloaders, no cache. It answers the
fields of the target-app details page with the same names, types and semantics (SPEC §4) as the
real gateway, so one query text runs on both and the answers can be compared number by number.

Only what the details page asks is implemented: ``Query.targetApp(id)`` and, on ``TargetApp``,
``miniProgramStatusCounts``, ``activeUsers``, ``pageViews``, ``newUsers``, ``lifetimeUsers``
(DAY series), ``miniProgramsBySource``, ``miniProgramsByCategory``, ``usersBySource`` and
``usersByCategory`` (CUMULATIVE basis), all with the default filters (every type, every
category, PRODUCTION data).

Example:
    >>> schema = build_naive_schema()  # doctest: +SKIP
    >>> await schema.execute(query, variables, context_value=NaiveContext(engine))  # doctest: +SKIP
"""

from bench.naive.schema import build_naive_schema
from bench.naive.types import NaiveContext

__all__ = ["NaiveContext", "build_naive_schema"]
