"""``gateway serve`` (the server) and ``gateway demo`` (everything on a laptop, offline).

Example:
    $ gateway serve --port 8000 --workers 0     # one process per CPU core
    $ gateway demo                              # fresh SQLite + generated data + GraphiQL
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import secrets
import signal
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from gateway.authz.authentication_errors import AuthConfigError
from gateway.settings import Settings, load_settings
from gateway.store.db import create_engine
from gateway.store.migrate import upgrade
from gateway.web.connection_guard import guarded_protocol
from gateway.web.metrics_registry import prepare_directory, remove_directory

if TYPE_CHECKING:
    from gateway.cli.demo_tokens import DemoScopes
    from gateway.store.ingest import IngestReport

logger = logging.getLogger(__name__)

# The app, the generator, the ingester and the JWT library are imported inside the commands
# that use them: every `gateway` invocation imports this module, and `gateway migrate` should
# not pay for building the GraphQL schema.

DEMO_DATABASE = Path("gateway-demo.db")
"""Default SQLite file of ``gateway demo`` (recreated on every run)."""

EXAMPLE_QUERY = (
    "{ snapshot { takenAt } workspaces(first: 5) { nodes { name "
    "targetApps(first: 5, orderBy: {field: USER_COUNT}, timeRange: {preset: LAST_7_DAYS}) "
    "{ nodes { name activeUsers(timeRange: {preset: LAST_7_DAYS}) { value previousValue "
    "changeRate series { date value } } } } } } }"
)
"""The one-line query ``gateway demo`` prints next to the GraphiQL URL."""


async def _migrate(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def _check_authentication(settings: Settings) -> None:
    """Fail early on an unusable JWT key; warn when JWTs cannot be verified at all."""
    from gateway.authz.tokens import check_jwt_settings

    try:
        algorithms = check_jwt_settings(settings)
    except AuthConfigError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from exc
    if not algorithms:
        logger.warning(
            "none of GATEWAY_JWT_SECRET, GATEWAY_JWT_PUBLIC_KEY_FILE, GATEWAY_JWT_JWKS_URL is set: "
            "only API keys "
            "(X-API-Key, see `gateway apikey create`) can authenticate"
        )


def _check_trusted_documents(settings: Settings) -> None:
    """Fail early on a bad GATEWAY_TRUSTED_DOCUMENTS_FILE (each worker would fail to start)."""
    from gateway.web.trusted import ManifestError, TrustedDocuments

    try:
        TrustedDocuments.configured(settings.trusted_documents_file, "everyone")
    except ManifestError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


class ProxyOptions(TypedDict):
    """uvicorn's options about forwarding headers."""

    proxy_headers: bool
    forwarded_allow_ips: list[str] | None


def proxy_options(settings: Settings) -> ProxyOptions:
    """uvicorn's forwarding options: believe ``X-Forwarded-For`` / ``-Proto`` only from
    ``GATEWAY_TRUSTED_PROXIES`` (uvicorn's own default trusts them from 127.0.0.1, so a local
    client could pick the address its rate limit is keyed on).

    >>> proxy_options(Settings())
    {'proxy_headers': False, 'forwarded_allow_ips': None}
    >>> proxy_options(Settings(trusted_proxies="10.0.0.0/8, 10.1.2.3"))
    {'proxy_headers': True, 'forwarded_allow_ips': ['10.0.0.0/8', '10.1.2.3']}
    """
    proxies = settings.proxies
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies or None}


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn options of a gateway server: trusted proxies, and the bounds a connection may
    hold (head size, head and body deadlines, connections; :mod:`gateway.web.connection_guard`).
    """
    return {
        **proxy_options(settings),
        "http": guarded_protocol(settings),
        "limit_concurrency": settings.max_connections,
        "timeout_graceful_shutdown": settings.shutdown_grace_seconds,  # SIGTERM drains first
        # permessage-deflate keeps a compressor and a decompressor per WebSocket (49.5 KiB
        # measured, more than the rest of an idle live connection); live answers are small.
        "ws_per_message_deflate": False,
    }


def _exit_cleanly(signum: int, frame: object) -> None:
    """SIGTERM, once uvicorn has drained and re-raised it: a clean stop, exit status 0."""
    del signum, frame
    raise SystemExit(0)


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [default: GATEWAY_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [default: GATEWAY_PORT].")] = None,
    workers: Annotated[
        int, typer.Option(min=0, help="Worker processes; 0 = one per CPU core.")
    ] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Serve the gateway (GraphQL, GraphiQL, ingest, probes) with uvicorn.

    Migrations are applied once, here in the parent, before any worker starts; each worker
    then builds the app with ``gateway.app:create_app`` and opens its own connection pool.
    With several workers, ``/metrics`` of any of them sums all of them through
    ``PROMETHEUS_MULTIPROC_DIR`` (the operator's, wiped here, or a temporary one).
    """
    if reload and workers > 1:
        raise typer.BadParameter("--reload runs a single process; drop --workers")
    settings = load_settings()
    _check_authentication(settings)
    _check_trusted_documents(settings)
    asyncio.run(_migrate(settings))
    processes = workers or os.cpu_count() or 1
    metrics_dir = prepare_directory(processes)
    # uvicorn drains on SIGTERM (up to GATEWAY_SHUTDOWN_GRACE_SECONDS), then raises the signal
    # again for the handler found at start: the default one would end the process with -15.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        uvicorn.run(
            "gateway.app:create_app",
            factory=True,
            host=host or settings.host,
            port=settings.port if port is None else port,
            workers=processes,
            reload=reload,
            reload_dirs=[str(Path(__file__).parents[1])] if reload else None,
            log_level=settings.log_level,
            access_log=False,  # the gateway's own access log has the request id, principal, cost
            **server_options(settings),
        )
    finally:
        remove_directory(metrics_dir)


def _fresh_database(path: Path) -> Settings:
    """Delete ``path`` and its WAL side files; settings for an embedded gateway on it."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The demo is embedded by definition: ignore any GATEWAY_REDIS_URL of the shell. It also
    # refreshes in process (new events show up) unless GATEWAY_REFRESH_IN_PROCESS says not to.
    # A fresh random JWT secret per run: the printed demo tokens die with the demo.
    overrides: dict[str, object] = {
        "database_url": f"sqlite:///{path.resolve()}",
        "redis_url": None,
        "jwt_secret": secrets.token_urlsafe(32),
    }
    if "GATEWAY_REFRESH_IN_PROCESS" not in os.environ:
        overrides["refresh_in_process"] = True
    if "GATEWAY_LOG_FORMAT" not in os.environ:
        overrides["log_format"] = "text"
    return load_settings(**overrides)


def _counted(lines: Iterable[bytes], on_line: Callable[[], None]) -> Iterator[bytes]:
    for line in lines:
        on_line()
        yield line


async def load_demo_data(settings: Settings, scale: str, console: Console) -> IngestReport:
    """Migrate the database of ``settings``, ingest generated data at ``scale``, refresh.

    The refresh builds the first snapshot, so metric fields answer from the start.
    """
    from gateway.store.ingest import ingest_lines
    from gateway.store.rollup import refresh
    from gateway.synthetic import generate_lines

    engine = create_engine(settings)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    try:
        await upgrade(engine)
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(f"generating and ingesting '{scale}' data", total=None)
            read = 0

            def tick() -> None:
                nonlocal read
                read += 1
                if read % 5_000 == 0:  # repainting per line would cost more than the line
                    progress.update(task, description=f"ingested {read:,} records")

            lines = _counted(generate_lines(scale), tick)
            report = await ingest_lines(engine, lines, source=f"demo:{scale}", pause_gc=True)
            progress.update(task, description="building the first snapshot (rollups)")
            await refresh(engine)
            return report
    finally:
        await engine.dispose()


async def _demo_scopes(settings: Settings) -> DemoScopes:
    from gateway.cli.demo_tokens import demo_scopes

    engine = create_engine(settings)
    try:
        return await demo_scopes(engine)
    finally:
        await engine.dispose()


def print_report(console: Console, report: IngestReport, seconds: float) -> None:
    """Print the ingest summary: records, stored, duplicates, quarantined, rate."""
    table = Table(title=f"Demo data ingested in {seconds:.1f} s", show_header=False)
    table.add_row("records", f"{report.records:,}")
    table.add_row("stored", f"{report.stored:,}")
    table.add_row("duplicates", f"{report.duplicates:,}")
    table.add_row("quarantined", f"{report.quarantined:,}")
    for reason, count in sorted(report.quarantined_by_reason.items()):
        table.add_row(f"  {reason}", f"{count:,}")
    table.add_row("rate", f"{report.records / max(seconds, 1e-9):,.0f} records/s")
    console.print(table)


class AnnouncingServer(uvicorn.Server):
    """A uvicorn server that prints some lines once its socket is really listening."""

    def __init__(self, config: uvicorn.Config, announce: Mapping[str, str]) -> None:
        super().__init__(config)
        self._announce = dict(announce)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Bind and start, then announce (a failed bind announces nothing)."""
        await super().startup(sockets)
        if self.started:
            console = Console()
            for label, value in self._announce.items():
                console.print(f"[bold]{label}[/bold] {value}", soft_wrap=True, highlight=False)


def warn_if_exposed(console: Console, host: str) -> None:
    """Warn when the demo binds an address other machines may reach."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        console.print(
            f"[bold red]warning:[/bold red] the demo binds {host}: anyone who reaches it can "
            "read the demo data with the tokens printed below (GraphiQL offers its token to "
            "this machine only). Use --host 127.0.0.1 unless that is what you want.",
            highlight=False,
        )


def demo(
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    scale: Annotated[
        str, typer.Option(help="Generated data: demo (~100k events) or tiny (~5k).")
    ] = "demo",
    database: Annotated[
        Path, typer.Option(help="SQLite file, recreated on each run.")
    ] = DEMO_DATABASE,
) -> None:
    """Run a self-contained demo: fresh SQLite, generated data, GraphiQL. Works offline."""
    console = Console()
    warn_if_exposed(console, host)
    settings = _fresh_database(database)
    started = time.perf_counter()
    report = asyncio.run(load_demo_data(settings, scale, console))
    print_report(console, report, time.perf_counter() - started)
    from gateway.cli.demo_tokens import curl_example, demo_tokens, print_demo_tokens

    tokens = demo_tokens(settings, asyncio.run(_demo_scopes(settings)))
    print_demo_tokens(console, tokens)
    url = f"http://{host}:{port}/graphql"
    announce = {
        "GraphiQL:": f"{url} (signed in as {tokens[0].role})",
        "Dashboard:": f"http://{host}:{port}/dashboard (sign in with a demo token above)",
        "Example:": curl_example(url, EXAMPLE_QUERY, tokens[0].token),
        "Stop with": "Ctrl-C",
    }
    from gateway.app import create_app

    app = create_app(settings, graphiql_headers={"Authorization": f"Bearer {tokens[0].token}"})
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        **server_options(settings),
    )
    # uvicorn re-raises Ctrl-C once it has shut down gracefully; for the demo that is the
    # normal way to stop, not an error.
    with contextlib.suppress(KeyboardInterrupt):
        AnnouncingServer(config, announce).run()


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``demo`` to the CLI."""
    app.command("serve")(serve)
    app.command("demo")(demo)
