"""Helpers of the access tests: principals per role, running a query, reading errors by path.

Expectations about scopes are restated here from SPEC §6 (not computed with the code under
test): platform roles see everything, super-app roles their workspace, mini-program roles their
merchant's mini programs (and the merchant), INGESTER nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from graphql import GraphQLError
from strawberry.types import ExecutionResult

from gateway.authz.principal import Principal
from gateway.roles import Family, Grant, Role

Path = tuple[str | int, ...]

HOME_WORKSPACE = "ws-1"
HOME_MERCHANT = "m-1"


@dataclass(frozen=True)
class Where:
    """Where an entity lives (restated, not :class:`~gateway.domain.EntityRef`)."""

    workspace: str
    merchant: str | None = None


def family(role: Role) -> Family:
    """The role's family, from its name (SPEC §6's grouping, restated)."""
    if role in (Role.SUPER_ADMIN, Role.PLATFORM_ADMIN):
        return Family.PLATFORM
    if role is Role.INGESTER:
        return Family.SERVICE
    return Family.MINI_PROGRAM if role.value.startswith("MINI_PROGRAM_") else Family.SUPERAPP


def grant_of(role: Role, workspace: str = HOME_WORKSPACE, merchant: str = HOME_MERCHANT) -> Grant:
    """A grant of ``role`` scoped to ``workspace`` or ``merchant`` as its family needs."""
    kind = family(role)
    if kind is Family.SUPERAPP:
        return Grant(role, workspace_id=workspace)
    if kind is Family.MINI_PROGRAM:
        return Grant(role, merchant_id=merchant)
    return Grant(role)


def principal_of(
    role: Role, workspace: str = HOME_WORKSPACE, merchant: str = HOME_MERCHANT
) -> Principal:
    """A one-grant principal of ``role`` (see :func:`grant_of`)."""
    return Principal(f"access-{role.value.lower()}", (grant_of(role, workspace, merchant),))


def sees(
    role: Role, where: Where, workspace: str = HOME_WORKSPACE, merchant: str = HOME_MERCHANT
) -> bool:
    """Whether ``role`` granted on ``workspace``/``merchant`` sees an entity at ``where``."""
    kind = family(role)
    if kind is Family.PLATFORM:
        return True
    if kind is Family.SUPERAPP:
        return where.workspace == workspace
    if kind is Family.MINI_PROGRAM:
        return where.merchant == merchant
    return False


def errors_by_path(result: ExecutionResult) -> dict[Path, GraphQLError]:
    """The result's errors keyed by path (two errors on one path fail the test)."""
    found: dict[Path, GraphQLError] = {}
    for error in result.errors or ():
        assert error.path is not None, f"an error without path: {error.message}"
        path = tuple(error.path)
        assert path not in found, f"two errors at {path}: {found[path].message}, {error.message}"
        found[path] = error
    return found


def value_at(data: object, path: Sequence[str | int]) -> object:
    """The value at ``path`` of ``data`` (None when an ancestor is null)."""
    value = data
    for key in path:
        if value is None:
            return None
        value = value[key]  # type: ignore[index]
    return value


def code(error: GraphQLError) -> str:
    """The error's ``extensions.code``."""
    return str((error.extensions or {}).get("code"))


def assert_forbidden(error: GraphQLError | None, coordinate: str, roles: frozenset[Role]) -> None:
    """``error`` is the FORBIDDEN of ``coordinate``, naming exactly ``roles``."""
    assert error is not None, f"expected FORBIDDEN on {coordinate}, got no error"
    assert code(error) == "FORBIDDEN", (coordinate, error.message, error.extensions)
    assert error.extensions is not None
    assert error.extensions["coordinate"] == coordinate
    assert error.extensions["allowedRoles"] == [
        r.value for r in Role if r in roles
    ]  # declaration order


def assert_not_found(error: GraphQLError | None, where: str) -> None:
    """``error`` is a NOT_FOUND (the entity's existence is not revealed)."""
    assert error is not None, f"expected NOT_FOUND at {where}, got no error"
    assert code(error) == "NOT_FOUND", (where, error.message, error.extensions)
    assert error.message == "not found"
    assert set(error.extensions or {}) == {"code"}
