"""``gateway token`` (a development JWT) and ``gateway apikey`` (create, list, revoke).

Example:
    $ export GATEWAY_JWT_SECRET=$(python -c 'import secrets; print(secrets.token_urlsafe(32))')
    $ gateway token --role SUPERAPP_OPERATOR --workspace ws_acme --ttl 8h
    eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...
    $ gateway apikey create --name ingest-bot --role INGESTER
    gw_3f9c2a1b7e4d_...
    $ gateway apikey list
    $ gateway apikey revoke ingest-bot

Exit status: 0 on success, 1 when the key asked for does not exist or the name is taken,
2 on a usage error (bad role/scope combination, no GATEWAY_JWT_SECRET, bad settings).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.authz.authentication_errors import AuthConfigError
from gateway.roles import Grant, GrantError, Role
from gateway.settings import Settings, load_settings
from gateway.store.apikeys import (
    ApiKeyError,
    ApiKeyInfo,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from gateway.store.db import create_engine
from gateway.store.migrate import upgrade

EXIT_FAILED = 1
EXIT_USAGE = 2

_TTL = re.compile(r"^(\d+)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

T = TypeVar("T")

RoleOption = Annotated[Role, typer.Option("--role", case_sensitive=False, help="The role.")]
WorkspaceOption = Annotated[
    str | None, typer.Option("--workspace", help="Workspace id (super-app team roles).")
]
MerchantOption = Annotated[
    str | None, typer.Option("--merchant", help="Merchant id (mini-program team roles).")
]

apikey_app = typer.Typer(
    help="Create, list and revoke API keys (`X-API-Key`); only a hash of each key is stored.",
    no_args_is_help=True,
)


def _fail(message: str, code: int) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def parse_ttl(text: str) -> timedelta:
    """``90s``, ``30m``, ``8h``, ``7d`` or plain seconds, as a positive duration."""
    match = _TTL.match(text.strip().lower())
    if match is None or int(match[1]) == 0:
        raise typer.BadParameter(f"{text!r}: use e.g. 90s, 30m, 8h or 7d")
    return timedelta(seconds=int(match[1]) * _UNITS[match[2]])


def _settings() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        raise _fail(f"bad GATEWAY_* settings:\n{exc}", EXIT_USAGE) from exc


def _grant(role: Role, workspace: str | None, merchant: str | None) -> Grant:
    try:
        return Grant(role, workspace, merchant)
    except GrantError as exc:
        hint = (
            "--workspace W goes with super-app team roles, --merchant M with mini-program "
            "team roles, neither with platform roles and INGESTER"
        )
        raise _fail(f"{exc}: {hint}", EXIT_USAGE) from exc


def _run(settings: Settings, action: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(settings)
        try:
            await upgrade(engine)
            return await action(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def token(
    role: RoleOption,
    workspace: WorkspaceOption = None,
    merchant: MerchantOption = None,
    ttl: Annotated[
        str, typer.Option(help="Lifetime: 90s, 30m, 8h, 7d (plain numbers are seconds).")
    ] = "1h",
    subject: Annotated[str, typer.Option(help="The token's `sub` claim.")] = "developer",
) -> None:
    """Print a development JWT (HS256, signed with GATEWAY_JWT_SECRET) holding one grant.

    Super-app team roles need --workspace, mini-program team roles --merchant, platform roles
    and INGESTER neither. Send it as `Authorization: Bearer <token>`.
    """
    from gateway.authz.tokens import mint_token  # PyJWT + cryptography: ~60 ms to import

    lifetime = parse_ttl(ttl)
    grant = _grant(role, workspace, merchant)
    settings = _settings()
    try:
        typer.echo(mint_token(settings, subject, [grant], lifetime))
    except AuthConfigError as exc:
        raise _fail(str(exc), EXIT_USAGE) from exc


@apikey_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="A unique name, e.g. ingest-bot.")],
    role: RoleOption,
    workspace: WorkspaceOption = None,
    merchant: MerchantOption = None,
) -> None:
    """Create a key and print it once: only its hash is stored, it cannot be shown again."""
    grant = _grant(role, workspace, merchant)
    try:
        key = _run(_settings(), lambda engine: create_api_key(engine, name, [grant]))
    except ApiKeyError as exc:
        raise _fail(str(exc), EXIT_FAILED) from exc
    Console(stderr=True).print(
        f"API key [bold]{name}[/bold] created. Copy it now: it is not shown again.",
        highlight=False,
    )
    typer.echo(key)  # alone on stdout, so `KEY=$(gateway apikey create ...)` works


def _when(moment: datetime | None) -> str:
    return "—" if moment is None else f"{moment:%Y-%m-%d %H:%M}Z"  # UTC; last use is per minute


def _grant_text(grant: Grant) -> str:
    if grant.workspace_id is not None:
        return f"{grant.role} (workspace {grant.workspace_id})"
    if grant.merchant_id is not None:
        return f"{grant.role} (merchant {grant.merchant_id})"
    return str(grant.role)


def keys_table(keys: list[ApiKeyInfo]) -> Table:
    """The table ``gateway apikey list`` prints."""
    table = Table(title="API keys")
    table.add_column("name", overflow="fold")
    table.add_column("prefix", no_wrap=True)  # copied into `gateway apikey revoke`
    table.add_column("grants", overflow="fold")
    for column in ("created", "last used", "revoked"):
        table.add_column(column, no_wrap=True)
    for key in keys:
        grants = ", ".join(_grant_text(g) for g in key.grants)
        table.add_row(
            key.name,
            key.prefix,
            grants,
            _when(key.created_at),
            _when(key.last_used_at),
            _when(key.revoked_at),
        )
    return table


@apikey_app.command("list")
def list_() -> None:
    """List every key (revoked ones too) with its grants and last use; never the secret."""
    keys = _run(_settings(), list_api_keys)
    Console().print(keys_table(keys) if keys else "no API keys yet: gateway apikey create")


@apikey_app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="The key's name (or its prefix).")],
) -> None:
    """Revoke a key; the very next request using it is refused."""
    revoked = _run(_settings(), lambda engine: revoke_api_key(engine, name))
    if revoked is None:
        raise _fail(f"no API key named {name!r} (see gateway apikey list)", EXIT_FAILED)
    Console().print(
        f"API key [bold]{revoked.name}[/bold] revoked at {_when(revoked.revoked_at)}.",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``token`` and ``apikey`` to the CLI."""
    app.command("token")(token)
    app.add_typer(apikey_app, name="apikey")
