"""Roles and grants (SPEC §6): the access vocabulary, shared by access control and storage.

A grant is ``{role, workspaceId?, merchantId?}``. Platform roles need no scope; super-app team
roles are scoped to one workspace, mini-program team roles to one merchant. Plain values with no
framework imports: API keys store them (:mod:`gateway.store.apikeys`), tokens carry them and
:mod:`gateway.authz` decides with them.

Example:
    >>> grant = Grant(Role.SUPERAPP_OPERATOR, workspace_id="ws_1")
    >>> grant.covers(EntityRef.workspace("ws_1")), grant.covers(EntityRef.workspace("ws_2"))
    (True, False)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from gateway.domain import ID_RULE, EntityRef, is_id


class Role(enum.StrEnum):
    """The roles of the two seed consoles plus the ingestion service role."""

    SUPER_ADMIN = "SUPER_ADMIN"
    PLATFORM_ADMIN = "PLATFORM_ADMIN"
    SUPERAPP_ADMIN = "SUPERAPP_ADMIN"
    SUPERAPP_MEMBER_MANAGER = "SUPERAPP_MEMBER_MANAGER"
    SENIOR_SUPERAPP_DEVELOPER = "SENIOR_SUPERAPP_DEVELOPER"
    SUPERAPP_DEVELOPER = "SUPERAPP_DEVELOPER"
    SUPERAPP_OPERATOR = "SUPERAPP_OPERATOR"
    SUPERAPP_REVIEWER = "SUPERAPP_REVIEWER"
    MINI_PROGRAM_ADMIN = "MINI_PROGRAM_ADMIN"
    MINI_PROGRAM_SENIOR_DEVELOPER = "MINI_PROGRAM_SENIOR_DEVELOPER"
    MINI_PROGRAM_DEVELOPER = "MINI_PROGRAM_DEVELOPER"
    MINI_PROGRAM_OPERATOR = "MINI_PROGRAM_OPERATOR"
    INGESTER = "INGESTER"


class Family(enum.Enum):
    """How a role is scoped."""

    PLATFORM = "platform"
    """Every workspace; the grant names no workspace or merchant."""
    SUPERAPP = "superapp"
    """One workspace (``workspaceId``), its target apps, merchants and mini programs."""
    MINI_PROGRAM = "mini_program"
    """One merchant (``merchantId``) and its mini programs; nothing aggregated above them."""
    SERVICE = "service"
    """No catalog scope at all (``INGESTER`` may only ingest)."""


FAMILY: dict[Role, Family] = {
    Role.SUPER_ADMIN: Family.PLATFORM,
    Role.PLATFORM_ADMIN: Family.PLATFORM,
    Role.SUPERAPP_ADMIN: Family.SUPERAPP,
    Role.SUPERAPP_MEMBER_MANAGER: Family.SUPERAPP,
    Role.SENIOR_SUPERAPP_DEVELOPER: Family.SUPERAPP,
    Role.SUPERAPP_DEVELOPER: Family.SUPERAPP,
    Role.SUPERAPP_OPERATOR: Family.SUPERAPP,
    Role.SUPERAPP_REVIEWER: Family.SUPERAPP,
    Role.MINI_PROGRAM_ADMIN: Family.MINI_PROGRAM,
    Role.MINI_PROGRAM_SENIOR_DEVELOPER: Family.MINI_PROGRAM,
    Role.MINI_PROGRAM_DEVELOPER: Family.MINI_PROGRAM,
    Role.MINI_PROGRAM_OPERATOR: Family.MINI_PROGRAM,
    Role.INGESTER: Family.SERVICE,
}
"""The scope family of every role (a test checks every role has one)."""


class GrantError(ValueError):
    """A grant whose scope does not fit its role (e.g. a workspace role without workspace)."""


@dataclass(frozen=True, slots=True, order=True)
class Grant:
    """One role, with the workspace or merchant it is scoped to.

    Raises:
        GrantError: when the scope does not fit the role's :data:`FAMILY`.
    """

    role: Role
    workspace_id: str | None = None
    merchant_id: str | None = None

    def __post_init__(self) -> None:
        for name, value in (("workspaceId", self.workspace_id), ("merchantId", self.merchant_id)):
            if value is not None and not is_id(value):
                raise GrantError(f"{name} must be {ID_RULE}")
        family = FAMILY[self.role]
        if family is Family.SUPERAPP:
            if not self.workspace_id or self.merchant_id is not None:
                raise GrantError(f"role {self.role} needs a workspaceId and no merchantId")
        elif family is Family.MINI_PROGRAM:
            if not self.merchant_id or self.workspace_id is not None:
                raise GrantError(f"role {self.role} needs a merchantId and no workspaceId")
        elif self.workspace_id is not None or self.merchant_id is not None:
            raise GrantError(f"role {self.role} is not scoped: give no workspaceId or merchantId")

    def covers(self, entity: EntityRef) -> bool:
        """True when this grant's scope includes ``entity``."""
        family = FAMILY[self.role]
        if family is Family.PLATFORM:
            return True
        if family is Family.SUPERAPP:
            return entity.workspace_id == self.workspace_id
        if family is Family.MINI_PROGRAM:
            return entity.merchant_id is not None and entity.merchant_id == self.merchant_id
        return False

    def as_claim(self) -> dict[str, str]:
        """The grant as it appears in a token's ``grants`` claim."""
        claim = {"role": self.role.value}
        if self.workspace_id is not None:
            claim["workspaceId"] = self.workspace_id
        if self.merchant_id is not None:
            claim["merchantId"] = self.merchant_id
        return claim

    @classmethod
    def from_claim(cls, claim: object) -> Grant:
        """Parse one entry of a ``grants`` claim.

        Raises:
            GrantError: when the entry is not an object with a known role and a fitting scope.
        """
        if not isinstance(claim, dict):
            raise GrantError("each grant must be an object {role, workspaceId?, merchantId?}")
        unknown = set(claim) - {"role", "workspaceId", "merchantId"}
        if unknown:
            raise GrantError(f"unknown grant keys: {', '.join(sorted(map(str, unknown)))}")
        role, workspace, merchant = (
            claim.get("role"),
            claim.get("workspaceId"),
            claim.get("merchantId"),
        )
        if not isinstance(role, str) or role not in Role.__members__:
            raise GrantError(f"unknown role {role!r}")
        for name, value in (("workspaceId", workspace), ("merchantId", merchant)):
            if value is not None and not isinstance(value, str):
                raise GrantError(f"{name} must be a string")
        return cls(Role(role), workspace, merchant)
