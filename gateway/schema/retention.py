"""``retention`` (SPEC §4 "Audience") on ``Workspace``, ``TargetApp`` and ``MiniProgram``.

:class:`Audience` is a base class like :class:`~gateway.schema.event_metrics.EventMetrics` (which
it extends): a type gets the field by inheriting it, and the cell counted is the type's
:meth:`~gateway.schema.event_metrics.EventMetrics.metric_cell` (a mini program reached through a
target app counts in that app only). Descriptions are written once, here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, cast

import strawberry

from gateway.metrics import retention as pure
from gateway.resolvers import event_metrics
from gateway.resolvers.retention import retention_of
from gateway.schema.arguments import CategoryArg, TypeArg
from gateway.schema.enums import DataType, Granularity, MiniProgramTypeFilter, RetentionCohortKind
from gateway.schema.event_metrics import DataTypeArg
from gateway.schema.fields import Info, resolver_field
from gateway.schema.portrait import UserPortrait
from gateway.schema.time_range import TimeRangeInput

RETENTION_DESCRIPTION = (
    "Retention cohorts, exact (users deduplicated by userGuid). One cohort per bucket of "
    "`cohorts` at `granularity` (DAY: one per UTC day; WEEK: ISO weeks; MONTH: calendar months; "
    "the first and last bucket clipped to the range, as for series). Period k (1..`periods`) is "
    "the whole calendar bucket k buckets after the cohort's own unclipped bucket: the day k "
    "days later, the ISO week k weeks later, the calendar month k months later; its `users` are "
    "the cohort's members with a launch in the scope and filters during it. Values are as of the "
    "latest snapshot (a period containing today counts so far; a later one has null values)."
)
"""``retention``."""


@strawberry.type(description="One period of a retention cohort: who came back in it.")
class RetentionPeriod:
    """A column of a cohort row."""

    offset: int = strawberry.field(
        description="k: how many buckets after the cohort's own bucket (1 = the next one)."
    )
    start: dt.date = strawberry.field(
        description="The period's first day (UTC): a day, an ISO week's Monday or a month's "
        "first day."
    )
    users: int | None = strawberry.field(
        description="Cohort members with a launch in the scope and filters during the period; "
        "null while the period has not started (it starts after today)."
    )
    rate: float | None = strawberry.field(
        description="users / the cohort's size, a fraction 0..1; null when the cohort is empty "
        "or the period has not started."
    )
    complete: bool = strawberry.field(
        description="True only when the period ended before today (UTC): its value is final "
        "(apart from late events); false for a period containing today or not started yet."
    )


@strawberry.type(description="One retention cohort: the users of one bucket and their periods.")
class RetentionCohort:
    """A row of a retention table."""

    start: dt.date = strawberry.field(
        description="The cohort's first day (UTC): its bucket's first day, clipped to the "
        "cohort range (so the first cohort of a range starting mid-week starts that day)."
    )
    size: int = strawberry.field(
        description="Users in the cohort (0 is possible: then every rate is null)."
    )
    periods: list[RetentionPeriod] = strawberry.field(description="Periods 1..`periods`, in order.")


@strawberry.type(description="A retention table: cohort rows by period columns.")
class Retention:
    """The result of ``retention``."""

    granularity: Granularity = strawberry.field(
        description="The size of cohort buckets and periods."
    )
    cohort_kind: RetentionCohortKind = strawberry.field(description="Who each cohort holds.")
    cohorts: list[RetentionCohort] = strawberry.field(
        description="One cohort per bucket of the cohort range, oldest first."
    )

    @classmethod
    def of(cls, table: pure.RetentionTable) -> Retention:
        """The GraphQL object of a computed table. Its cohorts and periods are the computed
        objects themselves: they have the GraphQL types' attributes, and a 90 x 30 table would
        otherwise build 2,700 strawberry objects per request for nothing."""
        return cls(
            granularity=table.granularity,
            cohort_kind=table.cohort_kind,
            cohorts=cast(list[RetentionCohort], table.cohorts),
        )


CohortsArg = Annotated[
    TimeRangeInput,
    strawberry.argument(
        description="The cohort range (UTC days): one cohort per bucket of it. Periods may "
        "reach past it, up to today."
    ),
]
GranularityArg = Annotated[
    Granularity | None,
    strawberry.argument(
        description="Bucket size of cohorts and periods (default DAY; null = DAY)."
    ),
]
PeriodsArg = Annotated[
    int | None,
    strawberry.argument(
        description="How many periods after each cohort's own bucket (default 7; null = 7): "
        "1 to 30 for DAY, 1 to 12 for WEEK and MONTH."
    ),
]
CohortArg = Annotated[
    RetentionCohortKind | None,
    strawberry.argument(description="Who a cohort holds (default NEW_USERS; null = NEW_USERS)."),
]


@strawberry.type(description="The audience fields (inherited; never in the schema itself).")
class Audience(UserPortrait):
    """Base of the three levels: ``retention`` counts for :meth:`metric_cell`."""

    @resolver_field(description=RETENTION_DESCRIPTION)
    async def retention(
        self,
        info: Info,
        cohorts: CohortsArg,
        granularity: GranularityArg = Granularity.DAY,
        periods: PeriodsArg = 7,
        cohort: CohortArg = RetentionCohortKind.NEW_USERS,
        type: TypeArg = MiniProgramTypeFilter.ALL,
        data_type: DataTypeArg = DataType.PRODUCTION,
        category: CategoryArg = None,
    ) -> Retention | None:
        cell = self.metric_cell(event_metrics.metric_filters(type, data_type, category))
        table = await retention_of(
            info.context, cell, cohorts.to_spec(), granularity, periods, cohort
        )
        return Retention.of(table)
