"""``Query``: the root of the catalog graph."""

from __future__ import annotations

import strawberry

from gateway.resolvers import catalog
from gateway.resolvers.pagination import DEFAULT_FIRST
from gateway.schema.arguments import IdArg
from gateway.schema.fields import Info, resolver_field
from gateway.schema.metric_definitions import METRIC_DEFINITIONS_DESCRIPTION, MetricDefinition
from gateway.schema.mini_program import MiniProgram
from gateway.schema.pagination import After, Connection, First
from gateway.schema.snapshot import SNAPSHOT_DESCRIPTION, Snapshot
from gateway.schema.target_app import TargetApp
from gateway.schema.workspace import Workspace


@strawberry.type(
    description="Entry points: Workspace -> TargetApp -> MiniProgram. Catalog fields answer "
    "the current state (real time)."
)
class Query:
    """The root query type."""

    @resolver_field(description="Every workspace, ordered by id.")
    async def workspaces(
        self, info: Info, first: First = DEFAULT_FIRST, after: After = strawberry.UNSET
    ) -> Connection[Workspace]:
        page = await catalog.workspaces(info.context, first, after)
        return Connection.build(page, Workspace.from_row, lambda row: row.id, after=after)

    @resolver_field(description="A workspace by id; null when there is none.")
    async def workspace(self, info: Info, id: IdArg) -> Workspace | None:
        row = await catalog.workspace(info.context, id)
        return Workspace.from_row(row) if row is not None else None

    @resolver_field(description="A target app by id; null when there is none.")
    async def target_app(self, info: Info, id: IdArg) -> TargetApp | None:
        row = await catalog.target_app(info.context, id)
        return TargetApp.from_row(row) if row is not None else None

    @resolver_field(
        description="A mini program by id; null when there is none. Not scoped to a target "
        "app: its `status` is null (see `deployments`)."
    )
    async def mini_program(self, info: Info, id: IdArg) -> MiniProgram | None:
        row = await catalog.mini_program(info.context, id)
        return MiniProgram.from_row(row) if row is not None else None

    @resolver_field(description=SNAPSHOT_DESCRIPTION)
    async def snapshot(self, info: Info) -> Snapshot:
        return await Snapshot.of_request(info)

    @resolver_field(description=METRIC_DEFINITIONS_DESCRIPTION)
    def metric_definitions(self) -> list[MetricDefinition]:
        return MetricDefinition.all()
