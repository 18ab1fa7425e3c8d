"""``gateway export-schema`` prints the GraphQL SDL (what ``schema.graphql`` holds);
``gateway matrix`` prints the role matrix in force, checked against the schema;
``gateway manifest`` prints a trusted-documents manifest of ``.graphql`` files.

Example:
    $ gateway export-schema > schema.graphql
    $ gateway matrix > matrix.yaml   # edit, then GATEWAY_ROLE_MATRIX_FILE=matrix.yaml
    $ gateway manifest queries/*.graphql > trusted.json   # GATEWAY_TRUSTED_DOCUMENTS_FILE
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

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


def manifest(
    files: Annotated[list[Path], typer.Argument(help="`.graphql` files, one document each.")],
) -> None:
    """Print a trusted-documents manifest (`{sha256: document}` JSON) of `.graphql` files, each
    file one document sent verbatim by its client (`GATEWAY_TRUSTED_DOCUMENTS_FILE`).

    Exit status 2 naming the file when one cannot be read or does not parse.
    """
    import orjson

    from gateway.web.trusted import ManifestError, build_manifest, parse_manifest

    built: dict[str, str] = {}
    try:
        for path in files:  # checked one by one: an error names its file
            built |= parse_manifest(build_manifest([path.read_text(encoding="utf-8")]), str(path))
    except (OSError, UnicodeDecodeError, ManifestError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    sys.stdout.write(orjson.dumps(built, option=orjson.OPT_INDENT_2).decode() + "\n")


def register(app: typer.Typer) -> None:
    """Add ``export-schema``, ``matrix`` and ``manifest`` to the CLI."""
    app.command("export-schema")(export_schema)
    app.command("matrix")(matrix)
    app.command("manifest")(manifest)
