"""Automatic persisted queries over HTTP (Apollo's protocol): unknown hash, registration,
hash-only runs (POST and GET), a mismatched hash, storage in Redis, the response cache."""

from __future__ import annotations

import datetime as dt

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from gateway.authz.tokens import mint_token
from gateway.cache.keys import cache_key
from gateway.roles import Grant, Role
from gateway.settings import Settings
from tests.conftest import REDIS_URL
from tests.http.support import (
    GRAPHQL_RESPONSE,
    JSON,
    TYPENAME,
    WORKSPACES,
    answer,
    apq,
    post,
    sha256,
)
from tests.limits.conftest import Serve
from tests.limits.support import codes, errors


@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_RESPONSE, 404)])
async def test_unknown_hash_asks_for_the_query(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    executions: list[str],
    accept: str,
    status: int,
) -> None:
    response = await post(client, apq(WORKSPACES), admin, accept)
    assert response.status_code == status
    # What Apollo clients test for before re-sending with the query.
    assert errors(response) == [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
    assert "data" not in answer(response)
    assert executions == []


async def test_registered_query_runs_by_hash_over_post_and_get(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    registered = await post(client, apq(WORKSPACES, with_query=True), admin)
    assert registered.status_code == 200, registered.text
    expected = answer(registered)["data"]
    assert "workspaces" in expected
    by_hash = await post(client, apq(WORKSPACES), admin)
    assert by_hash.status_code == 200
    assert answer(by_hash)["data"] == expected
    extensions = orjson.dumps(apq(WORKSPACES)["extensions"]).decode()
    over_get = await client.get(
        "/graphql", params={"extensions": extensions}, headers={**admin, "Accept": JSON}
    )
    assert over_get.status_code == 200, over_get.text
    assert answer(over_get)["data"] == expected


@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_RESPONSE, 400)])
async def test_hash_not_matching_the_query_is_refused(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    executions: list[str],
    accept: str,
    status: int,
) -> None:
    body = {**apq(TYPENAME), "query": WORKSPACES}
    response = await post(client, body, admin, accept)
    assert response.status_code == status
    assert codes(response) == ["BAD_USER_INPUT"]
    assert "sha256Hash does not match" in errors(response)[0]["message"]
    assert executions == []
    # Nothing was registered under the claimed hash.
    assert codes(await post(client, apq(TYPENAME), admin)) == ["PERSISTED_QUERY_NOT_FOUND"]


@pytest.mark.parametrize(
    "reference",
    [
        {"version": 2, "sha256Hash": sha256(TYPENAME)},
        {"version": 1, "sha256Hash": "not-hex"},
        {"version": 1},
        "hash",
    ],
    ids=["version-2", "not-hex", "no-hash", "not-an-object"],
)
async def test_malformed_persisted_query_is_400(
    client: httpx.AsyncClient, admin: dict[str, str], reference: object
) -> None:
    body = {"extensions": {"persistedQuery": reference}}
    response = await post(client, body, admin)
    assert response.status_code == 400
    assert codes(response) == ["BAD_USER_INPUT"]
    assert "persistedQuery" in errors(response)[0]["message"]


async def test_registered_documents_live_in_redis_for_every_process(
    serve: Serve, admin: dict[str, str], redis_client: aioredis.Redis
) -> None:
    async with serve(redis_url=REDIS_URL, persisted_query_ttl_seconds=3600) as first:
        assert (await post(first, apq(WORKSPACES, with_query=True), admin)).status_code == 200
    key = cache_key("apq", sha256(WORKSPACES))
    assert key.startswith("gw:v2:apq:")
    assert await redis_client.get(key) == WORKSPACES.encode()
    assert 3500 < await redis_client.ttl(key) <= 3600  # not tied to a snapshot
    # Another process (a fresh app) knows the hash through Redis.
    async with serve(redis_url=REDIS_URL) as second:
        response = await post(second, apq(WORKSPACES), admin)
    assert response.status_code == 200
    assert "workspaces" in answer(response)["data"]


async def test_persisted_queries_are_served_by_the_response_cache(
    client: httpx.AsyncClient, admin: dict[str, str], executions: list[str]
) -> None:
    plain = await post(client, {"query": WORKSPACES}, admin)
    assert answer(plain)["extensions"]["cache"]["hit"] is False
    registered = await post(client, apq(WORKSPACES, with_query=True), admin)
    by_hash = [await post(client, apq(WORKSPACES), admin) for _ in range(3)]
    # One execution: the APQ requests share the plain query's entry (same document hash).
    assert len(executions) == 1
    for response in (registered, *by_hash):
        assert response.status_code == 200
        assert answer(response)["extensions"]["cache"]["hit"] is True
        assert answer(response)["data"] == answer(plain)["data"]


async def test_hash_only_viewer_query_is_never_shared_between_callers(
    client: httpx.AsyncClient, app_settings: Settings
) -> None:
    grant = [Grant(Role.PLATFORM_ADMIN)]
    document = "{ viewer { subject } }"
    subjects = {}
    for subject in ("ann", "bob"):
        token = mint_token(app_settings, subject, grant, dt.timedelta(hours=1))
        headers = {"Authorization": f"Bearer {token}"}
        await post(client, apq(document, with_query=True), headers)
        response = await post(client, apq(document), headers)
        subjects[subject] = answer(response)["data"]["viewer"]["subject"]
    assert subjects == {"ann": "ann", "bob": "bob"}


async def test_text_that_is_not_graphql_is_never_stored(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    junk = "not graphql at all " * 1000
    response = await post(client, apq(junk, with_query=True), admin)
    assert response.status_code in (200, 400)
    assert codes(response)  # refused as a document, as without APQ
    by_hash = await post(client, apq(junk), admin)
    assert codes(by_hash) == ["PERSISTED_QUERY_NOT_FOUND"]  # nothing was stored


async def test_a_caller_stores_at_most_its_quota_of_documents(
    serve: Serve, admin: dict[str, str], app_settings: Settings
) -> None:
    other = {
        "Authorization": "Bearer "
        + mint_token(
            app_settings, "someone-else", [Grant(Role.PLATFORM_ADMIN)], dt.timedelta(minutes=5)
        )
    }
    documents = [f"query Q{i} {{ __typename }}" for i in range(4)]
    async with serve(persisted_queries_per_principal=3) as client:
        for document in documents:  # each runs, registered or not
            ran = await post(client, apq(document, with_query=True), admin)
            assert ran.status_code == 200, ran.text
        stored = [codes(await post(client, apq(d), admin)) == [] for d in documents]
        assert stored == [True, True, True, False]
        # Another caller has a quota of its own.
        assert (await post(client, apq(documents[3], with_query=True), other)).status_code == 200
        assert codes(await post(client, apq(documents[3]), admin)) == []
