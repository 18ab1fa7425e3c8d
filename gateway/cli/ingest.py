"""``gateway ingest``: load JSON Lines files (SPEC §2), list or replay the quarantine.

Example:
    $ gateway ingest catalog.jsonl events-2024-05.jsonl.gz
    $ zcat events.jsonl.gz | gateway ingest -
    $ gateway ingest --list-quarantine --limit 50
    $ gateway ingest --replay-quarantine

Exit status: 0 when every record was stored, 1 when some were quarantined (or, with
``--replay-quarantine``, remain quarantined), 2 on a usage error such as a missing file.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.settings import load_settings
from gateway.store.db import create_engine
from gateway.store.ingest import (
    IngestReport,
    Problem,
    configure_ingest,
    ingest_lines,
    list_quarantine,
    replay_quarantine,
)
from gateway.store.ingest.source import open_lines
from gateway.store.migrate import upgrade

PROGRESS_MIN_BYTES = 8 * 1024 * 1024
"""Inputs smaller than this get no progress bar (it would only flicker)."""

WHERE_WIDTH = 28
"""Characters of ``source:line`` shown by ``--list-quarantine`` (longer ones lose their start)."""

EXIT_QUARANTINED = 1
"""Every record was judged; some are in the quarantine (nothing failed)."""
EXIT_USAGE = 2
"""The command line is wrong (a missing file, options that do not go together)."""
EXIT_FAILED = 3
"""The ingest stopped: the database failed, an input could not be read, or anything else went
wrong. Chunks committed before it stay (a rerun stores nothing twice); never quarantine."""


async def _ingest_file(
    engine: AsyncEngine, name: str, console: Console, chunk: int
) -> IngestReport:
    with open_lines(name) as (lines, raw, size):
        show = size is not None and size >= PROGRESS_MIN_BYTES and console.is_terminal
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=True, disable=not show) as progress:
            task = progress.add_task(f"ingesting {name}", total=size)

            def advance(lines_read: int) -> None:
                del lines_read  # bytes measure progress better than lines
                if show and not raw.closed:
                    progress.update(task, completed=raw.tell())

            return await ingest_lines(
                engine, lines, source=name, chunk_size=chunk, on_progress=advance, pause_gc=True
            )


def _summary(reports: dict[str, IngestReport]) -> Table:
    table = Table(title="Ingest summary", show_header=False)
    total = IngestReport()
    for report in reports.values():
        total.records += report.records
        total.duplicates += report.duplicates
        total.seconds += report.seconds
        for kind, count in report.stored_by_kind.items():
            total.add_stored(kind, count)
        for reason, count in report.quarantined_by_reason.items():
            total.quarantined += count
            by_reason = total.quarantined_by_reason
            by_reason[reason] = by_reason.get(reason, 0) + count
    table.add_row("records", f"{total.records:,}")
    table.add_row("stored", f"{total.stored:,}")
    for kind, count in sorted(total.stored_by_kind.items()):
        table.add_row(f"  {kind}", f"{count:,}")
    table.add_row("duplicates skipped", f"{total.duplicates:,}")
    table.add_row("quarantined", f"{total.quarantined:,}")
    for reason, count in sorted(total.quarantined_by_reason.items()):
        table.add_row(f"  {reason}", f"{count:,}")
    table.add_row("rate", f"{total.rate:,.0f} records/s")
    return table


def _problems(problems: list[Problem], limit: int) -> Table:
    table = Table(title=f"First problems (up to {limit})")
    for column in ("where", "kind", "reason"):
        table.add_column(column, overflow="fold")
    for problem in problems[:limit]:
        table.add_row(f"{problem.source}:{problem.line}", problem.kind or "?", problem.reason)
    return table


async def _run_files(files: list[str], console: Console, show: int) -> int:
    settings = load_settings()
    configure_ingest(settings)
    engine = create_engine(settings)
    try:
        await upgrade(engine)
        reports = {
            name: await _ingest_file(engine, name, console, settings.ingest_chunk_size)
            for name in files
        }
    finally:
        await engine.dispose()
    console.print(_summary(reports))
    problems = [p for r in reports.values() for p in r.problems]
    if problems:
        console.print(_problems(problems, show))
        console.print("Fix the catalog, then run [bold]gateway ingest --replay-quarantine[/bold].")
    return EXIT_QUARANTINED if any(r.quarantined for r in reports.values()) else 0


async def _run_replay(console: Console, show: int) -> int:
    settings = load_settings()
    configure_ingest(settings)
    engine = create_engine(settings)
    try:
        await upgrade(engine)
        report = await replay_quarantine(engine, chunk_size=settings.ingest_chunk_size)
    finally:
        await engine.dispose()
    console.print(_summary({"quarantine": report}))
    if report.problems:
        console.print(_problems(report.problems, show))
    return EXIT_QUARANTINED if report.quarantined else 0


async def _run_list(console: Console, limit: int) -> int:
    engine = create_engine(load_settings())
    try:
        await upgrade(engine)
        rows = await list_quarantine(engine, limit=limit)
    finally:
        await engine.dispose()
    table = Table(title=f"Quarantine (oldest {limit})")
    for column in ("id", "where", "kind", "reason", "attempts", "raw"):
        if column == "where":
            # Unwrapped, cut from the left: the file name and line must stay readable.
            table.add_column(column, no_wrap=True, min_width=WHERE_WIDTH)
        else:
            table.add_column(column, overflow="fold")
    for row in rows:
        raw = row.raw if len(row.raw) <= 120 else row.raw[:117] + "..."
        where = f"{row.source}:{row.line}"
        if len(where) > WHERE_WIDTH:
            where = "…" + where[1 - WHERE_WIDTH :]
        table.add_row(str(row.id), where, row.kind or "?", row.reason, str(row.attempts), raw)
    console.print(table if rows else "the quarantine is empty")
    return 0


def ingest(
    files: Annotated[
        list[str] | None,
        typer.Argument(help="JSON Lines files (.jsonl, .jsonl.gz); - reads stdin."),
    ] = None,
    replay: Annotated[
        bool,
        typer.Option("--replay-quarantine", help="Retry every quarantined record, oldest first."),
    ] = False,
    list_: Annotated[
        bool, typer.Option("--list-quarantine", help="List quarantined records, oldest first.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, help="Rows shown by --list-quarantine.")] = 100,
    show_problems: Annotated[
        int, typer.Option(min=0, help="Problems printed after an ingest.")
    ] = 20,
) -> None:
    """Ingest JSON Lines records into GATEWAY_DATABASE_URL (migrating it first).

    Catalog records are upserts, events are stored once per id, bad records are quarantined
    with their line and reason. Exit status: 0 = every record stored, 1 = some quarantined
    (or still quarantined after --replay-quarantine), 2 = usage error (e.g. missing file),
    3 = the ingest failed (database unreachable, unreadable input, any crash).
    """
    console = Console(stderr=False)
    names = files or []
    if sum((bool(names), replay, list_)) != 1:
        raise typer.BadParameter("give FILE... or --replay-quarantine or --list-quarantine")
    missing = [n for n in names if n != "-" and not Path(n).is_file()]
    if missing:
        Console(stderr=True).print(f"[red]error:[/red] no such file: {', '.join(missing)}")
        raise typer.Exit(EXIT_USAGE)
    try:
        if list_:
            code = asyncio.run(_run_list(console, limit))
        elif replay:
            code = asyncio.run(_run_replay(console, show_problems))
        else:
            code = asyncio.run(_run_files(names, console, show_problems))
    except KeyboardInterrupt:
        Console(stderr=True).print("[red]interrupted:[/red] committed chunks are kept")
        raise typer.Exit(EXIT_FAILED) from None
    except Exception as exc:  # a crash is never reported as "some records quarantined"
        logging.getLogger("gateway.cli").debug("ingest failed", exc_info=True)
        Console(stderr=True).print(
            f"[red]error:[/red] the ingest stopped ({type(exc).__name__}: {exc}); chunks "
            "committed before it are kept, and running it again stores nothing twice"
        )
        raise typer.Exit(EXIT_FAILED) from None
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add ``ingest`` to the CLI."""
    app.command("ingest")(ingest)
