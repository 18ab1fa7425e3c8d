"""A live gateway for the fuzz tests: uvicorn on a free port, in a thread, over its own
PostgreSQL database (``gateway_fuzz_<session>`` beside the session's test database) holding
the cache tests' world, with the in-process cache.

``GATEWAY_FUZZ_EXAMPLES`` (default 30) bounds the examples of every fuzz test: raise it for a
longer hunt (``GATEWAY_FUZZ_EXAMPLES=500 pytest tests/fuzz``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from gateway.authz.principal import Principal
from gateway.authz.tokens import mint_token
from gateway.roles import Grant, Role
from gateway.settings import Settings
from tests.cache_http.world import build_world_in
from tests.conftest import _pg_test_url, _recreate_database
from tests.live_server import live_gateway
from tests.principals import ADMIN

EXAMPLES = int(os.environ.get("GATEWAY_FUZZ_EXAMPLES", "30"))
"""Examples per fuzz test (hypothesis ``max_examples``)."""
JWT_SECRET = "fuzz-tests-secret-of-at-least-32-characters"


@dataclass(frozen=True)
class Live:
    """The live gateway: its base URL and ready credential headers."""

    url: str
    admin: dict[str, str]
    ingester: dict[str, str]
    settings: Settings

    def client(self) -> httpx.Client:
        """A synchronous client of the gateway (30 s timeout)."""
        return httpx.Client(base_url=self.url, timeout=30)


def _bearer(settings: Settings, who: Principal) -> dict[str, str]:
    token = mint_token(settings, who.subject, who.grants, dt.timedelta(hours=2))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
async def live() -> AsyncIterator[Live]:
    """The gateway served by uvicorn in a thread (its own event loop), stopped at the end."""
    url = make_url(_pg_test_url())
    name = f"{url.database}_fuzz"
    await _recreate_database(name)
    settings = Settings(
        database_url=url.set(database=name).render_as_string(hide_password=False),
        jwt_secret=SecretStr(JWT_SECRET),
        cache_poll_seconds=0.5,
        rate_limit_per_second=0,  # examples come faster than any caller's limit
        cost_budget_per_window=0,  # and cost more than any caller's budget
    )
    await build_world_in(settings)
    with live_gateway(settings) as base:
        yield Live(
            url=base,
            admin=_bearer(settings, ADMIN),
            ingester=_bearer(settings, Principal("fuzz-ingester", (Grant(Role.INGESTER),))),
            settings=settings,
        )
