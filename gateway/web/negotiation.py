"""Media types of ``/graphql`` (GraphQL over HTTP): content negotiation and request-error statuses.

A response is ``application/graphql-response+json`` or ``application/json``, whichever the
``Accept`` header prefers (q-values honoured, equal preference and ``*/*`` give
``application/json``, a missing header too); an ``Accept`` naming neither gets 406. The media
type decides the status of a *GraphQL request error* (a document that does not parse or
validate, variables that do not coerce, an unknown or untrusted persisted query: nothing
executed): ``application/json`` answers 200 as legacy clients expect, while
``application/graphql-response+json`` answers a 4xx without a ``data`` entry, as the
GraphQL-over-HTTP specification asks. Malformed HTTP requests (bad JSON, a ``query`` that is
not a string...) get a 4xx under both.

Example:
    >>> negotiate("application/graphql-response+json, application/json;q=0.9")
    'application/graphql-response+json'
    >>> negotiate("APPLICATION/GRAPHQL-RESPONSE+JSON")
    'application/graphql-response+json'
    >>> negotiate(None), negotiate("*/*"), negotiate("text/html")
    ('application/json', 'application/json', None)
    >>> error_status(GRAPHQL_RESPONSE, 404), error_status(JSON, 404)
    (404, 200)
"""

from __future__ import annotations

from functools import lru_cache

import mimeparse
from starlette.types import Scope

from gateway.web.request_state import request_state

GRAPHQL_RESPONSE = "application/graphql-response+json"
"""The GraphQL-over-HTTP response media type (4xx statuses for request errors)."""
JSON = "application/json"
"""The legacy media type (status 200 for request errors); the default."""

# On equal preference mimeparse picks the later entry: JSON, the safe choice for old clients.
_OFFERED = [GRAPHQL_RESPONSE, JSON]

NOT_ACCEPTABLE = f"responses are {GRAPHQL_RESPONSE} or {JSON}: the Accept header allows neither"


@lru_cache(maxsize=256)
def negotiate(accept: str | None) -> str | None:
    """The response media type for an ``Accept`` header, or None when it allows neither (406);
    an unparsable header also gets None. Memoized: clients repeat the same few headers."""
    if accept is None or not accept.strip():
        return JSON
    try:
        # Media types are case-insensitive (RFC 9110 §8.3.1); mimeparse compares them as given.
        chosen: str = mimeparse.best_match(_OFFERED, accept.lower())
    except mimeparse.MimeTypeParseException:
        return None
    return chosen or None


def scope_media_type(scope: Scope) -> str:
    """The media type the ``/graphql`` view negotiated for ``scope`` (JSON when it did not)."""
    return request_state(scope).media_type or JSON


def error_status(media_type: str, status: int) -> int:
    """The HTTP status of a GraphQL request error that would be ``status`` (4xx) under
    ``application/graphql-response+json``: 200 under ``application/json``."""
    return status if media_type == GRAPHQL_RESPONSE else 200
