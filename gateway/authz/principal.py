"""Who is calling: roles, grants and the principal (SPEC §6).

A principal holds grants ``{role, workspaceId?, merchantId?}``. Platform roles need no scope;
super-app team roles are scoped to one workspace, mini-program team roles to one merchant.
:meth:`Principal.roles_on` answers which of the caller's roles apply to one catalog entity,
which is what every field check and every scope check asks.

Example:
    >>> p = Principal("alice", (Grant(Role.SUPERAPP_OPERATOR, workspace_id="ws_1"),))
    >>> p.roles_on(EntityRef.workspace("ws_1"))
    frozenset({<Role.SUPERAPP_OPERATOR: 'SUPERAPP_OPERATOR'>})
    >>> p.roles_on(EntityRef.workspace("ws_2"))
    frozenset()
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.domain import EntityRef
from gateway.encoding import encode_text
from gateway.roles import FAMILY, Family, Grant, Role


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

    def roles_on(self, entity: EntityRef) -> frozenset[Role]:
        """The caller's roles that apply to ``entity`` (empty: out of scope)."""
        return frozenset(grant.role for grant in self.grants if grant.covers(entity))

    @property
    def workspace_ids(self) -> frozenset[str] | None:
        """Workspaces the caller may list: None for all (a platform role), else those of its
        super-app grants (mini-program roles see no workspace)."""
        if any(FAMILY[grant.role] is Family.PLATFORM for grant in self.grants):
            return None
        return frozenset(g.workspace_id for g in self.grants if g.workspace_id is not None)

    @property
    def grants_key(self) -> str:
        """A stable text naming the effective grants (cache keys include it): a JSON array of
        ``[role, workspaceId, merchantId]``, injective whatever characters the ids hold."""
        grants = ((g.role.value, g.workspace_id, g.merchant_id) for g in self.grants)
        return encode_text(*grants)
