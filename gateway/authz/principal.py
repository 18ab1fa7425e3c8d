"""Who is calling: roles, grants and the principal (SPEC §6).

A principal holds grants ``{role, workspaceId?, merchantId?}``. Platform roles need no scope;
super-app team roles are scoped to one workspace, mini-program team roles to one merchant.
:meth:`Principal.roles_on` answers which of the caller's roles apply to one catalog entity,
which is what every field check and every scope check asks.

Example:
    >>> p = Principal("alice", (Grant(Role.SUPERAPP_OPERATOR, workspace_id="ws_1"),))
    >>> p.roles_on(EntityScope(workspace_id="ws_1"))
    frozenset({<Role.SUPERAPP_OPERATOR: 'SUPERAPP_OPERATOR'>})
    >>> p.roles_on(EntityScope(workspace_id="ws_2"))
    frozenset()
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from gateway.domain import ID_RULE, is_id
from gateway.encoding import encode_text


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

    def covers(self, scope: EntityScope) -> bool:
        """True when this grant's scope includes an entity with ``scope``."""
        family = FAMILY[self.role]
        if family is Family.PLATFORM:
            return True
        if family is Family.SUPERAPP:
            return scope.workspace_id is not None and scope.workspace_id == self.workspace_id
        if family is Family.MINI_PROGRAM:
            return scope.merchant_id is not None and scope.merchant_id == self.merchant_id
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


@dataclass(frozen=True, slots=True)
class EntityScope:
    """Where a catalog entity lives: its workspace and, for mini programs and merchants, its
    merchant. A workspace's scope is its own id."""

    workspace_id: str | None = None
    merchant_id: str | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a subject (token ``sub`` or API key name) and its grants."""

    subject: str
    grants: tuple[Grant, ...]
    via: str = "jwt"
    """How the caller authenticated: ``jwt`` or ``api_key``."""
    roles: frozenset[Role] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "grants", tuple(sorted(set(self.grants))))
        object.__setattr__(self, "roles", frozenset(grant.role for grant in self.grants))

    def roles_on(self, scope: EntityScope) -> frozenset[Role]:
        """The caller's roles that apply to an entity with ``scope`` (empty: out of scope)."""
        return frozenset(grant.role for grant in self.grants if grant.covers(scope))

    @property
    def workspace_ids(self) -> frozenset[str] | None:
        """Workspaces the caller may list: None for all (a platform role), else those of its
        super-app grants (mini-program roles see no workspace)."""
        if any(FAMILY[grant.role] is Family.PLATFORM for grant in self.grants):
            return None
        return frozenset(g.workspace_id for g in self.grants if g.workspace_id is not None)

    @property
    def scope_key(self) -> str:
        """A stable text naming the effective grants (cache keys include it): a JSON array of
        ``[role, workspaceId, merchantId]``, injective whatever characters the ids hold."""
        grants = ((g.role.value, g.workspace_id, g.merchant_id) for g in self.grants)
        return encode_text(*grants)
