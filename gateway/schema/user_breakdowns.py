"""The user breakdown fields of SPEC §4 (``usersBySource``, ``usersByCategory``), shared by
``Workspace`` and ``TargetApp``.

:class:`UserBreakdowns` is a base class, like :class:`~gateway.schema.event_metrics.EventMetrics`:
a type gets both fields by inheriting it; the scope counted is derived from the type's
:meth:`~gateway.domain.Entity.ref`. Descriptions are written once, here.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.domain import Entity
from gateway.metrics.user_breakdowns import UsersBy
from gateway.resolvers.event_metrics import metric_filters
from gateway.resolvers.user_breakdowns import users_breakdown
from gateway.schema.arguments import CategoryArg, TimeRangeArg, TypeArg
from gateway.schema.breakdown import Breakdown
from gateway.schema.enums import DataType, MiniProgramTypeFilter, UserBasis
from gateway.schema.event_metrics import DataTypeArg
from gateway.schema.fields import Info, resolver_field

BasisArg = Annotated[
    UserBasis | None,
    strawberry.argument(
        description="Which users to count: CUMULATIVE (the default, also when null) = users "
        "with a launch on or before R's last day; ACTIVE = users with a launch during R."
    ),
]
"""``basis: UserBasis = CUMULATIVE``."""

_USERS = (
    "Distinct users (deduplicated by userGuid, exact) with a `launch` in the scope and filters: "
    "with basis CUMULATIVE, on or before R's last day (UTC); with ACTIVE, during R. The previous "
    "values count the same over the previous period (the range of equal length ending the day "
    "before R starts). Values are as of the latest snapshot (see `Query.snapshot`)."
)

USERS_BY_SOURCE_DESCRIPTION = (
    f"{_USERS} Grouped by the user's `source` slug (from its `user` record, as of the latest "
    "snapshot; `unknown` for users without a record). total = those users; share = count / "
    "total (shares sum to 1)."
)
"""``usersBySource``."""

USERS_BY_CATEGORY_DESCRIPTION = (
    f"{_USERS} Grouped by the category of the mini programs they launched (in the same scope, "
    "filters and days): a user who launched mini programs of several categories counts in "
    "each. total = distinct users of all categories; share = count / the sum of the counts "
    "(so shares sum to 1 even though counts may add up to more than total)."
)
"""``usersByCategory``."""


@strawberry.type(description="The user breakdown fields (inherited; never in the schema itself).")
class UserBreakdowns(Entity):
    """Base of ``Workspace`` and ``TargetApp``: the fields count for :meth:`ref`."""

    @resolver_field(description=USERS_BY_SOURCE_DESCRIPTION)
    async def users_by_source(
        self,
        info: Info,
        time_range: TimeRangeArg,
        type: TypeArg = MiniProgramTypeFilter.ALL,
        data_type: DataTypeArg = DataType.PRODUCTION,
        category: CategoryArg = None,
        basis: BasisArg = UserBasis.CUMULATIVE,
    ) -> Breakdown | None:
        filters = metric_filters(type, data_type, category)
        result = await users_breakdown(
            info.context, self.ref(), time_range.to_spec(), UsersBy.SOURCE,
            filters, basis,
        )  # fmt: skip
        return Breakdown.from_result(result)

    @resolver_field(description=USERS_BY_CATEGORY_DESCRIPTION)
    async def users_by_category(
        self,
        info: Info,
        time_range: TimeRangeArg,
        type: TypeArg = MiniProgramTypeFilter.ALL,
        data_type: DataTypeArg = DataType.PRODUCTION,
        basis: BasisArg = UserBasis.CUMULATIVE,
    ) -> Breakdown | None:
        filters = metric_filters(type, data_type, None)
        result = await users_breakdown(
            info.context, self.ref(), time_range.to_spec(), UsersBy.CATEGORY,
            filters, basis,
        )  # fmt: skip
        return Breakdown.from_result(result)
