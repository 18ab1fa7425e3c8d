"""Ready-made tokens for ``gateway demo``: one per kind of caller, scoped to real demo ids.

The demo signs them with a random secret of its own run (they die with it), so a new user can
paste them into GraphiQL one after the other and watch fields answer ``FORBIDDEN`` and entities
``NOT_FOUND`` as the role changes.

Example:
    >>> scopes = await demo_scopes(engine)
    >>> [t.role for t in demo_tokens(settings, scopes)]
    ['PLATFORM_ADMIN', 'SUPERAPP_OPERATOR', 'SUPERAPP_DEVELOPER', 'MINI_PROGRAM_ADMIN', ...]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import orjson
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.authz.tokens import mint_token
from gateway.roles import Grant, Role
from gateway.settings import Settings
from gateway.store import tables as t

DEMO_TOKEN_TTL = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class DemoScopes:
    """The demo ids the tokens are scoped to."""

    workspace_id: str | None
    merchant_id: str | None
    """A merchant of that workspace with the most mini programs (ties: smallest id)."""


@dataclass(frozen=True, slots=True)
class DemoToken:
    """A printed token: its role, what it sees, the JWT."""

    role: str
    sees: str
    token: str


async def demo_scopes(engine: AsyncEngine) -> DemoScopes:
    """The first workspace (by id) and its merchant whose mini programs were launched most
    (so the mini-program tokens show real numbers, not zeros)."""
    async with engine.connect() as conn:
        workspace = await conn.scalar(select(t.workspaces.c.id).order_by(t.workspaces.c.id))
        launches = func.count(t.launches.c.id)
        merchant = await conn.scalar(
            select(t.mini_programs.c.merchant_id)
            .select_from(
                t.mini_programs.outerjoin(
                    t.launches, t.launches.c.mini_program_id == t.mini_programs.c.id
                )
            )
            .where(
                t.mini_programs.c.workspace_id == workspace,
                t.mini_programs.c.merchant_id.is_not(None),
            )
            .group_by(t.mini_programs.c.merchant_id)
            .order_by(launches.desc(), t.mini_programs.c.merchant_id)
            .limit(1)
        )
    return DemoScopes(workspace, merchant)


def demo_tokens(settings: Settings, scopes: DemoScopes) -> list[DemoToken]:
    """One token per demo role (roles whose scope is missing from the data are skipped)."""
    ws, merchant = scopes.workspace_id, scopes.merchant_id
    wanted: list[tuple[Grant | None, str]] = [
        (Grant(Role.PLATFORM_ADMIN), "every workspace, every field (money included)"),
        (
            Grant(Role.SUPERAPP_OPERATOR, workspace_id=ws) if ws else None,
            f"workspace {ws} only: catalog, analytics and money",
        ),
        (
            Grant(Role.SUPERAPP_DEVELOPER, workspace_id=ws) if ws else None,
            f"workspace {ws} only: catalog; analytics fields answer FORBIDDEN",
        ),
        (
            Grant(Role.MINI_PROGRAM_ADMIN, merchant_id=merchant) if merchant else None,
            f"merchant {merchant}'s mini programs: their metrics and money; nothing above them",
        ),
        (
            Grant(Role.MINI_PROGRAM_DEVELOPER, merchant_id=merchant) if merchant else None,
            f"merchant {merchant}'s mini programs: their metrics, no money",
        ),
    ]
    return [
        DemoToken(
            grant.role.value,
            sees,
            mint_token(settings, f"demo:{grant.role.value.lower()}", [grant], DEMO_TOKEN_TTL),
        )
        for grant, sees in wanted
        if grant is not None
    ]


def print_demo_tokens(console: Console, tokens: list[DemoToken]) -> None:
    """Print the tokens with what each one sees, and how to use them in GraphiQL."""
    console.print(
        "[bold]Demo tokens[/bold] (valid 24 h, this run only). GraphiQL starts with the first; "
        'to switch, open its Headers tab and paste {"Authorization": "Bearer <token>"}:',
        highlight=False,
    )
    for token in tokens:
        console.print(f"  [bold]{token.role}[/bold]: {token.sees}", highlight=False)
        # soft_wrap: a token broken over lines could not be copied.
        console.print(f"    Authorization: Bearer {token.token}", soft_wrap=True, highlight=False)


def curl_example(url: str, query: str, token: str) -> str:
    """A curl command posting ``query`` to ``url`` with ``token``."""
    body = orjson.dumps({"query": query}).decode()
    return (
        f"curl -s {url} -H 'Authorization: Bearer {token}' "
        f"-H 'Content-Type: application/json' -d '{body}'"
    )
