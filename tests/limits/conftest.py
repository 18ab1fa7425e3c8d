"""Fixtures of the query-limit tests: the gateway over HTTP with chosen limits, an
administrator's headers, and a spy on execution (a refused request must never reach it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
import strawberry.schema.schema as strawberry_schema
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from gateway.app import create_app
from gateway.authz.tokens import mint_token
from gateway.settings import Settings
from tests.principals import ADMIN

JWT_SECRET = "test-secret-of-the-query-limit-tests-32-bytes"

Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
"""``serve(**setting_overrides)``: a client on a fresh app with those settings."""


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    """``settings`` (SQLite and PostgreSQL) with an HS256 secret."""
    return settings.model_copy(update={"jwt_secret": SecretStr(JWT_SECRET)})


@pytest.fixture
def admin(app_settings: Settings) -> dict[str, str]:
    """Headers of a platform administrator."""
    token = mint_token(app_settings, ADMIN.subject, ADMIN.grants, dt.timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def serve(app_settings: Settings) -> Serve:
    """Open the app on ``app_settings`` updated with the given overrides."""

    @asynccontextmanager
    async def opened(**overrides: object) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(app_settings.model_copy(update=overrides))
        async with (
            LifespanManager(app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app), base_url="http://gateway.test"
            ) as http,
        ):
            yield http

    return opened


@pytest.fixture
async def client(serve: Serve) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the app with the default limits."""
    async with serve() as http:
        yield http


@pytest.fixture
def executions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every operation graphql-core is asked to execute (its document's first 40 characters),
    recorded by wrapping the ``execute`` strawberry calls after parsing and validation."""
    calls: list[str] = []
    real = strawberry_schema.execute

    def spy(schema: Any, document: Any, *args: Any, **kwargs: Any) -> Any:
        source = document.loc.source.body if document.loc else ""
        calls.append(source[:40])
        return real(schema, document, *args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "execute", spy)
    return calls
