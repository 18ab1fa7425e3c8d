"""Placeholder until its owner lands the real command module (replaced in this change set)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Registers nothing yet."""
    del app
