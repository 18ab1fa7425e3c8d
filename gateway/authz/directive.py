"""``@requiresRole`` and the ``Role`` enum, as printed in ``schema.graphql``.

The directive is data, not behaviour: :func:`gateway.authz.install.install_matrix` puts it on
each field (and argument) the matrix restricts, with the roles of that coordinate, and
:class:`gateway.authz.extension.Authorize` enforces the same entry.
"""

from __future__ import annotations

import strawberry
from strawberry.schema_directive import Location
from strawberry.types.enum import StrawberryEnumDefinition

from gateway.roles import Role

ROLE_DESCRIPTIONS: dict[Role, str] = {
    Role.SUPER_ADMIN: "Platform-wide administrator: every workspace, every field.",
    Role.PLATFORM_ADMIN: "Platform administrator: every workspace, every field.",
    Role.SUPERAPP_ADMIN: "Super-app team administrator of one workspace.",
    Role.SUPERAPP_MEMBER_MANAGER: "Manages the members of one workspace (catalog only).",
    Role.SENIOR_SUPERAPP_DEVELOPER: "Senior developer of one workspace (catalog and analytics).",
    Role.SUPERAPP_DEVELOPER: "Developer of one workspace (catalog only).",
    Role.SUPERAPP_OPERATOR: "Operator of one workspace (catalog and analytics).",
    Role.SUPERAPP_REVIEWER: "Reviews mini programs of one workspace (catalog only).",
    Role.MINI_PROGRAM_ADMIN: "Administrator of one merchant's mini programs, money included.",
    Role.MINI_PROGRAM_SENIOR_DEVELOPER: "Senior developer of one merchant's mini programs "
    "(usage, no money).",
    Role.MINI_PROGRAM_DEVELOPER: "Developer of one merchant's mini programs (usage, no money).",
    Role.MINI_PROGRAM_OPERATOR: "Operator of one merchant's mini programs, money included.",
    Role.INGESTER: "Service role: may only ingest records (`POST /v1/events`).",
}
"""What each role is for (the enum values' descriptions)."""

_wrapped = strawberry.enum(
    Role,
    name="Role",
    description="A role of a grant. Platform roles see every workspace; super-app team roles "
    "one workspace; mini-program team roles one merchant's mini programs.",
)
_definition: StrawberryEnumDefinition = _wrapped.__strawberry_definition__  # type: ignore[attr-defined]
for _value in _definition.values:
    _value.description = ROLE_DESCRIPTIONS[Role[_value.name]]


ROLES_ARGUMENT_DESCRIPTION = "The roles allowed, in the order the `Role` enum declares them."


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION, Location.ARGUMENT_DEFINITION],
    name="requiresRole",
    description="Only callers holding one of `roles` for the entity (within their scope) may "
    "read this field or pass this argument; others get null and a FORBIDDEN error. Fields "
    "without it are readable by every role except INGESTER (`viewer`: every role), within the "
    "caller's scope.",
)
class RequiresRole:
    """The printed form of one matrix entry."""

    roles: list[Role] = strawberry.field(description=ROLES_ARGUMENT_DESCRIPTION)


__all__ = ["ROLES_ARGUMENT_DESCRIPTION", "ROLE_DESCRIPTIONS", "RequiresRole", "Role"]
