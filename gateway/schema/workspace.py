"""``Workspace``: one super-app operator, the root of the catalog graph."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.loaders.rows import WorkspaceRow
from gateway.resolvers import catalog
from gateway.resolvers.pagination import DEFAULT_FIRST
from gateway.schema.arguments import CategoryArg, TypeArg
from gateway.schema.enums import MiniProgramTypeFilter
from gateway.schema.fields import Info, resolver_field
from gateway.schema.pagination import After, Connection, First
from gateway.schema.status_counts import AVAILABLE_DESCRIPTION

if TYPE_CHECKING:
    from gateway.schema.merchant import Merchant
    from gateway.schema.mini_program import MiniProgram
    from gateway.schema.target_app import TargetApp


@strawberry.type(
    description="A workspace: one super-app operator with its target apps, merchants and "
    "mini programs."
)
class Workspace:
    """A workspace built from its catalog row."""

    id: strawberry.ID = strawberry.field(description="Stable workspace id.")
    name: str = strawberry.field(description="Display name.")

    @classmethod
    def from_row(cls, row: WorkspaceRow) -> Workspace:
        """The GraphQL object of a loader row."""
        return cls(id=strawberry.ID(row.id), name=row.name)

    @resolver_field(description="The workspace's target apps (super apps), ordered by id.")
    async def target_apps(
        self, info: Info, first: First = DEFAULT_FIRST, after: After = strawberry.UNSET
    ) -> Connection[Annotated[TargetApp, strawberry.lazy("gateway.schema.target_app")]]:
        from gateway.schema.target_app import TargetApp

        page = await catalog.target_apps_of_workspace(info.context, self.id, first, after)
        return Connection.build(page, TargetApp.from_row, lambda row: row.id, after=after)

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
    ) -> int:
        flt = catalog.mini_program_filter(type, category)
        return await catalog.available_in_workspace(info.context, self.id, flt)
