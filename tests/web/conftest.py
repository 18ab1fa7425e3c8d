"""An HTTP client on the whole app with its lifespan running (engine opened and disposed).

The app has a JWT secret; ``admin`` holds the headers of a platform administrator's token.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from gateway.app import create_app
from gateway.authz.tokens import mint_token
from gateway.settings import Settings
from tests.principals import ADMIN

JWT_SECRET = "test-secret-of-the-web-tests-at-least-32-bytes"


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    """``settings`` with an HS256 secret."""
    return settings.model_copy(update={"jwt_secret": SecretStr(JWT_SECRET)})


@pytest.fixture
def admin(app_settings: Settings) -> dict[str, str]:
    """Headers of a platform administrator (``tests.principals.ADMIN``)."""
    token = mint_token(app_settings, ADMIN.subject, ADMIN.grants, dt.timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on ``create_app(settings)`` with its lifespan running."""
    app = create_app(settings)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://gateway.test"
        ) as http,
    ):
        yield http


@pytest.fixture
async def client(app_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client on ``create_app(app_settings)`` over a clean database (SQLite and PostgreSQL).

    It sends no credentials by itself: pass ``headers=admin`` where a request needs them.
    """
    async with app_client(app_settings) as http:
        yield http
