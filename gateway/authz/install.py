"""Put a :class:`~gateway.authz.matrix.RoleMatrix` on the schema's types before it is built.

For every object type reachable from the root (found by building a bare schema once):

* a type the matrix marks inherited (value types: ``Metric``, connections, ...) is left alone;
* a type with entries gets, on each field, a private copy of the field carrying an
  :class:`~gateway.authz.extension.Authorize` for that coordinate and, when the field is
  restricted beyond the catalog, the ``@requiresRole`` directive (arguments likewise);
* a type the matrix does not cover at all, or an entry naming a type, field or argument the
  schema lacks, stops the build with :class:`~gateway.authz.matrix.MatrixError`.

Fields are copied per type because strawberry shares a base class's field objects between its
subclasses (``Workspace.activeUsers`` and ``MiniProgram.activeUsers`` are one object until
then) and their roles differ. The schema built afterwards holds the copies, so two schemas
built with different matrices (tests) keep their own checks and printed directives.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.schema.name_converter import NameConverter
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField
from strawberry.types.private import is_private

from gateway.authz.directive import RequiresRole
from gateway.authz.extension import Authorize
from gateway.authz.matrix import GROUP_ROLES, Access, MatrixError, RoleMatrix
from gateway.roles import Role


@dataclass(frozen=True)
class Installed:
    """What the built schema enforces: the matrix and every checked coordinate's roles."""

    matrix: RoleMatrix
    coordinates: dict[str, frozenset[Role]]
    """``Type.field`` -> roles, for every field of every checked type (viewer lists these)."""

    def readable(self, roles: Iterable[Role]) -> list[str]:
        """The coordinates any of ``roles`` may read, sorted."""
        mine = frozenset(roles)
        return sorted(c for c, allowed in self.coordinates.items() if allowed & mine)


def _object_definitions(
    schema: strawberry.Schema,
) -> list[tuple[str, StrawberryObjectDefinition]]:
    """(GraphQL name, definition) of every object type of ``schema``."""
    found = []
    for name, concrete in schema.schema_converter.type_map.items():
        definition = concrete.definition
        if isinstance(definition, StrawberryObjectDefinition) and not definition.is_input:
            found.append((name, definition))
    return found


_ROLE_ORDER = list(Role)


def _printed(roles: frozenset[Role]) -> list[object]:
    # Catalog-wide (or wider) access is the unmarked default the directive's description names.
    if roles >= GROUP_ROLES[Access.CATALOG]:
        return []
    return [RequiresRole(roles=sorted(roles, key=_ROLE_ORDER.index))]


def _guarded_copy(
    type_name: str,
    field: StrawberryField,
    matrix: RoleMatrix,
    installed: Installed,
    names: NameConverter,
) -> StrawberryField:
    coordinate = f"{type_name}.{names.get_graphql_name(field)}"
    roles = matrix.roles(coordinate)
    guarded = copy.copy(field)
    guarded.directives = [d for d in field.directives if not isinstance(d, RequiresRole)]
    guarded.directives.extend(_printed(roles))
    arguments: dict[str, tuple[str, frozenset[Role]]] = {}
    copied_arguments = []
    for argument in field.arguments:
        arg_coordinate = f"{coordinate}({names.get_graphql_name(argument)}:)"
        if arg_coordinate in matrix.fields:
            arg_roles = matrix.fields[arg_coordinate]
            arguments[argument.python_name] = (arg_coordinate, arg_roles)
            argument = copy.copy(argument)
            kept = [d for d in argument.directives if not isinstance(d, RequiresRole)]
            argument.directives = (*kept, *_printed(arg_roles))
        copied_arguments.append(argument)
    guarded.arguments = copied_arguments
    guarded.extensions = [e for e in field.extensions if not isinstance(e, Authorize)]
    guarded.extensions.append(Authorize(coordinate, roles, arguments))
    installed.coordinates[coordinate] = roles
    return guarded


def _check_entries(matrix: RoleMatrix, schema: strawberry.Schema) -> None:
    """Every entry must name a type, field and argument of ``schema``."""
    graphql = schema._schema
    known_types = {name for name in graphql.type_map if not name.startswith("__")}
    for type_name in (*matrix.inherited, *matrix.wildcard):
        if type_name not in known_types:
            raise MatrixError(f"the role matrix names unknown type {type_name!r}")
    for coordinate in matrix.fields:
        type_name, _, rest = coordinate.partition(".")
        field_name, _, argument = rest.partition("(")
        fields: dict[str, Any] = getattr(graphql.type_map.get(type_name), "fields", {})
        if field_name not in fields:
            raise MatrixError(f"the role matrix names unknown field {coordinate!r}")
        if argument and argument.rstrip(":)") not in fields[field_name].args:
            raise MatrixError(f"the role matrix names unknown argument {coordinate!r}")


def install_matrix(bare: strawberry.Schema, matrix: RoleMatrix) -> Installed:
    """Give the types of ``bare`` (a schema built without checks) the checks of ``matrix``.

    Build the real schema from the same root types afterwards.

    Raises:
        MatrixError: an entry names something ``bare`` lacks, or a type has no entry.
    """
    _check_entries(matrix, bare)
    installed = Installed(matrix, {})
    names = bare.config.name_converter
    for name, definition in _object_definitions(bare):
        if name.startswith("__") or name in matrix.inherited:
            continue
        if definition.is_graphql_generic or definition.specialized_type_var_map:
            raise MatrixError(f"type {name!r} can only be inherited in the role matrix")
        # `strawberry.Private` attributes declared with a string annotation stay in the
        # definition's fields (the converter drops them): they are no schema coordinate.
        public = [field for field in definition.fields if not is_private(field.type)]
        if not any(matrix.covers(name, names.get_graphql_name(f)) for f in public):
            raise MatrixError(f"the role matrix has no entry for type {name!r}")
        definition.fields = [
            field
            if is_private(field.type)
            else _guarded_copy(name, field, matrix, installed, names)
            for field in definition.fields
        ]
    return installed
