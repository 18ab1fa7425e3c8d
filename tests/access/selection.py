"""Build, from the GraphQL schema, one selection that reads every field of a type by alias.

Each field ``f`` becomes ``f_<f>: f(<required arguments>)``, followed by ``{ __typename }``
when it returns an object; each argument the matrix guards (``Type.field(arg:)``) adds
``a_<f>_<arg>: f(<required arguments>, arg: <sample>)``. A required argument without a sample
here fails loudly: add one (by type, or by argument name) rather than skip the field.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    get_named_type,
)

from gateway.authz.matrix import RoleMatrix

TYPE_SAMPLES: dict[str, str] = {
    "TimeRangeInput": "{preset: LAST_7_DAYS}",
    "TargetAppOrder": "{field: NAME}",
    "DateTime": '"2024-03-05T00:00:00Z"',
}
"""Literal values of argument types, by the type's name."""

ARGUMENT_SAMPLES: dict[str, str] = {
    "Query.workspace(id:)": '"ws-1"',
    "Query.targetApp(id:)": '"app-1"',
    "Query.miniProgram(id:)": '"mp-1"',
    "Query.merchant(id:)": '"m-1"',
    "TargetApp.miniProgram(id:)": '"mp-1"',
    "from": '"2024-02"',
    "to": '"2024-03"',
}
"""Literal values by argument coordinate or, failing that, by argument name."""


@dataclass(frozen=True)
class Cell:
    """One aliased selection: the alias, the coordinate it reads and the one its check names."""

    alias: str
    field: str
    """``Type.field``."""
    checked: str
    """The coordinate whose roles decide: the field's, or a guarded argument's."""
    returns: str
    """The name of the field's (unwrapped) return type."""
    nullable: bool
    """Whether an error here nulls only this field (else it nulls the parent object too)."""
    text: str
    """The aliased selection."""


def _sample(coordinate: str, name: str, argument: GraphQLArgument) -> str:
    for key in (f"{coordinate}({name}:)", name, get_named_type(argument.type).name):
        if key in ARGUMENT_SAMPLES:
            return ARGUMENT_SAMPLES[key]
        if key in TYPE_SAMPLES:
            return TYPE_SAMPLES[key]
    raise KeyError(f"no sample value for argument {coordinate}({name}:); add one to selection.py")


def _required(field: GraphQLField) -> dict[str, GraphQLArgument]:
    return {
        name: arg
        for name, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
    }


def _render(alias: str, name: str, arguments: dict[str, str], field: GraphQLField) -> str:
    args = ", ".join(f"{k}: {v}" for k, v in arguments.items())
    call = f"{alias}: {name}" + (f"({args})" if args else "")
    nested = isinstance(get_named_type(field.type), GraphQLObjectType)
    return call + (" { __typename }" if nested else "")


def cells(schema: GraphQLSchema, type_name: str, matrix: RoleMatrix) -> list[Cell]:
    """Every field (and guarded argument) of ``type_name`` as cells."""
    object_type = schema.type_map[type_name]
    assert isinstance(object_type, GraphQLObjectType)
    found: list[Cell] = []
    for name, field in object_type.fields.items():
        coordinate = f"{type_name}.{name}"
        base = {k: _sample(coordinate, k, a) for k, a in _required(field).items()}
        returns = get_named_type(field.type).name
        nullable = not isinstance(field.type, GraphQLNonNull)
        text = _render(f"f_{name}", name, base, field)
        found.append(Cell(f"f_{name}", coordinate, coordinate, returns, nullable, text))
        for arg_name, argument in field.args.items():
            guarded = f"{coordinate}({arg_name}:)"
            if guarded not in matrix.fields:
                continue
            alias = f"a_{name}_{arg_name}"
            arguments = {**base, arg_name: _sample(coordinate, arg_name, argument)}
            text = _render(alias, name, arguments, field)
            found.append(Cell(alias, coordinate, guarded, returns, nullable, text))
    return found
