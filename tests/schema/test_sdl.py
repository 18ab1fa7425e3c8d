"""The checked-in ``schema.graphql``, ``gateway export-schema`` and descriptions everywhere."""

from __future__ import annotations

from pathlib import Path

import graphql
from typer.testing import CliRunner

from gateway.cli import app
from gateway.schema import print_sdl

SCHEMA_FILE = Path(__file__).parents[2] / "schema.graphql"


def test_checked_in_schema_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == print_sdl(), (
        "schema.graphql is stale; regenerate it with: gateway export-schema > schema.graphql"
    )


def test_export_schema_prints_the_sdl() -> None:
    result = CliRunner().invoke(app, ["export-schema"])
    assert result.exit_code == 0, result.output
    assert result.stdout == print_sdl()
    assert result.stdout.endswith("}\n")


def _missing_descriptions(schema: graphql.GraphQLSchema) -> list[str]:
    missing: list[str] = []
    for name, type_ in schema.type_map.items():
        if name.startswith("__"):
            continue
        if not type_.description:
            missing.append(name)
        if isinstance(type_, graphql.GraphQLEnumType):
            missing += [f"{name}.{v}" for v, val in type_.values.items() if not val.description]
        if isinstance(type_, graphql.GraphQLInputObjectType):
            missing += [f"{name}.{f}" for f, fld in type_.fields.items() if not fld.description]
        if isinstance(type_, graphql.GraphQLObjectType | graphql.GraphQLInterfaceType):
            for field_name, field in type_.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                missing += [
                    f"{name}.{field_name}({arg})"
                    for arg, definition in field.args.items()
                    if not definition.description
                ]
    for directive in schema.directives:
        if not directive.description:
            missing.append(f"@{directive.name}")
        missing += [
            f"@{directive.name}({a})" for a, d in directive.args.items() if not d.description
        ]
    return missing


def test_every_schema_element_has_a_description() -> None:
    # Built from the printed SDL: what partner tools see through introspection.
    assert _missing_descriptions(graphql.build_schema(print_sdl())) == []


def test_the_walker_catches_a_missing_description() -> None:
    bare = graphql.build_schema('"""Root."""\ntype Query { """Doc."""\nf(x: Int): Int g: Int }')
    assert _missing_descriptions(bare) == ["Query.f(x)", "Query.g"]
