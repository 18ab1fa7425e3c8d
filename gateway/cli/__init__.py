"""The ``gateway`` command. Each sub-command lives in its own module and registers itself."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="gateway",
    help="Mini-program analytics gateway: GraphQL over Workspace -> TargetApp -> MiniProgram.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    # Docstrings are wrapped at 100 columns in the source; markdown mode reflows paragraphs.
    rich_markup_mode="markdown",
)


@app.callback()
def _root() -> None:
    """Mini-program analytics gateway: GraphQL over Workspace -> TargetApp -> MiniProgram."""


_COMMAND_MODULES = ("db", "ingest", "generate", "serve", "refresh", "status", "schema", "auth")
"""Modules of ``gateway.cli`` that define a ``register(app)`` function, in help order."""

for _name in _COMMAND_MODULES:
    importlib.import_module(f"gateway.cli.{_name}").register(app)


def main() -> None:
    """Console-script entry point."""
    app()
