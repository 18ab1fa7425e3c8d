"""``gateway export-schema``: print the GraphQL SDL (what ``schema.graphql`` holds).

Example:
    $ gateway export-schema > schema.graphql
"""

from __future__ import annotations

import sys

import typer


def export_schema() -> None:
    """Print the GraphQL schema (SDL, directives included) to stdout."""
    # Imported here: building the schema is not free and other commands do not need it.
    from gateway.schema import print_sdl

    sys.stdout.write(print_sdl())


def register(app: typer.Typer) -> None:
    """Add ``export-schema`` to the CLI."""
    app.command("export-schema")(export_schema)
