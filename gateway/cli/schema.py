"""``gateway export-schema`` prints the GraphQL SDL (what ``schema.graphql`` holds);
``gateway matrix`` prints the role matrix in force, checked against the schema.

Example:
    $ gateway export-schema > schema.graphql
    $ gateway matrix > matrix.yaml   # edit, then GATEWAY_ROLE_MATRIX_FILE=matrix.yaml
"""

from __future__ import annotations

import sys

import typer


def export_schema() -> None:
    """Print the GraphQL schema (SDL, directives included) to stdout."""
    # Imported here: building the schema is not free and other commands do not need it.
    from gateway.schema import print_sdl

    sys.stdout.write(print_sdl())


def matrix() -> None:
    """Print the role matrix in force (`GATEWAY_ROLE_MATRIX_FILE`, or the default one) in the
    file format, after checking it against the schema.

    Exit status 2 with a message when the file names an unknown role, type, field or argument.
    """
    from gateway.authz.matrix import MatrixError
    from gateway.authz.matrix_file import configured_matrix, dump_matrix
    from gateway.schema import build_schema
    from gateway.settings import load_settings

    try:
        chosen = configured_matrix(load_settings().role_matrix_file)
        build_schema(chosen)
    except MatrixError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    sys.stdout.write(dump_matrix(chosen))


def register(app: typer.Typer) -> None:
    """Add ``export-schema`` and ``matrix`` to the CLI."""
    app.command("export-schema")(export_schema)
    app.command("matrix")(matrix)
