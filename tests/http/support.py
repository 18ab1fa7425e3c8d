"""Requests of the GraphQL-over-HTTP tests: media types, persisted-query bodies, answers."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import orjson

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
TYPENAME = "{ __typename }"
WORKSPACES = "query Names { workspaces(first: 5) { totalCount nodes { id name } } }"


def sha256(document: str) -> str:
    """The APQ hash of ``document``."""
    return hashlib.sha256(document.encode()).hexdigest()


def apq(document: str, *, with_query: bool = False, **extra: Any) -> dict[str, Any]:
    """An automatic persisted query body: the hash alone, or the hash and the query."""
    body: dict[str, Any] = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(document)}},
        **extra,
    }
    if with_query:
        body["query"] = document
    return body


async def post(
    http: httpx.AsyncClient, body: object, headers: dict[str, str], accept: str | None = JSON
) -> httpx.Response:
    """POST ``body`` as JSON to ``/graphql`` with ``headers`` and ``Accept: accept`` (no
    ``Accept`` header when None)."""
    extra = {} if accept is None else {"Accept": accept}
    return await http.post("/graphql", json=body, headers={**headers, **extra})


def answer(response: httpx.Response) -> dict[str, Any]:
    """The decoded JSON object of a response."""
    decoded: dict[str, Any] = orjson.loads(response.content)
    return decoded


def media_type(response: httpx.Response) -> str:
    """The response's media type (without parameters)."""
    return response.headers["content-type"].split(";")[0].strip()
