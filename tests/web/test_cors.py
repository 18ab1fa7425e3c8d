"""CORS (``GATEWAY_CORS_ORIGINS``): preflights answered without credentials for the listed
origins only, actual responses readable by them (with the exposed headers), and nothing at all
when the setting is unset."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError

from gateway.settings import Settings
from gateway.web.cors import EXPOSE_HEADERS
from tests.web.conftest import app_client

ALLOWED = "https://app.example.com"
OTHER = "http://localhost:3000"
FOREIGN = "https://evil.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


@pytest.fixture
async def cors_client(app_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the app allowing :data:`ALLOWED` and :data:`OTHER`."""
    configured = app_settings.model_copy(update={"cors_origins": f"{ALLOWED}, {OTHER}"})
    async with app_client(configured) as http:
        yield http


def _cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


@pytest.mark.parametrize("origin", [ALLOWED, OTHER])
async def test_a_preflight_from_an_allowed_origin_is_answered_without_credentials(
    cors_client: httpx.AsyncClient, origin: str
) -> None:
    response = await cors_client.options("/graphql", headers={"Origin": origin, **PREFLIGHT})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    assert "access-control-allow-credentials" not in response.headers
    methods = set(response.headers["access-control-allow-methods"].split(", "))
    assert methods == {"GET", "POST", "OPTIONS"}
    allowed = {h.lower() for h in response.headers["access-control-allow-headers"].split(", ")}
    assert {"authorization", "content-type", "x-api-key"} <= allowed
    assert response.headers["vary"].startswith("Origin")


async def test_a_preflight_from_another_origin_gets_no_cors_header(
    cors_client: httpx.AsyncClient,
) -> None:
    response = await cors_client.options("/graphql", headers={"Origin": FOREIGN, **PREFLIGHT})
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_an_actual_post_from_an_allowed_origin_is_readable_with_its_headers(
    cors_client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await cors_client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": ALLOWED, **admin}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    exposed = response.headers["access-control-expose-headers"].split(", ")
    assert exposed == list(EXPOSE_HEADERS)
    assert "x-request-id" in response.headers
    refused = await cors_client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": ALLOWED}
    )
    assert refused.status_code == 401  # CORS lets the page read the answer, not skip auth
    assert refused.headers["access-control-allow-origin"] == ALLOWED


async def test_an_actual_post_from_another_origin_is_not_readable(
    cors_client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await cors_client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": FOREIGN, **admin}
    )
    assert response.status_code == 200
    # Starlette lists the exposed headers on every response; without an allowed origin the
    # browser hands the page nothing.
    assert set(_cors_headers(response)) == {"access-control-expose-headers"}


async def test_unset_sends_no_cors_header(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    preflight = await client.options("/graphql", headers={"Origin": ALLOWED, **PREFLIGHT})
    assert _cors_headers(preflight) == {}
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": ALLOWED, **admin}
    )
    assert response.status_code == 200
    assert _cors_headers(response) == {}


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        (
            '["https://a.example", "http://localhost:3000"]',
            ("https://a.example", "http://localhost:3000"),
        ),
        ("https://a.example,http://[::1]:8080", ("https://a.example", "http://[::1]:8080")),
        ("", ()),
    ],
)
def test_origins_are_read_as_a_json_list_or_comma_separated(
    monkeypatch: pytest.MonkeyPatch, value: str, origins: tuple[str, ...]
) -> None:
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", value)
    assert Settings().cors_allowed_origins == origins


@pytest.mark.parametrize(
    "value", ["*", "https://a.example/", "https://A.example", "https://a.example:443", "null"]
)
def test_anything_but_an_exact_origin_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="GATEWAY_CORS_ORIGINS"):
        Settings(cors_origins=value)
