"""``gateway status``: what the store holds (raw events, snapshot, quarantine, rollups).

Example:
    $ gateway status
    $ gateway status --json | jq .rawEvents.oldestDay
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gateway.settings import load_settings
from gateway.store.db import create_engine
from gateway.store.migrate import current_revision, head_revision
from gateway.store.status import StoreStatus, store_status


async def _status() -> StoreStatus | str:
    """The status, or why it cannot be read (a database not at this version's schema)."""
    engine = create_engine(load_settings())
    try:
        revision, head = await current_revision(engine), head_revision()
        if revision != head:
            return (
                f"the database is at schema revision {revision or 'none (empty)'}, this gateway "
                f"needs {head}: run `gateway migrate`"
            )
        return await store_status(engine)
    finally:
        await engine.dispose()


def _table(status: StoreStatus) -> Table:
    raw = status.raw_events
    table = Table(show_header=False, box=None)
    days = f"{raw.oldest_day} .. {raw.newest_day}" if raw.oldest_day else "none"
    kinds = ", ".join(f"{kind} {count:,}" for kind, count in raw.by_kind.items())
    table.add_row("raw events", f"{raw.count:,} ({kinds})")
    table.add_row("raw event days", days)
    table.add_row("kept from", str(raw.kept_from or "every day (nothing dropped)"))
    taken = status.snapshot_taken_at.isoformat() if status.snapshot_taken_at else "never"
    table.add_row("snapshot", f"{status.snapshot_id or 'none'} (taken {taken})")
    table.add_row("quarantine", f"{status.quarantine_count:,} records")
    mib = status.rollup_bytes / 2**20
    table.add_row("rollups", f"{status.rollup_cells:,} cells, {mib:,.1f} MiB on disk")
    return table


def status(
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object (camelCase keys) instead of a table.")
    ] = False,
) -> None:
    """What the store of GATEWAY_DATABASE_URL holds: raw events (count, first and last day, the
    retention horizon), the latest snapshot, the quarantine and the rollups' size on disk."""
    found = asyncio.run(_status())
    if isinstance(found, str):
        Console(stderr=True).print(f"[red]{found}[/red]")
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(found.as_json()))
    else:
        Console().print(_table(found))


def register(app: typer.Typer) -> None:
    """Add ``status`` to the CLI."""
    app.command("status")(status)
