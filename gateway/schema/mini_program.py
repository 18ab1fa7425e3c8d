"""``MiniProgram``: a mini program; scoped to a target app when reached through one."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain import EntityRef, Filters
from gateway.limits.pages import DEFAULT_FIRST
from gateway.loaders.catalog_rows import MiniProgramRow
from gateway.metrics.cells import admits
from gateway.resolvers import catalog
from gateway.schema.enums import DeploymentStatus, MiniProgramType
from gateway.schema.fields import Info, resolver_field
from gateway.schema.identified import Identified
from gateway.schema.pages import PageReportField
from gateway.schema.pagination import After, Connection, First
from gateway.schema.retention import Audience

if TYPE_CHECKING:
    from gateway.schema.deployment import Deployment
    from gateway.schema.merchant import Merchant
    from gateway.schema.workspace import Workspace


@strawberry.type(
    description="A mini program of a workspace. When reached through a target app "
    "(`TargetApp.miniPrograms`, `TargetApp.miniProgram`, `Deployment.miniProgram`) it is "
    "scoped to that app and `status`/`deployment` answer for it."
)
class MiniProgram(Identified, Audience, PageReportField):
    """A mini program built from its catalog row, with the app it was reached through."""

    type: MiniProgramType = strawberry.field(description="Mini program or mini game.")
    category: str = strawberry.field(description="Category slug, e.g. `food_beverage`.")
    source: str = strawberry.field(
        description="Where the mini program comes from (slug, e.g. `wallet`, `merchant`, "
        "`alipay_plus`)."
    )
    created_at: dt.datetime = strawberry.field(
        description="When the mini program was created (UTC)."
    )
    workspace_id: strawberry.Private[str]
    merchant_id: strawberry.Private[str | None]
    via_target_app_id: strawberry.Private[str | None] = None

    @classmethod
    def from_row(cls, row: MiniProgramRow, *, via: str | None = None) -> MiniProgram:
        """The GraphQL object of a loader row, scoped to target app ``via`` when given."""
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            type=row.type,
            category=row.category,
            source=row.source,
            created_at=row.created_at,
            workspace_id=row.workspace_id,
            merchant_id=row.merchant_id,
            via_target_app_id=via,
        )

    def ref(self) -> EntityRef:
        """The mini program, inside the app it was reached through (if any)."""
        return EntityRef.mini_program(
            self.id, self.workspace_id, merchant_id=self.merchant_id, via=self.via_target_app_id
        )

    def admits(self, filters: Filters) -> bool:
        """Event metrics: False when ``filters`` exclude its type or category."""
        return admits(filters, self.type, self.category)

    @resolver_field(
        description="Current status (real time) in the target app this mini program was "
        "reached through; null when it was not reached through a target app."
    )
    async def status(self, info: Info) -> DeploymentStatus | None:
        if self.via_target_app_id is None:
            return None
        history = await catalog.deployment_history(info.context, self.via_target_app_id, self.id)
        return history[-1].status if history else None

    @resolver_field(
        description="The deployment in the target app this mini program was reached through; "
        "null when it was not reached through a target app."
    )
    async def deployment(
        self, info: Info
    ) -> Annotated[Deployment, strawberry.lazy("gateway.schema.deployment")] | None:
        from gateway.schema.deployment import Deployment

        if self.via_target_app_id is None:
            return None
        history = await catalog.deployment_history(info.context, self.via_target_app_id, self.id)
        return Deployment.maybe(self.via_target_app_id, history, self.ref())

    @resolver_field(description="The merchant owning the mini program; null when it has none.")
    async def merchant(
        self, info: Info
    ) -> Annotated[Merchant, strawberry.lazy("gateway.schema.merchant")] | None:
        from gateway.schema.merchant import Merchant

        if self.merchant_id is None:
            return None
        row = await catalog.merchant(info.context, self.merchant_id)
        return Merchant.from_row(row) if row is not None else None

    @resolver_field(description="The workspace the mini program belongs to.")
    async def workspace(
        self, info: Info
    ) -> Annotated[Workspace, strawberry.lazy("gateway.schema.workspace")] | None:
        from gateway.schema.workspace import Workspace

        row = await catalog.workspace(info.context, self.workspace_id)
        if row is None:  # the foreign key makes this unreachable
            raise LookupError(f"workspace {self.workspace_id} of mini program {self.id} missing")
        return Workspace.from_row(row)

    @resolver_field(
        description="Every target app the mini program is associated with (one deployment per "
        "app, with its status history), ordered by target app id."
    )
    async def deployments(
        self, info: Info, first: First = DEFAULT_FIRST, after: After = strawberry.UNSET
    ) -> Connection[Annotated[Deployment, strawberry.lazy("gateway.schema.deployment")]]:
        from gateway.schema.deployment import Deployment

        page = await catalog.deployments_of_mini_program(info.context, self.id, first, after)
        return Connection.build(
            page,
            lambda item: Deployment.build(item[0], item[1], self.ref()),
            lambda item: item[0],
            after=after,
        )
