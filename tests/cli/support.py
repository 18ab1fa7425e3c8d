"""A Typer app with only some of the ``gateway`` commands, for the CLI tests."""

from __future__ import annotations

from collections.abc import Callable

import typer


def commands(*registers: Callable[[typer.Typer], None]) -> typer.Typer:
    """A Typer app with the commands each ``register`` adds (kept sub-commands by a root)."""
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root (keeps the commands sub-commands)."""

    for register in registers:
        register(app)
    return app
