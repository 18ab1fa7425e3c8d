"""``Workspace``: one super-app operator, the root of the catalog graph."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain import EntityRef
from gateway.limits.pages import DEFAULT_FIRST
from gateway.loaders.catalog_rows import WorkspaceRow
from gateway.resolvers import catalog, catalog_metrics
from gateway.schema.arguments import CategoryArg, TimeRangeArg, TypeArg
from gateway.schema.catalog_metrics import (
    CREATED_MINI_PROGRAMS_DESCRIPTION,
    MERCHANT_ONBOARDING_DESCRIPTION,
    count_metric,
)
from gateway.schema.enums import MiniProgramTypeFilter
from gateway.schema.fields import Info, resolver_field
from gateway.schema.identified import Identified
from gateway.schema.merchant_onboarding import MerchantOnboarding
from gateway.schema.metric import Metric
from gateway.schema.mini_program_breakdowns import MiniProgramBreakdowns
from gateway.schema.pagination import After, Connection, First
from gateway.schema.retention import Audience
from gateway.schema.status_counts import AVAILABLE_DESCRIPTION
from gateway.schema.target_app_order import (
    ORDERED_DESCRIPTION,
    OrderArg,
    RangeArg,
    target_apps_connection,
)
from gateway.schema.user_breakdowns import UserBreakdowns

if TYPE_CHECKING:
    from gateway.schema.merchant import Merchant
    from gateway.schema.mini_program import MiniProgram
    from gateway.schema.target_app import TargetApp


@strawberry.type(
    description="A workspace: one super-app operator with its target apps, merchants and "
    "mini programs."
)
class Workspace(Identified, Audience, UserBreakdowns, MiniProgramBreakdowns):
    """A workspace built from its catalog row."""

    @classmethod
    def from_row(cls, row: WorkspaceRow) -> Workspace:
        """The GraphQL object of a loader row."""
        return cls(id=strawberry.ID(row.id), name=row.name)

    def ref(self) -> EntityRef:
        """The workspace."""
        return EntityRef.workspace(self.id)

    @resolver_field(description=ORDERED_DESCRIPTION)
    async def target_apps(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = strawberry.UNSET,
        order_by: OrderArg = None,
        time_range: RangeArg = None,
    ) -> Connection[Annotated[TargetApp, strawberry.lazy("gateway.schema.target_app")]] | None:
        return await target_apps_connection(info, self.id, first, after, order_by, time_range)

    @resolver_field(
        description="The workspace's mini programs, ordered by id. Nodes are not scoped to a "
        "target app, so their `status` is null (use `TargetApp.miniPrograms` or `deployments`)."
    )
    async def mini_programs(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = strawberry.UNSET,
        type: TypeArg = MiniProgramTypeFilter.ALL,
        category: CategoryArg = None,
    ) -> Connection[Annotated[MiniProgram, strawberry.lazy("gateway.schema.mini_program")]]:
        from gateway.schema.mini_program import MiniProgram

        flt = catalog.mini_program_filter(type, category)
        page = await catalog.mini_programs_of_workspace(info.context, self.id, first, after, flt)
        return Connection.build(page, MiniProgram.from_row, lambda row: row.id, after=after)

    @resolver_field(description="The workspace's merchants, ordered by id.")
    async def merchants(
        self, info: Info, first: First = DEFAULT_FIRST, after: After = strawberry.UNSET
    ) -> Connection[Annotated[Merchant, strawberry.lazy("gateway.schema.merchant")]]:
        from gateway.schema.merchant import Merchant

        page = await catalog.merchants_of_workspace(info.context, self.id, first, after)
        return Connection.build(page, Merchant.from_row, lambda row: row.id, after=after)

    @resolver_field(
        description="Number of distinct mini programs whose "
        + AVAILABLE_DESCRIPTION
        + " in at least one of the workspace's target apps."
    )
    async def available_mini_programs(
        self, info: Info, type: TypeArg = MiniProgramTypeFilter.ALL, category: CategoryArg = None
    ) -> int | None:
        flt = catalog.mini_program_filter(type, category)
        return await catalog.available_in_workspace(info.context, self.id, flt)

    @resolver_field(description=CREATED_MINI_PROGRAMS_DESCRIPTION)
    async def created_mini_programs(
        self,
        info: Info,
        time_range: TimeRangeArg,
        type: TypeArg = MiniProgramTypeFilter.ALL,
        category: CategoryArg = None,
    ) -> Metric | None:
        flt = catalog.mini_program_filter(type, category)
        spec = time_range.to_spec()
        return count_metric(
            await catalog_metrics.created_mini_programs(info.context, self.id, spec, flt)
        )

    @resolver_field(description=MERCHANT_ONBOARDING_DESCRIPTION)
    async def merchant_onboarding(
        self, info: Info, time_range: TimeRangeArg
    ) -> MerchantOnboarding | None:
        spec = time_range.to_spec()
        history, span = await catalog_metrics.merchant_onboarding(info.context, self.id, spec)
        return MerchantOnboarding.of(history, span)
