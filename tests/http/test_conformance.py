"""GraphQL over HTTP: content negotiation, request-error statuses per media type, malformed
parameters, and the negotiated media type on cached answers (full path and fast path)."""

from __future__ import annotations

import httpx
import pytest

from tests.http.support import (
    GRAPHQL_RESPONSE,
    JSON,
    TYPENAME,
    WORKSPACES,
    answer,
    media_type,
    post,
)
from tests.limits.support import codes


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("*/*", JSON),
        (JSON, JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.5, {JSON}", JSON),
        ("application/*", JSON),
    ],
)
async def test_media_type_follows_accept(
    client: httpx.AsyncClient, admin: dict[str, str], accept: str | None, expected: str
) -> None:
    response = await post(client, {"query": TYPENAME}, admin, accept)
    assert response.status_code == 200
    assert media_type(response) == expected
    assert answer(response)["data"] == {"__typename": "Query"}


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "nonsense;;"])
async def test_unacceptable_accept_is_406(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str], accept: str
) -> None:
    response = await post(client, {"query": TYPENAME}, admin, accept)
    assert response.status_code == 406
    assert "Accept header" in answer(response)["errors"][0]["message"]
    assert executions == []


REQUEST_ERRORS = {
    "syntax": {"query": "{"},
    "validation": {"query": "{ noSuchField }"},
    "coercion": {"query": "query Q($id: ID!) { __typename }", "variables": {"id": None}},
    "too-complex": {"query": "{ " + " ".join(f"a{i}: __typename" for i in range(16)) + " }"},
}


@pytest.mark.parametrize("body", REQUEST_ERRORS.values(), ids=REQUEST_ERRORS.keys())
async def test_request_errors_are_400_without_data_under_graphql_response_json(
    client: httpx.AsyncClient, admin: dict[str, str], body: dict[str, object]
) -> None:
    strict = await post(client, body, admin, GRAPHQL_RESPONSE)
    assert strict.status_code == 400
    assert media_type(strict) == GRAPHQL_RESPONSE
    assert "data" not in answer(strict)
    assert answer(strict)["errors"]
    legacy = await post(client, body, admin, JSON)
    assert legacy.status_code == 200  # application/json: 200 for every well-formed request
    assert answer(legacy)["errors"]


async def test_field_errors_keep_200_and_data(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await post(
        client, {"query": '{ workspace(id: "nope") { id } }'}, admin, GRAPHQL_RESPONSE
    )
    assert response.status_code == 200
    assert "data" in answer(response)
    assert codes(response) == ["NOT_FOUND"]


MALFORMED = {
    "empty": b"",
    "not-json": b'{ "not a JSON',
    "array-item": b"[1]",
    "scalar": b"7",
    "no-query": b'{"qeury": "{ __typename }"}',
    "query-object": b'{"query": {"obj": "ect"}}',
    "name-number": b'{"query": "{ __typename }", "operationName": 0}',
    "variables-string": b'{"query": "{ __typename }", "variables": "x"}',
    "extensions-array": b'{"query": "{ __typename }", "extensions": ["x"]}',
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE])
async def test_malformed_requests_are_400(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    executions: list[str],
    body: bytes,
    accept: str,
) -> None:
    headers = {**admin, "Content-Type": JSON, "Accept": accept}
    response = await client.post("/graphql", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert codes(response) == ["BAD_USER_INPUT"]
    assert executions == []


async def test_get_with_bad_variables_json_is_400(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    params = {"query": TYPENAME, "variables": "{nope"}
    response = await client.get("/graphql", params=params, headers={**admin, "Accept": JSON})
    assert response.status_code == 400
    assert "`variables` parameter is not valid JSON" in answer(response)["errors"][0]["message"]


@pytest.mark.parametrize("first", [JSON, GRAPHQL_RESPONSE])
async def test_cached_answers_carry_the_negotiated_media_type(
    client: httpx.AsyncClient, admin: dict[str, str], first: str
) -> None:
    other = GRAPHQL_RESPONSE if first == JSON else JSON
    miss = await post(client, {"query": WORKSPACES}, admin, first)
    assert media_type(miss) == first
    # The second is served by the full path's cache lookup or the in-process fast path, the
    # third by the fast path: both must answer in each request's own media type.
    for accept in (other, first, other):
        hit = await post(client, {"query": WORKSPACES}, admin, accept)
        assert hit.status_code == 200
        assert answer(hit)["extensions"]["cache"]["hit"] is True
        assert media_type(hit) == accept
    get_hit = await client.get(
        "/graphql", params={"query": WORKSPACES}, headers={**admin, "Accept": other}
    )
    assert media_type(get_hit) == other
