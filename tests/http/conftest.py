"""Fixtures of the GraphQL-over-HTTP tests: the query-limit tests' app factory (``serve``),
administrator headers and execution spy, reused as they are, plus a caller's API key."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.roles import Grant, Role
from gateway.store.apikeys import create_api_key
from tests.limits.conftest import admin, app_settings, client, executions, serve

__all__ = ["admin", "api_key", "app_settings", "client", "executions", "serve"]


@pytest.fixture
async def api_key(engine: AsyncEngine) -> dict[str, str]:
    """Headers of a partner tool: an API key of a platform administrator."""
    key = await create_api_key(engine, "partner", [Grant(Role.PLATFORM_ADMIN)])
    return {"X-API-Key": key}
