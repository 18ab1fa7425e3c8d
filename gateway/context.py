"""The typed per-request context every resolver receives as ``info.context``.

Example:
    >>> context = Context.create(engine, settings, request)  # doctest: +SKIP
    >>> await context.loaders.workspace.load("ws-1")  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.websockets import WebSocket

from gateway.loaders import Loaders
from gateway.settings import Settings


@dataclass(frozen=True, slots=True)
class Context:
    """What one GraphQL request runs with.

    Attributes:
        settings: The process configuration.
        engine: The database engine (loaders open one connection per batch).
        request: The HTTP request (None when a schema is executed directly, e.g. in tests).
        loaders: This request's dataloaders; never shared between requests.
    """

    settings: Settings
    engine: AsyncEngine
    request: Request | WebSocket | None
    loaders: Loaders

    @classmethod
    def create(
        cls, engine: AsyncEngine, settings: Settings, request: Request | WebSocket | None = None
    ) -> Context:
        """A context with fresh loaders for one request."""
        return cls(
            settings=settings, engine=engine, request=request, loaders=Loaders.create(engine)
        )
