"""``miniProgramsBySource`` and ``miniProgramsByCategory`` of ``Workspace`` and ``TargetApp``.

A base class, like :class:`~gateway.schema.event_metrics.EventMetrics`: a type gets both fields by
inheriting :class:`MiniProgramBreakdowns`; the level and id counted come from its
:meth:`~gateway.domain.Entity.ref`.
"""

from __future__ import annotations

import strawberry

from gateway.domain import Entity, Filters, GroupBy
from gateway.resolvers import catalog, catalog_metrics
from gateway.schema.arguments import CategoryArg, TimeRangeArg, TypeArg
from gateway.schema.breakdown import Breakdown
from gateway.schema.catalog_metrics import breakdown_description
from gateway.schema.enums import MiniProgramTypeFilter
from gateway.schema.fields import Info, resolver_field


@strawberry.type(description="The mini program breakdown fields (inherited; not in the schema).")
class MiniProgramBreakdowns(Entity):
    """Base of ``Workspace`` and ``TargetApp``: the fields count for :meth:`ref`."""

    async def _breakdown(
        self, info: Info, time_range: TimeRangeArg, by: GroupBy, flt: Filters
    ) -> Breakdown | None:
        result = await catalog_metrics.mini_programs_breakdown(
            info.context, self.ref(), time_range.to_spec(), by, flt
        )
        return Breakdown.from_result(result)

    @resolver_field(description=breakdown_description("source"))
    async def mini_programs_by_source(
        self,
        info: Info,
        time_range: TimeRangeArg,
        type: TypeArg = MiniProgramTypeFilter.ALL,
        category: CategoryArg = None,
    ) -> Breakdown | None:
        flt = catalog.mini_program_filter(type, category)
        return await self._breakdown(info, time_range, GroupBy.SOURCE, flt)

    @resolver_field(description=breakdown_description("category"))
    async def mini_programs_by_category(
        self, info: Info, time_range: TimeRangeArg, type: TypeArg = MiniProgramTypeFilter.ALL
    ) -> Breakdown | None:
        flt = catalog.mini_program_filter(type, None)
        return await self._breakdown(info, time_range, GroupBy.CATEGORY, flt)
