"""``TargetApp``: a super app of a workspace, in which mini programs are deployed."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain import EntityRef
from gateway.errors import NotFoundError
from gateway.limits.pages import DEFAULT_FIRST
from gateway.loaders.catalog_rows import TargetAppRow
from gateway.resolvers import catalog, catalog_metrics
from gateway.schema.arguments import CategoryArg, IdArg, StatusArg, TimeRangeArg, TypeArg
from gateway.schema.catalog_metrics import (
    MINI_PROGRAM_COUNT_DESCRIPTION,
    count_metric,
)
from gateway.schema.enums import MiniProgramTypeFilter
from gateway.schema.fields import Info, resolver_field
from gateway.schema.identified import Identified
from gateway.schema.metric import Metric
from gateway.schema.mini_program_breakdowns import MiniProgramBreakdowns
from gateway.schema.pagination import After, Connection, First
from gateway.schema.retention import Audience
from gateway.schema.status_counts import AVAILABLE_DESCRIPTION, MiniProgramStatusCounts
from gateway.schema.user_breakdowns import UserBreakdowns

if TYPE_CHECKING:
    from gateway.schema.mini_program import MiniProgram
    from gateway.schema.workspace import Workspace


@strawberry.type(description="A target app: a super app of a workspace hosting mini programs.")
class TargetApp(Identified, Audience, UserBreakdowns, MiniProgramBreakdowns):
    """A target app built from its catalog row."""

    created_at: dt.datetime = strawberry.field(description="When the app was created (UTC).")
    workspace_id: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: TargetAppRow) -> TargetApp:
        """The GraphQL object of a loader row."""
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            created_at=row.created_at,
            workspace_id=row.workspace_id,
        )

    def ref(self) -> EntityRef:
        """The target app, in its workspace."""
        return EntityRef.target_app(self.id, self.workspace_id)

    @resolver_field(description="The workspace the app belongs to.")
    async def workspace(
        self, info: Info
    ) -> Annotated[Workspace, strawberry.lazy("gateway.schema.workspace")] | None:
        from gateway.schema.workspace import Workspace

        row = await catalog.workspace(info.context, self.workspace_id)
        if row is None:  # the foreign key makes this unreachable
            raise LookupError(f"workspace {self.workspace_id} of app {self.id} is missing")
        return Workspace.from_row(row)

    @resolver_field(
        description="Mini programs associated with this app (a first deployment record exists), "
        "ordered by id. Nodes are scoped to the app: their `status` and `deployment` answer "
        "for this app."
    )
    async def mini_programs(
        self,
        info: Info,
        first: First = DEFAULT_FIRST,
        after: After = strawberry.UNSET,
        type: TypeArg = MiniProgramTypeFilter.ALL,
        category: CategoryArg = None,
        status: StatusArg = None,
    ) -> Connection[Annotated[MiniProgram, strawberry.lazy("gateway.schema.mini_program")]]:
        from gateway.schema.mini_program import MiniProgram

        flt = catalog.mini_program_filter(type, category)
        page = await catalog.mini_programs_of_target_app(
            info.context, self.id, first, after, flt, status
        )
        return Connection.build(
            page,
            lambda row: MiniProgram.from_row(row, via=self.id),
            lambda row: row.id,
            after=after,
        )

    @resolver_field(
        description="A mini program associated with this app, by id, scoped to the app as the "
        "nodes of `miniPrograms` are: its `status`, `deployment` and metrics answer for this app. "
        "Null with a NOT_FOUND error when it is not associated with the app, or there is none, or "
        "it is outside the caller's scope (the three are indistinguishable)."
    )
    async def mini_program(
        self, info: Info, id: IdArg
    ) -> Annotated[MiniProgram, strawberry.lazy("gateway.schema.mini_program")] | None:
        from gateway.schema.mini_program import MiniProgram

        row = await catalog.mini_program_of_target_app(info.context, self.id, id)
        if row is None:
            raise NotFoundError("not found")
        return MiniProgram.from_row(row, via=self.id)

    @resolver_field(
        description="Current counts of the app's mini programs by status group (real time)."
    )
    async def mini_program_status_counts(
        self, info: Info, type: TypeArg = MiniProgramTypeFilter.ALL, category: CategoryArg = None
    ) -> MiniProgramStatusCounts | None:
        flt = catalog.mini_program_filter(type, category)
        counts = await catalog.status_counts(info.context, self.id, flt)
        return MiniProgramStatusCounts.from_counts(counts)

    @resolver_field(
        description="Number of mini programs whose " + AVAILABLE_DESCRIPTION + " in this app."
    )
    async def available_mini_programs(
        self, info: Info, type: TypeArg = MiniProgramTypeFilter.ALL, category: CategoryArg = None
    ) -> int | None:
        flt = catalog.mini_program_filter(type, category)
        return await catalog.available_in_target_app(info.context, self.id, flt)

    @resolver_field(description=MINI_PROGRAM_COUNT_DESCRIPTION)
    async def mini_program_count(
        self,
        info: Info,
        time_range: TimeRangeArg,
        type: TypeArg = MiniProgramTypeFilter.ALL,
        category: CategoryArg = None,
    ) -> Metric | None:
        flt = catalog.mini_program_filter(type, category)
        spec = time_range.to_spec()
        return count_metric(
            await catalog_metrics.mini_program_count(info.context, self.id, spec, flt)
        )
