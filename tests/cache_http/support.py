"""A gateway served in-process over HTTP, and what its answers say about the cache.

:func:`serve` runs ``create_app`` with its lifespan (engine, cache, generation tracker) behind an
httpx client; :meth:`Gateway.ask` sends a document as a principal (a JWT minted for it) and
returns an :class:`Answer`. :func:`fresh` runs the same document without any cache
(``schema.execute`` with a cache-less context), which is what a cached answer must equal.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from asgi_lifespan import LifespanManager
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.authz.principal import Principal
from gateway.authz.tokens import mint_token
from gateway.context import Context
from gateway.schema import GatewaySchema
from gateway.settings import Settings

JWT_SECRET = "test-secret-of-the-cache-http-tests-32-bytes+"

Errors = list[tuple[tuple[str | int, ...], str]]
"""A response's errors as sorted (path, extensions.code) pairs."""


def http_settings(settings: Settings, redis_url: str | None, **overrides: object) -> Settings:
    """``settings`` with a JWT secret, the cache on ``redis_url`` (None: in-process) and the
    generation re-read on every request (so a refresh or an ingest shows at once)."""
    update: dict[str, object] = {
        "jwt_secret": SecretStr(JWT_SECRET),
        "redis_url": redis_url,
        "cache_poll_seconds": 0.0,
        # Random documents of the differential test go past the default query limits, which
        # are not what these tests check (tests/limits does).
        "max_query_aliases": 10_000,
        "max_query_depth": 50,
        "max_query_tokens": 100_000,
        "max_query_directives": 10_000,
        "max_query_cost": 10**9,
        **overrides,
    }
    return settings.model_copy(update=update)


@dataclass(frozen=True)
class Answer:
    """One ``/graphql`` answer."""

    status: int
    body: dict[str, Any]
    seconds: float

    @property
    def data(self) -> Any:
        """The ``data`` member."""
        return self.body.get("data")

    @property
    def errors(self) -> Errors:
        """The errors as (path, code) pairs, sorted."""
        return error_pairs(self.body.get("errors") or [])

    @property
    def formatted(self) -> list[Any]:
        """The whole errors (message, locations, path, extensions), sorted."""
        return sorted(self.body.get("errors") or [], key=repr)

    @property
    def hit(self) -> bool:
        """``extensions.cache.hit``."""
        return bool(self.body["extensions"]["cache"]["hit"])

    @property
    def snapshot_id(self) -> int:
        """``extensions.snapshot.id``."""
        return int(self.body["extensions"]["snapshot"]["id"])


def error_pairs(errors: list[Mapping[str, Any]]) -> Errors:
    """(path, extensions.code) of each error, sorted (JSON errors)."""
    pairs = [
        (tuple(e.get("path") or ()), str((e.get("extensions") or {}).get("code"))) for e in errors
    ]
    return sorted(pairs, key=repr)


class Gateway:
    """A client of one app (its lifespan running); tokens are minted per principal."""

    def __init__(self, app: Starlette, http: httpx.AsyncClient, settings: Settings) -> None:
        self.app = app
        self.http = http
        self.settings = settings
        self._tokens: dict[Principal, str] = {}

    def headers(self, who: Principal) -> dict[str, str]:
        """The Authorization header of ``who``."""
        token = self._tokens.get(who)
        if token is None:
            token = mint_token(self.settings, who.subject, who.grants, dt.timedelta(hours=1))
            self._tokens[who] = token
        return {"Authorization": f"Bearer {token}"}

    async def ask(
        self,
        who: Principal | None,
        query: str,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """POST ``query`` as ``who`` (None: no credentials, or ``headers``)."""
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        if operation_name is not None:
            payload["operationName"] = operation_name
        sent = dict(headers or {})
        if who is not None:
            sent |= self.headers(who)
        started = time.perf_counter()
        # content= keeps the variables' key order exactly as given (a test depends on it).
        response = await self.http.post(
            "/graphql",
            content=orjson.dumps(payload),
            headers={"Content-Type": "application/json", **sent},
        )
        seconds = time.perf_counter() - started
        return Answer(response.status_code, orjson.loads(response.content), seconds)


@asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[Gateway]:
    """``create_app(settings)`` with its lifespan, behind an httpx client."""
    app = create_app(settings)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://gateway.test"
        ) as http,
    ):
        yield Gateway(app, http, settings)


@dataclass(frozen=True)
class Fresh:
    """A cache-less execution's data and errors (as pairs, and whole, as the wire has them)."""

    data: Any
    errors: Errors
    formatted: list[Any]


async def fresh(
    schema: GatewaySchema,
    engine: AsyncEngine,
    settings: Settings,
    who: Principal,
    query: str,
    variables: Mapping[str, Any] | None = None,
) -> Fresh:
    """Run ``query`` as ``who`` with no cache at all (neither layer), JSON round-tripped."""
    async with Context.create(engine, settings, principal=who) as context:
        result = await schema.execute(
            query, variable_values=dict(variables or {}), context_value=context
        )
    # Through JSON, like an HTTP answer (dates and floats as the wire has them).
    errors = orjson.loads(orjson.dumps([error.formatted for error in result.errors or ()]))
    data = orjson.loads(orjson.dumps(result.data))
    return Fresh(data, error_pairs(errors), sorted(errors, key=repr))
