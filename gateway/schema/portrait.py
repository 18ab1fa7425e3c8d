"""``usersByPlatform`` and ``usersByRegion`` (SPEC §4 "Audience") on the three levels.

:class:`UserPortrait` is a base class like :class:`~gateway.schema.event_metrics.EventMetrics`
(which it extends): a type gets both fields by inheriting it, and the cell counted is the type's
:meth:`~gateway.schema.event_metrics.EventMetrics.metric_cell` (a mini program reached through a
target app counts in that app only). Descriptions are written once, here.
"""

from __future__ import annotations

import strawberry

from gateway.resolvers import event_metrics
from gateway.resolvers.portrait import portrait_of
from gateway.schema.arguments import CategoryArg, TimeRangeArg, TypeArg
from gateway.schema.breakdown import Breakdown
from gateway.schema.enums import DataType, MiniProgramTypeFilter
from gateway.schema.event_metrics import DataTypeArg, EventMetrics
from gateway.schema.fields import Info, resolver_field
from gateway.schema.time_range import TimeRangeInput

_PORTRAIT = (
    "Distinct users (deduplicated by userGuid, exact) with a `launch` in the scope and filters "
    "during R (UTC days), grouped by the {what} of their launches in R: a user seen on {two} "
    "counts in each. key = {key}. total = the distinct users (activeUsers); share = count / the "
    "sum of the counts (shares sum to 1 even though counts may add up to more than total). The "
    "previous values count the same over the previous period (the range of equal length ending "
    "the day before R starts). Values are as of the latest snapshot (see `Query.snapshot`)."
)

USERS_BY_PLATFORM_DESCRIPTION = _PORTRAIT.format(
    what="platform",
    two="two platforms",
    key="the platform: IOS, ANDROID, HARMONYOS, WEB, WINDOWS, MACOS, OTHER, or UNKNOWN for "
    "launches sent without one",
)
"""``usersByPlatform``."""

USERS_BY_REGION_DESCRIPTION = _PORTRAIT.format(
    what="region",
    two="launches from two regions",
    key="the ISO 3166-1 alpha-2 country code (upper case), or UNKNOWN for launches sent "
    "without one",
)
"""``usersByRegion``."""


@strawberry.type(description="The portrait fields (inherited; never in the schema itself).")
class UserPortrait(EventMetrics):
    """Base of the three levels: the fields count for :meth:`metric_cell`."""

    @resolver_field(description=USERS_BY_PLATFORM_DESCRIPTION)
    async def users_by_platform(
        self,
        info: Info,
        time_range: TimeRangeArg,
        type: TypeArg = MiniProgramTypeFilter.ALL,
        data_type: DataTypeArg = DataType.PRODUCTION,
        category: CategoryArg = None,
    ) -> Breakdown | None:
        return await self._portrait(info, time_range, type, data_type, category, "platform")

    @resolver_field(description=USERS_BY_REGION_DESCRIPTION)
    async def users_by_region(
        self,
        info: Info,
        time_range: TimeRangeArg,
        type: TypeArg = MiniProgramTypeFilter.ALL,
        data_type: DataTypeArg = DataType.PRODUCTION,
        category: CategoryArg = None,
    ) -> Breakdown | None:
        return await self._portrait(info, time_range, type, data_type, category, "region")

    async def _portrait(
        self,
        info: Info,
        time_range: TimeRangeInput,
        type: MiniProgramTypeFilter | None,
        data_type: DataType | None,
        category: str | None,
        dimension: str,
    ) -> Breakdown:
        cell = self.metric_cell(event_metrics.metric_filters(type, data_type, category))
        found = await portrait_of(info.context, cell, time_range.to_spec(), dimension)
        return Breakdown.from_result(found)
