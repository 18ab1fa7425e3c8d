"""The field extension that enforces the matrix on one schema coordinate.

:func:`gateway.authz.install.install_matrix` gives every field of every checked type its own
:class:`Authorize`, built from the matrix entry of its coordinate (``Type.field``): the check
keys on the coordinate, never on an alias, so aliases and fragments change nothing.

Before the resolver runs: no principal -> ``UNAUTHENTICATED``; none of the caller's roles that
apply to the parent entity (its scope, see :meth:`Principal.roles_on`) may read the field ->
``FORBIDDEN`` naming the roles that would be allowed; the same for a guarded argument that is
passed. After it ran: a returned entity (or a node of a returned page) outside the caller's
scope -> ``NOT_FOUND``, so walking the graph (mini program -> deployment -> target app ->
workspace) never leaves the scope.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types import Info

from gateway.authz.principal import Principal
from gateway.domain import Entity
from gateway.errors import ForbiddenError, NotFoundError, UnauthenticatedError
from gateway.roles import Role


def effective_roles(principal: Principal, source: object) -> frozenset[Role]:
    """The caller's roles that apply to a field of ``source`` (all roles at the root)."""
    if isinstance(source, Entity):
        return principal.roles_on(source.ref())
    return principal.roles


class Caller(Protocol):
    """The execution context access control reads (``gateway.context.Context`` is one)."""

    @property
    def principal(self) -> Principal | None:
        """The authenticated caller, or None."""
        ...


def _principal(info: Info[Caller, Any]) -> Principal:
    principal = info.context.principal
    if principal is None:
        raise UnauthenticatedError("authentication required: send a bearer token or an API key")
    return principal


def forbidden(coordinate: str, roles: frozenset[Role]) -> ForbiddenError:
    """The ``FORBIDDEN`` error of ``coordinate``, naming the roles that may read it."""
    allowed = [role.value for role in Role if role in roles]  # in declaration order
    return ForbiddenError(
        f"your roles may not read {coordinate}; allowed: {', '.join(allowed) or 'nobody'}",
        extensions={"coordinate": coordinate, "allowedRoles": allowed},
    )


def check_visible(principal: Principal, result: object) -> None:
    """Raise ``NOT_FOUND`` when ``result`` is, or contains, an entity outside the scope.

    ``result`` may be an entity, a list of entities or a page with ``nodes``.
    """
    items: object = getattr(result, "nodes", result)
    for item in items if isinstance(items, list) else (items,):
        if isinstance(item, Entity) and not principal.roles_on(item.ref()):
            raise NotFoundError("not found")


class Authorize(FieldExtension):
    """Checks one coordinate (see the module docstring).

    Args:
        coordinate: ``Type.field``.
        roles: Roles that may read the field.
        arguments: Python argument name -> (argument coordinate, roles that may pass it).
    """

    def __init__(
        self,
        coordinate: str,
        roles: frozenset[Role],
        arguments: Mapping[str, tuple[str, frozenset[Role]]] | None = None,
    ) -> None:
        self.coordinate = coordinate
        self.roles = roles
        self.arguments = dict(arguments or {})

    def _before(self, source: object, info: Info[Caller, Any], kwargs: dict[str, Any]) -> Principal:
        principal = _principal(info)
        mine = effective_roles(principal, source)
        if not mine & self.roles:
            raise forbidden(self.coordinate, self.roles)
        for name, (coordinate, roles) in self.arguments.items():
            value = kwargs.get(name)
            if value is not None and value is not strawberry.UNSET and not mine & roles:
                raise forbidden(coordinate, roles)
        return principal

    def resolve(
        self, next_: Callable[..., Any], source: Any, info: Info[Caller, Any], **kwargs: Any
    ) -> Any:
        """Check, resolve synchronously, check the result's scope."""
        principal = self._before(source, info, kwargs)
        result = next_(source, info, **kwargs)
        check_visible(principal, result)
        return result

    async def resolve_async(
        self,
        next_: Callable[..., Awaitable[Any]],
        source: Any,
        info: Info[Caller, Any],
        **kwargs: Any,
    ) -> Any:
        """Check, resolve, check the result's scope."""
        principal = self._before(source, info, kwargs)
        result = await next_(source, info, **kwargs)
        check_visible(principal, result)
        return result
