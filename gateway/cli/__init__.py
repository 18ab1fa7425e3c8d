"""The ``gateway`` command. Each sub-command lives in its own module and registers itself."""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from gateway.web.metrics_registry import ensure_directory

DISTRIBUTION = "miniprogram-analytics-gateway"
"""The package's name on the index (pyproject's ``[project] name``), whose version is printed."""

app = typer.Typer(
    name="gateway",
    help="Mini-program analytics gateway: GraphQL over Workspace -> TargetApp -> MiniProgram.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    # Docstrings are wrapped at 100 columns in the source; markdown mode reflows paragraphs.
    rich_markup_mode="markdown",
)


def package_version() -> str:
    """The installed version of the gateway, e.g. ``0.1.0`` (``unknown`` when not installed)."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a source tree that was never pip-installed
        return "unknown"


def _print_version(requested: bool) -> None:
    if requested:
        typer.echo(f"gateway {package_version()}")
        raise typer.Exit


@app.callback()
def _root(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the gateway's version and exit.",
        ),
    ] = False,
) -> None:
    """Mini-program analytics gateway: GraphQL over Workspace -> TargetApp -> MiniProgram."""


_COMMAND_MODULES = ("db", "ingest", "generate", "serve", "refresh", "status", "schema", "auth")
"""Modules of ``gateway.cli`` that define a ``register(app)`` function, in help order."""

# The command modules create Prometheus metrics as they are imported: with
# PROMETHEUS_MULTIPROC_DIR set, prometheus_client then opens files in that directory, and one
# that does not exist yet (a fresh tmpfs, a shared environment file) would end every command
# with a FileNotFoundError before any of them could make it.
ensure_directory()

for _name in _COMMAND_MODULES:
    importlib.import_module(f"gateway.cli.{_name}").register(app)


def main() -> None:
    """Console-script entry point."""
    app()
