"""The event metric fields of SPEC §4, shared by ``Workspace``, ``TargetApp`` and ``MiniProgram``.

:class:`EventMetrics` is a base class: a type gets ``activeUsers`` ... ``estimatedAdRevenue`` and
``monthlyActiveUsers`` by inheriting it: the rollup cell answering them is derived from the
type's :meth:`~gateway.domain.Entity.ref` and the filters (:meth:`EventMetrics.metric_cell`).
Field names and descriptions come from the metric registry
(:data:`gateway.metrics.registry.REGISTRY`), never typed twice.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from gateway.domain import Entity, Filters
from gateway.metrics.cells import CellKey, cell_of
from gateway.metrics.registry import REGISTRY
from gateway.resolvers import event_metrics
from gateway.schema.arguments import CategoryArg, TimeRangeArg, TypeArg
from gateway.schema.enums import DataType, MiniProgramTypeFilter
from gateway.schema.fields import Info, resolver_field
from gateway.schema.metric import Metric

DataTypeArg = Annotated[
    DataType | None,
    strawberry.argument(
        description="Which traffic to count: PRODUCTION (the default, also when null) or "
        "NON_PRODUCTION (testing devices)."
    ),
]
"""``dataType: DataType = PRODUCTION``."""

TIME_SEMANTICS = (
    "Over `timeRange` (UTC days), as of the latest snapshot (`Query.snapshot`), compared with "
    "the previous period (see `Metric`)."
)
"""The time semantics every event metric field shares (the details are on ``Metric``)."""

_SCOPE = (
    "Counts the entity's events (a mini program reached through a target app: only its events "
    "in that app) whose mini program matches `type` and `category` and whose data type is "
    "`dataType`."
)


def describe_metric(name: str) -> str:
    """A metric field's description: the registry's meaning, its unit and time semantics."""
    definition = REGISTRY[name]
    exact = "exact" if definition.exact else "an estimate"
    return f"{definition.description} Unit: {definition.unit} ({exact}). {TIME_SEMANTICS}"


MONTHLY_DESCRIPTION = (
    f"{REGISTRY['monthlyActiveUsers'].description} Unit: {REGISTRY['monthlyActiveUsers'].unit} "
    "(exact). One entry per calendar month (UTC) from `from` to `to` inclusive, at most 24, "
    "each compared with the month before; the current month is counted up to today, as of the "
    f"latest snapshot. {_SCOPE}"
)
"""``monthlyActiveUsers``."""


@strawberry.type(description="Distinct users with a launch in one calendar month (UTC).")
class MonthlyActiveUsers:
    """One month of ``monthlyActiveUsers``."""

    month: str = strawberry.field(description='The month, as "YYYY-MM".')
    value: float = strawberry.field(description="Distinct users with a launch in the month.")
    previous_value: float = strawberry.field(
        description="Distinct users with a launch in the month before."
    )
    change: float = strawberry.field(description="value − previousValue.")
    change_rate: float | None = strawberry.field(
        description="change / previousValue, as a fraction; null when previousValue is 0."
    )


def _metric_field(name: str) -> Any:
    """The field of the registry metric ``name`` (its resolver maps ``self`` to a cell)."""

    async def resolve(
        self: EventMetrics,
        info: Info,
        time_range: TimeRangeArg,
        type: TypeArg = MiniProgramTypeFilter.ALL,
        data_type: DataTypeArg = DataType.PRODUCTION,
        category: CategoryArg = None,
    ) -> Metric | None:
        cell = self.metric_cell(event_metrics.metric_filters(type, data_type, category))
        value, series = await event_metrics.event_metric(
            info.context, name, cell, time_range.to_spec()
        )
        return Metric.of(value, series)

    return strawberry.field(resolver=resolve, name=name, description=describe_metric(name))


FromMonth = Annotated[str, strawberry.argument(name="from", description='First month, "YYYY-MM".')]
ToMonth = Annotated[
    str,
    strawberry.argument(description='Last month, "YYYY-MM", not after the current month (UTC).'),
]


@strawberry.type(description="The event metric fields (inherited; never in the schema itself).")
class EventMetrics(Entity):
    """Base of every type carrying the event metrics: they count for :meth:`ref`."""

    def admits(self, filters: Filters) -> bool:
        """False when ``filters`` exclude the entity itself (a mini program of another type or
        category): every metric is then 0."""
        del filters
        return True

    def metric_cell(self, filters: Filters) -> CellKey | None:
        """The rollup cell answering this entity's metrics under ``filters``; None when the
        filters exclude the entity."""
        return cell_of(self.ref(), filters) if self.admits(filters) else None

    active_users = _metric_field("activeUsers")
    new_users = _metric_field("newUsers")
    lifetime_users = _metric_field("lifetimeUsers")
    launches = _metric_field("launches")
    page_views = _metric_field("pageViews")
    average_time_per_user = _metric_field("averageTimePerUser")
    valid_ad_impressions = _metric_field("validAdImpressions")
    estimated_ad_revenue = _metric_field("estimatedAdRevenue")

    @resolver_field(description=MONTHLY_DESCRIPTION)
    async def monthly_active_users(
        self,
        info: Info,
        from_: FromMonth,
        to: ToMonth,
        type: TypeArg = MiniProgramTypeFilter.ALL,
        data_type: DataTypeArg = DataType.PRODUCTION,
        category: CategoryArg = None,
    ) -> list[MonthlyActiveUsers] | None:
        cell = self.metric_cell(event_metrics.metric_filters(type, data_type, category))
        months = await event_metrics.monthly_active_users_of(info.context, cell, from_, to)
        return [
            MonthlyActiveUsers(
                month=event_metrics.month_label(m.month),
                value=m.metric.value,
                previous_value=m.metric.previous_value,
                change=m.metric.change,
                change_rate=m.metric.change_rate,
            )
            for m in months
        ]
