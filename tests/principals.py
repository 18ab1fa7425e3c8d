"""Principals for tests: a platform administrator (reads everything), a factory, and running a
query as one of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.types import ExecutionResult

from gateway.authz.principal import Principal
from gateway.context import Context
from gateway.roles import Grant, Role
from gateway.settings import Settings

ADMIN = Principal("test-admin", (Grant(Role.SUPER_ADMIN),))
"""Sees every workspace and every field: what tests of the data (not of access) run as."""


def principal(role: Role, workspace: str | None = None, merchant: str | None = None) -> Principal:
    """A principal with one grant."""
    return Principal(f"test-{role.value.lower()}", (Grant(role, workspace, merchant),))


async def run_as(
    schema: strawberry.Schema,
    engine: AsyncEngine,
    settings: Settings,
    who: Principal,
    query: str,
    variables: Mapping[str, Any] | None = None,
) -> ExecutionResult:
    """Run ``query`` as ``who`` with a fresh request context (closed afterwards)."""
    async with Context.create(engine, settings, principal=who) as context:
        return await schema.execute(
            query, variable_values=dict(variables or {}), context_value=context
        )
