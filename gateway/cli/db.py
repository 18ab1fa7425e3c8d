"""``gateway migrate``: bring the database schema up to date."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

from gateway.settings import load_settings
from gateway.store.db import create_engine
from gateway.store.migrate import current_revision, upgrade


async def _migrate(revision: str) -> tuple[str | None, str | None]:
    engine = create_engine(load_settings())
    try:
        before = await current_revision(engine)
        await upgrade(engine, revision)
        return before, await current_revision(engine)
    finally:
        await engine.dispose()


def migrate(
    revision: str = typer.Option("head", help="Alembic revision to upgrade to."),
) -> None:
    """Apply database migrations to GATEWAY_DATABASE_URL (safe to run repeatedly)."""
    before, after = asyncio.run(_migrate(revision))
    console = Console()
    if before == after:
        console.print(f"database already at revision [bold]{after}[/bold]")
    else:
        console.print(f"migrated database from {before or 'empty'} to [bold]{after}[/bold]")


def register(app: typer.Typer) -> None:
    """Add ``migrate`` to the CLI."""
    app.command("migrate")(migrate)
