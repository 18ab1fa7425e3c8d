"""``Deployment`` and ``DeploymentStatusChange``: a mini program in one target app over time."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain import Entity, EntityRef
from gateway.loaders.catalog_rows import StatusChange
from gateway.resolvers import catalog
from gateway.schema.enums import DeploymentStatus
from gateway.schema.fields import Info, resolver_field

if TYPE_CHECKING:
    from gateway.schema.mini_program import MiniProgram
    from gateway.schema.target_app import TargetApp


@strawberry.type(description="One record of a deployment's status history.")
class DeploymentStatusChange:
    """A status and when it took effect."""

    status: DeploymentStatus = strawberry.field(description="The status from `at` on.")
    at: dt.datetime = strawberry.field(description="When the status took effect (UTC).")


@strawberry.type(
    description="A mini program in one target app: its current status and full status history."
)
class Deployment(Entity):
    """A deployment built from its (non-empty) status history."""

    status: DeploymentStatus = strawberry.field(
        description="Current status (real time): the status of the latest history record."
    )
    status_since: dt.datetime = strawberry.field(
        description="When the current status took effect (UTC)."
    )
    associated_at: dt.datetime = strawberry.field(
        description="When the mini program was associated with the app: its first record (UTC)."
    )
    history: list[DeploymentStatusChange] = strawberry.field(
        description="Every status change, oldest first."
    )
    target_app_id: strawberry.Private[str]
    mini_program_ref: strawberry.Private[EntityRef]
    """The mini program inside the deployment's target app."""

    def ref(self) -> EntityRef:
        """Access control: a deployment is its mini program, inside its target app."""
        return self.mini_program_ref

    @classmethod
    def maybe(
        cls, target_app_id: str, history: tuple[StatusChange, ...], mini_program: EntityRef
    ) -> Deployment | None:
        """The deployment of ``mini_program`` in ``target_app_id`` from its history; None when
        the pair has no record."""
        return cls.build(target_app_id, history, mini_program) if history else None

    @classmethod
    def build(
        cls, target_app_id: str, history: tuple[StatusChange, ...], mini_program: EntityRef
    ) -> Deployment:
        """The deployment of ``mini_program`` in ``target_app_id`` from its non-empty history."""
        if not history:
            raise ValueError(f"deployment {target_app_id}/{mini_program.id} has no history")
        return cls(
            status=history[-1].status,
            status_since=history[-1].at,
            associated_at=history[0].at,
            history=[DeploymentStatusChange(status=c.status, at=c.at) for c in history],
            target_app_id=target_app_id,
            mini_program_ref=replace(mini_program, target_app_id=target_app_id),
        )

    @resolver_field(
        description="The status at instant `at`: that of the last record at or before it; "
        "null before the mini program was associated with the app."
    )
    def status_at(
        self,
        at: Annotated[
            dt.datetime,
            strawberry.argument(description="The instant (ISO-8601; no offset means UTC)."),
        ],
    ) -> DeploymentStatus | None:
        status = None
        for change in self.history:
            if change.at > at:
                break
            status = change.status
        return status

    @resolver_field(description="The target app of the deployment.")
    async def target_app(
        self, info: Info
    ) -> Annotated[TargetApp, strawberry.lazy("gateway.schema.target_app")] | None:
        from gateway.schema.target_app import TargetApp

        row = await catalog.target_app(info.context, self.target_app_id)
        if row is None:  # the foreign key makes this unreachable
            raise LookupError(f"target app {self.target_app_id} is missing")
        return TargetApp.from_row(row)

    @resolver_field(description="The mini program, scoped to this deployment's target app.")
    async def mini_program(
        self, info: Info
    ) -> Annotated[MiniProgram, strawberry.lazy("gateway.schema.mini_program")] | None:
        from gateway.schema.mini_program import MiniProgram

        row = await catalog.mini_program(info.context, self.mini_program_ref.id)
        if row is None:  # the foreign key makes this unreachable
            raise LookupError(f"mini program {self.mini_program_ref.id} is missing")
        return MiniProgram.from_row(row, via=self.target_app_id)
