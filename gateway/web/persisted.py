"""Automatic persisted queries (Apollo's APQ protocol) and the trusted-documents check.

A client sends ``extensions: {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}``
without ``query`` (POST, or GET with ``extensions`` as JSON text). A known hash runs its
document; an unknown one gets ``PersistedQueryNotFound`` (code ``PERSISTED_QUERY_NOT_FOUND``,
HTTP 404 under ``application/graphql-response+json``, 200 under ``application/json``), and the
client sends hash and query together: the gateway checks that the query's SHA-256 is the hash
(else ``BAD_USER_INPUT``), stores it and runs it.

Registered documents live in the snapshot cache's backend (Redis when ``GATEWAY_REDIS_URL`` is
set, so every worker knows them; in-process otherwise) under ``gw:v2:apq:<digest>``, not tied
to a snapshot, for ``GATEWAY_PERSISTED_QUERY_TTL_SECONDS``; each process also keeps the last
documents it saw, up to :data:`~gateway.cache.sized.MEMO_MAX_BYTES` (a hash names one
document forever, so that copy never goes stale). With a trusted-documents manifest
(:mod:`gateway.web.trusted`), listed hashes always resolve, and callers it binds run nothing
else.

Example:
    >>> persisted_hash({"persistedQuery": {"version": 1, "sha256Hash": "AB" * 32}})
    'abababababababababababababababababababababababababababababababab'
    >>> persisted_hash({"tracing": True}) is None
    True
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import orjson
from cachetools import LRUCache
from graphql import GraphQLError, parse
from prometheus_client import Counter

from gateway.authz.principal import Principal
from gateway.cache.keys import cache_key
from gateway.cache.sized import MEMO_MAX_BYTES, SizedLRU, size_of_parts
from gateway.cache.snapshot_cache import SnapshotCache
from gateway.errors import ErrorCode
from gateway.web.params import Params, RefusedError, bad_request
from gateway.web.ratelimit import rate_key
from gateway.web.trusted import TrustedDocuments, document_hash

LAYER = "apq"
"""Cache layer (key prefix and metrics label) of registered documents."""
CALLERS = 4096
"""Callers whose registrations each process counts (least recently seen forgotten first)."""
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"
"""The exact message Apollo clients look for before re-sending with the query."""
NOT_ALLOWED_MESSAGE = (
    "this operation is not in the trusted documents (GATEWAY_TRUSTED_DOCUMENTS_FILE): "
    "only listed operations run for this caller"
)
HASH_MISMATCH = "provided sha256Hash does not match the query's SHA-256"
_HEX64 = re.compile(r"[0-9a-f]{64}")

Documents = Callable[[str], str | None]
"""Looks up the document of a persisted-query hash without I/O (None when unknown)."""


APQ_REFUSED = Counter(
    "gateway_persisted_queries_refused_total",
    "APQ registrations not stored: the caller registered its quota of documents",
)


def _parses(document: str) -> bool:
    """True when ``document`` is GraphQL (what is stored must be a query, not any text)."""
    try:
        parse(document, max_tokens=MAX_PARSE_TOKENS)
    except GraphQLError:
        return False
    return True


MAX_PARSE_TOKENS = 100_000
"""Tokens a registered document may have (its request's own limits apply when it runs)."""


def persisted_hash(extensions: dict[str, Any] | None) -> str | None:
    """The ``sha256Hash`` of an APQ request (lowercased), None when it has no
    ``persistedQuery``; raises a 400 :class:`RefusedError` when that is malformed."""
    if not extensions or extensions.get("persistedQuery") is None:
        return None
    ref = extensions["persistedQuery"]
    if not isinstance(ref, dict) or ref.get("version") != 1:
        raise bad_request("extensions.persistedQuery must be {version: 1, sha256Hash: <hex>}")
    sha = ref.get("sha256Hash")
    if not isinstance(sha, str) or not _HEX64.fullmatch(sha.lower()):
        raise bad_request("extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits")
    return sha.lower()


def no_documents(sha: str) -> str | None:
    """Knows no document (a response cache without persisted queries)."""
    del sha
    return None


def cacheable_document(data: Any, documents: Documents) -> str | None:
    """The query of a request object, or the document of its persisted-query hash (APQ
    requests are cached like plain ones); None when other extensions could change the answer."""
    extensions = data.get("extensions")
    if isinstance(extensions, str):  # GET: JSON text
        try:
            extensions = orjson.loads(extensions)
        except orjson.JSONDecodeError:
            return None
    if not extensions:
        query = data.get("query")
        return query if isinstance(query, str) else None
    if not isinstance(extensions, dict) or set(extensions) != {"persistedQuery"}:
        return None
    try:
        sha = persisted_hash(extensions)
    except RefusedError:
        return None
    # The view checked a sent query against the hash before the cache sees the request.
    query = data.get("query")
    return query if isinstance(query, str) else (documents(sha) if sha else None)


def _not_allowed() -> RefusedError:
    return RefusedError(
        ErrorCode.PERSISTED_QUERY_NOT_ALLOWED, NOT_ALLOWED_MESSAGE, request_error=True
    )


class PersistedQueries:
    """Resolves the document of each ``/graphql`` operation (see the module docstring).

    Args:
        cache: The snapshot cache whose backend stores registered documents.
        ttl_seconds: How long a registered document is kept.
        trusted: The trusted documents, or None without a manifest.
    """

    def __init__(
        self,
        cache: SnapshotCache,
        ttl_seconds: float,
        trusted: TrustedDocuments | None,
        per_principal: int = 200,
    ) -> None:
        self._cache = cache
        self._ttl = ttl_seconds
        self._trusted = trusted
        self._local: SizedLRU[str, str] = SizedLRU(MEMO_MAX_BYTES, size_of_parts)
        self._per_principal = per_principal
        # principal key -> (window start, documents registered in it); bounded like the rest.
        self._registered: LRUCache[str, tuple[float, int]] = LRUCache(maxsize=CALLERS)

    def known(self, sha: str) -> str | None:
        """The document of ``sha`` if this process knows it (no I/O): the response cache's
        lookup for hash-only requests, which the view resolved just before."""
        if self._trusted is not None and sha in self._trusted.documents:
            return self._trusted.documents[sha]
        return self._local.get(sha)

    async def resolve(self, params: Params, principal: Principal) -> str:
        """The document ``params`` runs.

        Raises:
            RefusedError: No query and no persisted query (400), a malformed or mismatched hash
                (400), an unknown hash (``PERSISTED_QUERY_NOT_FOUND``), an operation the
                trusted documents do not list for this caller (``PERSISTED_QUERY_NOT_ALLOWED``).
        """
        sha = persisted_hash(params.extensions)
        bound = self._trusted is not None and self._trusted.binding(principal)
        if params.query is not None:
            actual = document_hash(params.query)
            if sha is not None and sha != actual:
                raise RefusedError(ErrorCode.BAD_USER_INPUT, HASH_MISMATCH, request_error=True)
            if bound and self._trusted_document(actual) is None:
                raise _not_allowed()
            if sha is not None and self.known(sha) is None:
                await self._register_for(principal, sha, params.query)
            return params.query
        if sha is None:
            raise bad_request("no `query`: send a GraphQL document (or a persisted query hash)")
        if bound:
            listed = self._trusted_document(sha)
            if listed is None:
                raise _not_allowed()
            return listed
        document = self.known(sha) or await self._load(sha)
        if document is None:
            raise RefusedError(
                ErrorCode.PERSISTED_QUERY_NOT_FOUND, NOT_FOUND_MESSAGE, request_error=True
            )
        return document

    async def _register_for(self, principal: Principal, sha: str, document: str) -> None:
        """Store ``document`` when ``principal`` has quota left in its TTL window and the text
        parses (junk is never stored; a query past the quota still runs, unstored)."""
        key, now = rate_key(principal, {}), time.monotonic()
        start, count = self._registered.get(key, (now, 0))
        if now - start >= self._ttl:  # a new window
            start, count = now, 0
        if count >= self._per_principal:
            APQ_REFUSED.inc()
            return
        if _parses(document):
            self._registered[key] = (start, count + 1)
            await self._register(sha, document)

    def _trusted_document(self, sha: str) -> str | None:
        return self._trusted.documents.get(sha) if self._trusted is not None else None

    async def _register(self, sha: str, document: str) -> None:
        self._local[sha] = document
        await self._cache.set_many(LAYER, {cache_key(LAYER, sha): document.encode()}, self._ttl)

    async def _load(self, sha: str) -> str | None:
        key = cache_key(LAYER, sha)
        found = (await self._cache.get_many(LAYER, [key])).get(key)
        if found is None:
            return None
        document = found.decode()
        if document_hash(document) != sha:  # never trust stored bytes blindly
            return None
        self._local[sha] = document
        return document
