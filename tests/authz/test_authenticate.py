"""Credential headers -> principal: JWT, API key, none, and the ways a credential is wrong."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.authz.authenticate import authenticate, www_authenticate
from gateway.authz.authentication_errors import AuthenticationError
from gateway.authz.tokens import mint_token
from gateway.roles import Grant, Role
from gateway.settings import Settings
from gateway.store.apikeys import create_api_key, revoke_api_key

SECRET = "test-secret-with-at-least-32-characters"
ADMIN = Grant(Role.MINI_PROGRAM_ADMIN, merchant_id="m_1")


@pytest.fixture
def jwt_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"jwt_secret": Settings(jwt_secret=SECRET).jwt_secret})


def _token(settings: Settings) -> str:
    return mint_token(settings, "carol", [ADMIN], timedelta(minutes=5))


async def test_no_credential_is_none(jwt_settings: Settings, engine: AsyncEngine) -> None:
    assert await authenticate({"Accept": "text/html"}, jwt_settings, engine) is None


@pytest.mark.parametrize("header", ["Authorization", "authorization", "AUTHORIZATION"])
@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
async def test_bearer_token(
    jwt_settings: Settings, engine: AsyncEngine, header: str, scheme: str
) -> None:
    headers = {header: f"{scheme} {_token(jwt_settings)}"}
    principal = await authenticate(headers, jwt_settings, engine)
    assert principal is not None
    assert (principal.subject, principal.grants, principal.via) == ("carol", (ADMIN,), "jwt")


async def test_api_key(jwt_settings: Settings, engine: AsyncEngine) -> None:
    key = await create_api_key(engine, "dashboard", [ADMIN])
    principal = await authenticate({"x-api-key": key}, jwt_settings, engine)
    assert principal is not None
    assert (principal.subject, principal.grants) == ("apikey:dashboard", (ADMIN,))
    assert principal.via == "api_key"
    await revoke_api_key(engine, "dashboard")
    with pytest.raises(AuthenticationError, match="revoked"):
        await authenticate({"X-API-Key": key}, jwt_settings, engine)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "unsupported Authorization scheme"),
        ({"Authorization": "Bearer"}, "unsupported|empty"),
        ({"Authorization": "Bearer   "}, "empty bearer token"),
        ({"Authorization": "Bearer not-a-jwt"}, "malformed"),
        ({"X-API-Key": "gw_000000000000_" + "A" * 43}, "unknown or revoked"),
        ({"X-API-Key": ""}, "unknown or revoked"),
    ],
)
async def test_present_but_invalid_credentials_raise(
    jwt_settings: Settings, engine: AsyncEngine, headers: dict[str, str], message: str
) -> None:
    with pytest.raises(AuthenticationError, match=message):
        await authenticate(headers, jwt_settings, engine)


async def test_both_credentials_at_once_is_an_error(
    jwt_settings: Settings, engine: AsyncEngine
) -> None:
    key = await create_api_key(engine, "bot", [ADMIN])
    headers = {"Authorization": f"Bearer {_token(jwt_settings)}", "X-API-Key": key}
    with pytest.raises(AuthenticationError, match="send one credential"):
        await authenticate(headers, jwt_settings, engine)


def test_www_authenticate_names_the_scheme_and_the_failure() -> None:
    assert www_authenticate(None) == 'Bearer realm="gateway"'
    value = www_authenticate(AuthenticationError('token "x" expired'))
    assert value.startswith('Bearer realm="gateway", error="invalid_token"')
    assert value.endswith("error_description=\"token 'x' expired\"")
    hostile = www_authenticate(AuthenticationError("token algorithm '\u2603\\\r\n' is not allowed"))
    assert hostile.isascii()
    assert hostile.isprintable()
