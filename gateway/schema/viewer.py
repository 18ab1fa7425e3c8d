"""``Viewer``: who the caller is and what it may read (``Query.viewer``).

A front end reads ``viewer { grants { role workspaceId merchantId } readableFields }`` once
and hides what the caller cannot show, instead of rendering FORBIDDEN errors.
"""

from __future__ import annotations

import enum

import strawberry

from gateway.authz.directive import Role  # the GraphQL `Role` enum is registered there
from gateway.authz.principal import Principal
from gateway.roles import Grant
from gateway.schema.executable import GatewaySchema
from gateway.schema.fields import Info, resolver_field


@strawberry.enum(description="How the caller authenticated.")
class CredentialKind(enum.Enum):
    """The credential of the request."""

    JWT = strawberry.enum_value("jwt", description="`Authorization: Bearer <JWT>`.")
    API_KEY = strawberry.enum_value("api_key", description="`X-API-Key: <key>`.")


def _readable(info: Info, grants: tuple[Grant, ...]) -> list[str]:
    schema = info.schema
    if not isinstance(schema, GatewaySchema):  # a bare strawberry schema enforces no matrix
        return []
    return schema.authz.readable(grant.role for grant in grants)


@strawberry.type(description="One grant of the caller: a role and the scope it applies to.")
class ViewerGrant:
    """A grant as the caller holds it."""

    role: Role = strawberry.field(description="The role.")
    workspace_id: strawberry.ID | None = strawberry.field(
        description="The workspace of a super-app team role; null for other roles."
    )
    merchant_id: strawberry.ID | None = strawberry.field(
        description="The merchant of a mini-program team role; null for other roles."
    )
    grant: strawberry.Private[Grant]

    @resolver_field(
        description="Schema coordinates (`Type.field`) this grant's role may read, within its "
        "scope, sorted. Value types (`Metric.value`, connections) are not listed: they are "
        "readable wherever the field returning them is."
    )
    def readable_fields(self, info: Info) -> list[str]:
        return _readable(info, (self.grant,))


@strawberry.type(description="The authenticated caller.")
class Viewer:
    """The request's principal."""

    subject: str = strawberry.field(
        description="Who is calling: the token's `sub`, or `apikey:<name>` for an API key."
    )
    authenticated_by: CredentialKind = strawberry.field(description="The credential used.")
    grants: list[ViewerGrant] = strawberry.field(description="The caller's grants.")
    principal: strawberry.Private[Principal]

    @classmethod
    def of(cls, principal: Principal) -> Viewer:
        """The viewer of ``principal``."""
        return cls(
            subject=principal.subject,
            authenticated_by=CredentialKind(principal.via),
            grants=[
                ViewerGrant(
                    role=g.role,
                    workspace_id=strawberry.ID(g.workspace_id) if g.workspace_id else None,
                    merchant_id=strawberry.ID(g.merchant_id) if g.merchant_id else None,
                    grant=g,
                )
                for g in principal.grants
            ],
            principal=principal,
        )

    @resolver_field(
        description="Schema coordinates (`Type.field`) at least one of the caller's grants may "
        "read, sorted (see `ViewerGrant.readableFields` for each grant's)."
    )
    def readable_fields(self, info: Info) -> list[str]:
        return _readable(info, self.principal.grants)
