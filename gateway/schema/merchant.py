"""``Merchant``: a business owning mini programs in a workspace."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain import Entity, EntityRef
from gateway.limits.pages import DEFAULT_FIRST
from gateway.loaders.catalog_rows import MerchantRow
from gateway.resolvers import catalog
from gateway.schema.enums import MerchantType
from gateway.schema.fields import Info, resolver_field
from gateway.schema.pagination import After, Connection, First

if TYPE_CHECKING:
    from gateway.schema.mini_program import MiniProgram
    from gateway.schema.workspace import Workspace


@strawberry.type(description="A merchant: a business owning mini programs in a workspace.")
class Merchant(Entity):
    """A merchant built from its catalog row."""

    id: strawberry.ID = strawberry.field(description="Stable merchant id.")
    name: str = strawberry.field(description="Display name.")
    merchant_type: MerchantType = strawberry.field(description="How it was onboarded.")
    onboarded_at: dt.datetime | None = strawberry.field(
        description="When the merchant was onboarded (UTC); null while not onboarded."
    )
    workspace_id: strawberry.Private[str]

    def ref(self) -> EntityRef:
        """The merchant, in its workspace."""
        return EntityRef.merchant(self.id, self.workspace_id)

    @classmethod
    def from_row(cls, row: MerchantRow) -> Merchant:
        """The GraphQL object of a loader row."""
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            merchant_type=row.merchant_type,
            onboarded_at=row.onboarded_at,
            workspace_id=row.workspace_id,
        )

    @resolver_field(description="The workspace the merchant belongs to.")
    async def workspace(
        self, info: Info
    ) -> Annotated[Workspace, strawberry.lazy("gateway.schema.workspace")] | None:
        from gateway.schema.workspace import Workspace

        row = await catalog.workspace(info.context, self.workspace_id)
        if row is None:  # the foreign key makes this unreachable
            raise LookupError(f"workspace {self.workspace_id} of merchant {self.id} is missing")
        return Workspace.from_row(row)

    @resolver_field(description="The merchant's mini programs, ordered by id (not app-scoped).")
    async def mini_programs(
        self, info: Info, first: First = DEFAULT_FIRST, after: After = strawberry.UNSET
    ) -> Connection[Annotated[MiniProgram, strawberry.lazy("gateway.schema.mini_program")]]:
        from gateway.schema.mini_program import MiniProgram

        page = await catalog.mini_programs_of_merchant(info.context, self.id, first, after)
        return Connection.build(page, MiniProgram.from_row, lambda row: row.id, after=after)
