"""Attacks over HTTP: CSRF through simple requests (forms, text/plain, GET mutations),
anonymous introspection, field suggestions, batching.

Decisions tested here: credentials are headers only (``Authorization``, ``X-API-Key``), never
cookies, and the gateway sends no CORS header, so a cross-site page can only make simple
requests, which carry no credential; POST needs ``Content-Type: application/json`` (415
otherwise) and GET runs queries only (405). Authenticated callers see GraphQL's "Did you mean"
suggestions (they may introspect the schema anyway); anonymous callers get 401 before parsing.
"""

from __future__ import annotations

import httpx
import pytest

from tests.http.support import GRAPHQL_RESPONSE, JSON, TYPENAME, answer
from tests.limits.support import codes

MUTATION = "mutation { __typename }"

SIMPLE_BODIES = {
    "form": ("application/x-www-form-urlencoded", b"query=%7B__typename%7D"),
    "text-plain": ("text/plain", b'{"query": "{ __typename }"}'),
    "multipart": (
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ __typename }\r\n--x--\r\n',
    ),
    "none": (None, b'{"query": "{ __typename }"}'),
    "json-latin1": ("application/json; charset=latin-1", b'{"query": "{ __typename }"}'),
}


@pytest.mark.parametrize(("content_type", "body"), SIMPLE_BODIES.values(), ids=SIMPLE_BODIES.keys())
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
async def test_post_without_json_content_type_is_415(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    executions: list[str],
    content_type: str | None,
    body: bytes,
    signed_in: bool,
) -> None:
    headers = dict(admin) if signed_in else {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = await client.post("/graphql", content=body, headers=headers)
    assert response.status_code == 415
    assert "Content-Type: application/json" in answer(response)["errors"][0]["message"]
    assert executions == []


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
@pytest.mark.parametrize(
    ("query", "name"),
    [(MUTATION, None), ("query Q { __typename } mutation M { __typename }", "M")],
    ids=["mutation", "named-in-a-document-with-a-query"],
)
async def test_get_never_runs_a_mutation(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    executions: list[str],
    accept: str,
    query: str,
    name: str | None,
) -> None:
    params = {"query": query} | ({"operationName": name} if name else {})
    response = await client.get("/graphql", params=params, headers={**admin, "Accept": accept})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "mutations with POST" in answer(response)["errors"][0]["message"]
    assert executions == []
    # Selecting the document's query passes the GET rule (then validation refuses the
    # mutation this schema lacks: a 200 with errors under application/json).
    if name:
        ok = await client.get(
            "/graphql", params={"query": query, "operationName": "Q"}, headers=admin
        )
        assert ok.status_code == 200
        assert "mutation" in answer(ok)["errors"][0]["message"].lower()


async def test_cookies_are_not_credentials(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    token = admin["Authorization"].removeprefix("Bearer ")
    cookies = {"Authorization": admin["Authorization"], "token": token, "session": token}
    client.cookies.update(cookies)
    try:
        response = await client.get(
            "/graphql", params={"query": TYPENAME}, headers={"Accept": JSON}
        )
    finally:
        client.cookies.clear()
    assert response.status_code == 401


async def test_no_cors_preflight_is_granted(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/graphql",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code >= 400
    assert not any(name.startswith("access-control-") for name in preflight.headers)


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_anonymous_introspection_is_401_before_parsing(
    client: httpx.AsyncClient, executions: list[str], method: str
) -> None:
    # Not even valid GraphQL: a 401 proves nothing was parsed.
    query = "{ __schema { types { name } } } }}} {"
    if method == "GET":
        response = await client.get("/graphql", params={"query": query}, headers={"Accept": JSON})
    else:
        response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 401
    assert codes(response) == ["UNAUTHENTICATED"]
    assert b"__schema" not in response.content
    assert b"Syntax" not in response.content
    assert executions == []


async def test_suggestions_for_authenticated_callers_only(
    client: httpx.AsyncClient, admin: dict[str, str], api_key: dict[str, str]
) -> None:
    query = {"query": "{ workspaces { nodes { nam } } }"}
    anonymous = await client.post("/graphql", json=query)
    assert anonymous.status_code == 401
    assert b"Did you mean" not in anonymous.content
    for headers in (admin, api_key):
        signed_in = await client.post("/graphql", json=query, headers=headers)
        assert "Did you mean 'name'?" in answer(signed_in)["errors"][0]["message"]


async def test_batches_are_refused_unless_enabled(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    batch = [{"query": TYPENAME}, {"query": TYPENAME}]
    for accept in (JSON, GRAPHQL_RESPONSE):
        response = await client.post("/graphql", json=batch, headers={**admin, "Accept": accept})
        assert response.status_code == 400
        assert "batching is off" in answer(response)["errors"][0]["message"]
    anonymous = await client.post("/graphql", json=batch)
    assert anonymous.status_code == 401
    assert executions == []
