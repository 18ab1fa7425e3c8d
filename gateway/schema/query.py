"""``Query``: the root of the catalog graph."""

from __future__ import annotations

from typing import TypeVar

import strawberry

from gateway.errors import NotFoundError, UnauthenticatedError
from gateway.limits.pages import DEFAULT_FIRST
from gateway.resolvers import catalog
from gateway.schema.arguments import IdArg
from gateway.schema.fields import Info, resolver_field
from gateway.schema.merchant import Merchant
from gateway.schema.metric_definitions import METRIC_DEFINITIONS_DESCRIPTION, MetricDefinition
from gateway.schema.mini_program import MiniProgram
from gateway.schema.pagination import After, Connection, First
from gateway.schema.snapshot import SNAPSHOT_DESCRIPTION, Snapshot
from gateway.schema.target_app import TargetApp
from gateway.schema.viewer import Viewer
from gateway.schema.workspace import Workspace

_LOOKUP = (
    "Null with a NOT_FOUND error when there is none or it is outside the caller's scope "
    "(the two are indistinguishable)."
)

T = TypeVar("T")


def _found(row: T | None) -> T:
    if row is None:
        raise NotFoundError("not found")
    return row


@strawberry.type(
    description="Entry points: Workspace -> TargetApp -> MiniProgram. Catalog fields answer "
    "the current state (real time)."
)
class Query:
    """The root query type."""

    @resolver_field(
        description="The caller: subject, grants and the fields it may read. Readable with any "
        "role."
    )
    def viewer(self, info: Info) -> Viewer:
        principal = info.context.principal
        if principal is None:  # the field's check answered UNAUTHENTICATED already
            raise UnauthenticatedError("authentication required")
        return Viewer.of(principal)

    @resolver_field(
        description="The workspaces the caller may see (every one for platform roles, its own "
        "for super-app team roles, none for mini-program team roles), ordered by id."
    )
    async def workspaces(
        self, info: Info, first: First = DEFAULT_FIRST, after: After = strawberry.UNSET
    ) -> Connection[Workspace]:
        page = await catalog.workspaces(info.context, first, after)
        return Connection.build(page, Workspace.from_row, lambda row: row.id, after=after)

    @resolver_field(description="A workspace by id. " + _LOOKUP)
    async def workspace(self, info: Info, id: IdArg) -> Workspace | None:
        row = _found(await catalog.workspace(info.context, id))
        return Workspace.from_row(row)

    @resolver_field(description="A target app by id. " + _LOOKUP)
    async def target_app(self, info: Info, id: IdArg) -> TargetApp | None:
        row = _found(await catalog.target_app(info.context, id))
        return TargetApp.from_row(row)

    @resolver_field(
        description="A mini program by id, not scoped to a target app: its `status` is null "
        "(see `deployments`). " + _LOOKUP
    )
    async def mini_program(self, info: Info, id: IdArg) -> MiniProgram | None:
        row = _found(await catalog.mini_program(info.context, id))
        return MiniProgram.from_row(row)

    @resolver_field(
        description="A merchant by id (mini-program teams start here: `merchant(id) { "
        "miniPrograms }`). " + _LOOKUP
    )
    async def merchant(self, info: Info, id: IdArg) -> Merchant | None:
        row = _found(await catalog.merchant(info.context, id))
        return Merchant.from_row(row)

    @resolver_field(description=SNAPSHOT_DESCRIPTION)
    async def snapshot(self, info: Info) -> Snapshot:
        return await Snapshot.of_request(info)

    @resolver_field(description=METRIC_DEFINITIONS_DESCRIPTION)
    def metric_definitions(self) -> list[MetricDefinition]:
        return MetricDefinition.all()
