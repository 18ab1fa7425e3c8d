"""The matrix against the schema: full coverage, no stale entry, the file format, the SDL."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import pytest
import yaml
from graphql import (
    DirectiveNode,
    EnumValueNode,
    GraphQLNonNull,
    GraphQLObjectType,
    ListValueNode,
    ObjectTypeDefinitionNode,
    parse,
)

from gateway.authz.matrix import DEFAULT_MATRIX, GROUP_ROLES, Access, MatrixError, RoleMatrix
from gateway.authz.matrix_file import dump_matrix, load_matrix, parse_matrix
from gateway.roles import Role
from gateway.schema import GatewaySchema, build_schema

CATALOG = GROUP_ROLES[Access.CATALOG]


def _object_types(schema: GatewaySchema) -> dict[str, GraphQLObjectType]:
    return {
        name: t
        for name, t in schema._schema.type_map.items()
        if isinstance(t, GraphQLObjectType) and not name.startswith("__")
    }


def test_every_field_of_every_object_type_is_covered(schema: GatewaySchema) -> None:
    uncovered = [
        f"{name}.{field}"
        for name, object_type in _object_types(schema).items()
        for field in object_type.fields
        if not DEFAULT_MATRIX.covers(name, field)
    ]
    assert uncovered == []


def test_every_entry_names_something_the_schema_has(schema: GatewaySchema) -> None:
    types = _object_types(schema)
    assert set(DEFAULT_MATRIX.inherited) | set(DEFAULT_MATRIX.wildcard) <= set(types)
    for coordinate in DEFAULT_MATRIX.fields:
        type_name, _, rest = coordinate.partition(".")
        field_name, _, argument = rest.partition("(")
        assert field_name in types[type_name].fields, coordinate
        if argument:
            assert argument.removesuffix(":)") in types[type_name].fields[field_name].args


def _with(
    fields: dict[str, frozenset[Role]] | None = None,
    inherited: frozenset[str] | None = None,
    wildcard: dict[str, frozenset[Role]] | None = None,
) -> RoleMatrix:
    return RoleMatrix(
        MappingProxyType(dict(DEFAULT_MATRIX.fields) if fields is None else fields),
        DEFAULT_MATRIX.inherited if inherited is None else inherited,
        MappingProxyType(dict(DEFAULT_MATRIX.wildcard) if wildcard is None else wildcard),
    )


ADMINS = frozenset({Role.SUPER_ADMIN})
BROKEN = {
    "stale field": (_with(fields={**DEFAULT_MATRIX.fields, "Workspace.nope": ADMINS}), "nope"),
    "stale argument": (
        _with(fields={**DEFAULT_MATRIX.fields, "Workspace.targetApps(nope:)": ADMINS}),
        "targetApps(nope:)",
    ),
    "stale type in a field": (_with(fields={**DEFAULT_MATRIX.fields, "Nope.x": ADMINS}), "Nope"),
    "stale inherited type": (_with(inherited=DEFAULT_MATRIX.inherited | {"Nope"}), "Nope"),
    "stale wildcard type": (_with(wildcard={**DEFAULT_MATRIX.wildcard, "Nope": ADMINS}), "Nope"),
    "uncovered value type": (_with(inherited=DEFAULT_MATRIX.inherited - {"Snapshot"}), "Snapshot"),
    "uncovered entity type": (
        _with(
            fields={
                c: r for c, r in DEFAULT_MATRIX.fields.items() if not c.startswith("TargetApp.")
            }
        ),
        "TargetApp",
    ),
    "uncovered wildcard type": (
        _with(wildcard={t: r for t, r in DEFAULT_MATRIX.wildcard.items() if t != "Merchant"}),
        "Merchant",
    ),
}


@pytest.mark.parametrize(("matrix", "named"), BROKEN.values(), ids=list(BROKEN))
def test_a_matrix_that_does_not_fit_the_schema_stops_the_build(
    matrix: RoleMatrix, named: str
) -> None:
    with pytest.raises(MatrixError, match=named.replace("(", r"\(").replace(")", r"\)")):
        build_schema(matrix)


def test_the_dumped_matrix_parses_back_to_the_default(tmp_path: Path) -> None:
    text = dump_matrix(DEFAULT_MATRIX)
    parsed = parse_matrix(yaml.safe_load(text))
    assert dict(parsed.fields) == dict(DEFAULT_MATRIX.fields)
    assert parsed.inherited == DEFAULT_MATRIX.inherited
    assert dict(parsed.wildcard) == dict(DEFAULT_MATRIX.wildcard)
    assert parsed.version == DEFAULT_MATRIX.version
    path = tmp_path / "matrix.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_matrix(path).version == DEFAULT_MATRIX.version


def test_an_unknown_role_in_a_file_is_named(tmp_path: Path) -> None:
    text = dump_matrix(DEFAULT_MATRIX).replace(
        "Workspace.name: [", "Workspace.name: [ROOT_OF_ALL, "
    )
    assert "ROOT_OF_ALL" in text
    path = tmp_path / "matrix.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MatrixError, match=r"Workspace\.name.*'ROOT_OF_ALL'") as raised:
        load_matrix(path)
    assert str(path) in str(raised.value)


def _printed_roles(directives: tuple[DirectiveNode, ...] | None) -> set[str] | None:
    found = [d for d in directives or () if d.name.value == "requiresRole"]
    if not found:
        return None
    assert len(found) == 1
    (argument,) = found[0].arguments or ()
    assert argument.name.value == "roles"
    assert isinstance(argument.value, ListValueNode)
    names = [v.value for v in argument.value.values if isinstance(v, EnumValueNode)]
    assert len(names) == len(set(names)) == len(argument.value.values)
    return set(names)


def _expected_directive(coordinate: str) -> set[str] | None:
    """The roles printed on ``coordinate``; None: unmarked (catalog-wide or inherited)."""
    type_name = coordinate.split(".")[0]
    guarded = "(" not in coordinate or coordinate in DEFAULT_MATRIX.fields
    if type_name in DEFAULT_MATRIX.inherited or not guarded:
        return None
    roles = DEFAULT_MATRIX.roles(coordinate)
    return None if roles >= CATALOG else {r.value for r in roles}


def test_the_sdl_prints_each_coordinates_roles(schema: GatewaySchema) -> None:
    document = parse(schema.as_str())
    seen = 0
    for definition in document.definitions:
        if not isinstance(definition, ObjectTypeDefinitionNode):
            continue
        for field in definition.fields or ():
            coordinate = f"{definition.name.value}.{field.name.value}"
            assert _printed_roles(field.directives) == _expected_directive(coordinate), coordinate
            seen += 1
            for argument in field.arguments or ():
                arg_coordinate = f"{coordinate}({argument.name.value}:)"
                printed = _printed_roles(argument.directives)
                assert printed == _expected_directive(arg_coordinate), arg_coordinate
    assert seen == sum(len(t.fields) for t in _object_types(schema).values())


def test_restricted_fields_are_nullable(schema: GatewaySchema) -> None:
    """SPEC §6: a guarded field answers null with FORBIDDEN and the rest still arrives; on a
    non-null field the null would wipe out the parent object instead."""
    types = _object_types(schema)
    restricted = {c for c, roles in schema.authz.coordinates.items() if not roles >= CATALOG}
    restricted |= {c.partition("(")[0] for c in DEFAULT_MATRIX.fields if "(" in c}
    non_null = sorted(
        c
        for c in restricted
        if isinstance(types[c.split(".")[0]].fields[c.split(".")[1]].type, GraphQLNonNull)
    )
    assert non_null == []


def test_the_checked_coordinates_are_the_schema_fields(schema: GatewaySchema) -> None:
    """What ``viewer.readableFields`` lists: every field of every checked type, and nothing
    else (no Python-only ``strawberry.Private`` attribute such as ``Deployment.scope``)."""
    types = _object_types(schema)
    checked = {name for name in types if name not in DEFAULT_MATRIX.inherited}
    expected = {f"{name}.{field}" for name in checked for field in types[name].fields}
    assert set(schema.authz.coordinates) == expected
    for coordinate, roles in schema.authz.coordinates.items():
        assert roles == DEFAULT_MATRIX.roles(coordinate), coordinate
