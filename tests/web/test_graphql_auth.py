"""/graphql authentication: 401 without valid credentials, the GraphiQL page still loads,
and nothing of the schema (introspection, suggestions) reaches an anonymous caller."""

from __future__ import annotations

import datetime as dt

import httpx
import orjson
import pytest

from gateway.authz.tokens import mint_token
from gateway.roles import Grant, Role
from gateway.settings import Settings
from tests.web.test_graphql import BROWSER

INTROSPECTION = "{ __schema { types { name fields { name } } } }"


def _unauthenticated(response: httpx.Response) -> str:
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = orjson.loads(response.content)
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    return str(error["message"])


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"X-API-Key": "gw_nope_nope"},
    ],
    ids=["none", "garbage-token", "basic-scheme", "unknown-api-key"],
)
async def test_requests_without_valid_credentials_are_401(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    for response in (
        await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers),
        await client.get(
            "/graphql",
            params={"query": "{ __typename }"},
            headers={"Accept": "application/json", **headers},
        ),
    ):
        message = _unauthenticated(response)
        assert "Bearer" in message or "API key" in message or "token" in message


async def test_expired_token_is_401(client: httpx.AsyncClient, app_settings: Settings) -> None:
    token = mint_token(
        app_settings,
        "late",
        [Grant(Role.SUPER_ADMIN)],
        dt.timedelta(minutes=5),
        now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
    )
    response = await client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert "expired" in _unauthenticated(response)


async def test_graphiql_page_loads_without_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


async def test_anonymous_introspection_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": INTROSPECTION})
    _unauthenticated(response)
    assert b"Workspace" not in response.content


async def test_no_field_suggestions_for_anonymous_callers(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    query = {"query": "{ workspaces { nodes { nam } } }"}
    anonymous = await client.post("/graphql", json=query)
    _unauthenticated(anonymous)
    assert b"Did you mean" not in anonymous.content
    # An authenticated caller still gets GraphQL's usual help.
    signed_in = await client.post("/graphql", json=query, headers=admin)
    assert b"Did you mean" in signed_in.content


async def test_authenticated_introspection_works(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post("/graphql", json={"query": INTROSPECTION}, headers=admin)
    assert response.status_code == 200
    names = {t["name"] for t in orjson.loads(response.content)["data"]["__schema"]["types"]}
    assert {"Workspace", "Viewer", "Role"} <= names


async def test_viewer_over_http(client: httpx.AsyncClient, app_settings: Settings) -> None:
    grant = Grant(Role.SUPERAPP_OPERATOR, workspace_id="ws-1")
    token = mint_token(app_settings, "olivia", [grant], dt.timedelta(hours=1))
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { subject authenticatedBy grants { role workspaceId } } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert orjson.loads(response.content)["data"] == {
        "viewer": {
            "subject": "olivia",
            "authenticatedBy": "JWT",
            "grants": [{"role": "SUPERAPP_OPERATOR", "workspaceId": "ws-1"}],
        }
    }
