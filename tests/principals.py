"""Principals for tests: a platform administrator (reads everything) and a factory."""

from __future__ import annotations

from gateway.authz.principal import Principal
from gateway.roles import Grant, Role

ADMIN = Principal("test-admin", (Grant(Role.SUPER_ADMIN),))
"""Sees every workspace and every field: what tests of the data (not of access) run as."""


def principal(role: Role, workspace: str | None = None, merchant: str | None = None) -> Principal:
    """A principal with one grant."""
    return Principal(f"test-{role.value.lower()}", (Grant(role, workspace, merchant),))
