"""Fixtures of the schema tests: one executable schema, the catalog loaded, an HTTP client."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import httpx
import pytest
import strawberry
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.routing import Route

from gateway.authz.tokens import mint_token
from gateway.cache.snapshot_cache import SnapshotCache
from gateway.settings import Settings
from gateway.web.graphql import GatewayGraphQL
from gateway.web.persisted import PersistedQueries
from gateway.web.services import Services
from tests.principals import ADMIN
from tests.schema.catalog_data import insert_catalog

JWT_SECRET = "test-secret-of-the-schema-tests-32-bytes"
"""HS256 secret of the ``client`` fixture's app (at least 32 bytes)."""


@pytest.fixture
async def catalog(engine: AsyncEngine) -> AsyncEngine:
    """``engine`` with :mod:`tests.schema.catalog_data` inserted."""
    await insert_catalog(engine)
    return engine


@pytest.fixture
async def client(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the production ``/graphql`` view over a clean database, signed in as a
    platform administrator (``tests.principals.ADMIN``).

    Only the GraphQL route is mounted (with the state ``create_app``'s lifespan would set), so
    these tests do not depend on the app's other routes.
    """
    app = Starlette(routes=[Route("/graphql", GatewayGraphQL(schema), methods=["GET", "POST"])])
    signed = settings.model_copy(update={"jwt_secret": SecretStr(JWT_SECRET)})
    persisted = PersistedQueries(
        SnapshotCache.create(signed), settings.persisted_query_ttl_seconds, None
    )
    app.state.services = Services(settings=signed, engine=engine, persisted=persisted)
    token = mint_token(signed, ADMIN.subject, ADMIN.grants, dt.timedelta(hours=1))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://gateway.test",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        yield http
