"""Layer (b) of the snapshot cache: whole ``/graphql`` responses, served before parsing.

A response is keyed by everything that can change its bytes: the document's SHA-256, the
operation name, the canonical variables, the HTTP method, the caller's effective grants
(:attr:`Principal.grants_key`), the role matrix's version, the query limits' version (a limit
lowered by configuration must not be bypassed by a warm cache), the UTC date (presets are
relative to it) and the data's :class:`~gateway.store.generation.Generation` (snapshot and
catalog version). A hit therefore never crosses scopes: two callers share an entry only when
they hold the same grants. A document that may select ``viewer`` (the caller's subject and
credential kind, not only its grants) is also keyed by the subject and credential kind.
Concurrent misses of one key compute once (the cache's single flight).

Stored: status 200 responses whose errors (if any) are all ``FORBIDDEN`` or ``NOT_FOUND``
(deterministic for the scope) and that read the tracker's snapshot; never other errors. An
entry lives until the next snapshot is due plus ``GATEWAY_CACHE_GRACE_SECONDS``.

Every JSON response gets ``extensions.cache`` (``hit``, ``shared``: waited for an identical
request's computation) and ``extensions.snapshot`` (``id``, ``takenAt``), next to the
``extensions.cost`` of the operation (:mod:`gateway.limits.cost_limit`), which is stored with
the entry: a hit reports the cost of the request that computed it, the same document and
variables.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from cachetools import LRUCache
from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from gateway.authz.principal import Principal
from gateway.cache.keys import cache_key
from gateway.cache.sized import MEMO_MAX_BYTES, SizedLRU, size_of_parts
from gateway.cache.snapshot_cache import SnapshotCache
from gateway.loaders.snapshot import Snapshot
from gateway.store.generation import Generation, GenerationTracker
from gateway.web.body import replay
from gateway.web.negotiation import scope_media_type
from gateway.web.persisted import Documents, cacheable_document, no_documents
from gateway.web.request_state import request_state

LAYER = "response"
CACHEABLE_CODES = frozenset({"FORBIDDEN", "NOT_FOUND"})
_UNPARSED: Any = object()
"""Marks a body not parsed yet (None is a parsed, uncacheable one)."""
VIEWER_FIELD = "viewer"
"""``Query.viewer`` answers the caller's subject and credential kind, not only its grants."""

Execute = Callable[[Scope, Receive, Send], Awaitable[None]]
Report = Callable[[], dict[str, object]]
"""Extra ``extensions`` entries of an answer, known once it is computed."""


@dataclass(frozen=True, slots=True)
class Operation:
    """What identifies a GraphQL request, for the key."""

    document_sha: str
    operation_name: str
    variables: str
    method: str
    personal: bool = False
    """The document may select ``viewer``: the answer depends on the caller, not only on its
    grants."""


def parse_operation(
    method: str,
    body: bytes,
    params: Any,
    content_type: str,
    documents: Documents = no_documents,
) -> Operation | None:
    """The operation of a GET or JSON POST request; None when it is not cacheable (other
    content types, batches, extensions other than a persisted query whose document
    ``documents`` knows, malformed bodies)."""
    if method == "GET":
        data, raw = params, params.get("variables")
        try:
            variables = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            return None
    elif method == "POST" and content_type.split(";")[0].strip().lower() == "application/json":
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(data, dict):
            return None
        variables = data.get("variables")
    else:
        return None
    query, name = cacheable_document(data, documents), data.get("operationName")
    if not isinstance(query, str) or not isinstance(name, str | None):
        return None
    if not isinstance(variables, dict | None):
        return None
    canonical = canonical_variables(variables)
    sha = hashlib.sha256(query.encode()).hexdigest()
    # A field name cannot be escaped or aliased away in the document's text, so a document
    # without "viewer" never selects it (a false positive only narrows sharing).
    return Operation(sha, name or "", canonical, method, personal=VIEWER_FIELD in query)


@dataclass
class Captured:
    """A response as the view sent it."""

    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)
    snapshot: Snapshot | None = None

    @property
    def body(self) -> bytes:
        """The whole body."""
        return b"".join(self.chunks)


async def capture(execute: Execute, scope: Scope, body: bytes, receive: Receive) -> Captured:
    """Run ``execute`` on a replay of ``body`` and keep what it sends."""
    captured = Captured()

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            captured.status = message["status"]
            captured.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            captured.chunks.append(message.get("body", b""))

    await execute(scope, replay(body, receive), keep)
    state = request_state(scope)
    captured.snapshot, state.snapshot_read = state.snapshot_read, None
    return captured


_COST = b'"extensions":{"cost":'


def stored_cost(value: bytes) -> int | None:
    """The ``extensions.cost`` of a stored answer (it opens the closing ``extensions``),
    read without parsing the body."""
    start = value.rfind(_COST)
    if start < 0:
        return None
    digits = value[start + len(_COST) : start + len(_COST) + 20].split(b",")[0].split(b"}")[0]
    return int(digits) if digits.isdigit() else None


def _parsed(body: bytes) -> dict[str, Any] | None:
    """``body`` as a JSON object, or None."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


def scoped_errors_only(errors: list[dict[str, Any]]) -> bool:
    """True when every error of an answer is ``FORBIDDEN`` or ``NOT_FOUND``: deterministic for
    the caller's scope, so the answer may be stored (any other error may not)."""
    return all((e.get("extensions") or {}).get("code") in CACHEABLE_CODES for e in errors)


def canonical_variables(variables: dict[str, Any] | None) -> str:
    """``variables`` as canonical JSON (keys sorted): equal variables, equal text."""
    return orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS).decode()


def caller_part(principal: Principal, personal: bool) -> str:
    """The caller's part of a key: its credential kind and subject when the answer is
    ``personal`` (the document may select ``viewer``), else "" (its grants decide alone).
    JSON-encoded: a subject cannot smuggle a separator in."""
    return orjson.dumps([principal.via, principal.subject]).decode() if personal else ""


def cacheable(captured: Captured, generation: Generation) -> bool:
    """True when ``captured`` may be stored under ``generation`` (see the module doc): an
    executed operation's answer, so its ``extensions`` (the cost) end the body."""
    if captured.status != 200:
        return False
    if captured.snapshot is not None and captured.snapshot.id != generation.snapshot.id:
        return False
    parsed = _parsed(captured.body)
    if parsed is None or not isinstance(parsed.get("extensions"), dict):
        return False
    return scoped_errors_only(parsed.get("errors") or [])


def with_extensions(body: bytes, extensions: dict[str, object], merge: bool = False) -> bytes:
    """``body`` with ``extensions`` added: merged into its own top-level ``extensions`` when
    ``merge`` (the view writes that object last, so it closes the body), else as a new
    member (``body`` then has none)."""
    if not body.endswith(b"}"):
        return body
    return body[: -2 if merge else -1] + _suffix(extensions, merge)


def _suffix(extensions: dict[str, object], merge: bool = True) -> bytes:
    """What :func:`with_extensions` puts in place of a body's closing brace(s)."""
    encoded = orjson.dumps(extensions)
    if merge:
        return b"," + encoded[1:-1] + b"}}"
    return b',"extensions":' + encoded + b"}"


def snapshot_extension(snapshot: Snapshot) -> dict[str, object]:
    """``extensions.snapshot`` of an answer that read ``snapshot``: its id and time (UTC)."""
    taken = snapshot.taken_at.isoformat().replace("+00:00", "Z") if snapshot.taken_at else None
    return {"id": snapshot.id, "takenAt": taken}


@dataclass(frozen=True, slots=True)
class Located:
    """Where a request's answer is cached, and what that place depends on besides the
    request: the data's generation and the UTC day (as a proleptic ordinal) it was made for."""

    key: str
    generation: Generation
    day: int
    operation_name: str = ""
    """The request's ``operationName`` (for the access log)."""


def _operation_size(key: tuple[str, str, bytes], operation: Operation | None) -> int:
    """Bytes of a parsed-body memo entry: the body twice (raw, and what was parsed of it)."""
    return size_of_parts(key, key[2])


@dataclass
class ResponseCache:
    """Serves ``/graphql`` requests through the cache (see the module docstring)."""

    cache: SnapshotCache
    tracker: GenerationTracker
    matrix_version: str
    refresh_interval: float
    grace_seconds: float
    _operations: SizedLRU[tuple[str, str, bytes], Operation | None] = field(
        default_factory=lambda: SizedLRU(MEMO_MAX_BYTES, _operation_size), init=False, repr=False
    )
    _hit_suffix: LRUCache[Generation, bytes] = field(
        default_factory=lambda: LRUCache(maxsize=16), init=False, repr=False
    )
    limits_version: str = ""
    """:attr:`gateway.limits.rules.QueryLimits.version` of the schema behind ``execute``."""
    documents: Documents = no_documents
    """The document of a persisted-query hash this process knows (APQ requests)."""

    async def handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        execute: Execute,
        principal: Principal,
        report: Report | None = None,
    ) -> str:
        """Answer the request; returns the cache outcome (``hit``, ``shared``, ``miss``,
        ``bypass``). ``report`` adds its entries (the cost budget's ``rateLimit``) to the
        ``extensions`` added to the answer, as they are once it is computed."""
        request = Request(scope, receive)
        body = await request.body() if request.method == "POST" else b""
        content_type = request.headers.get("content-type", "")
        raw = (request.method, content_type, body or scope.get("query_string", b""))
        # Dashboards repeat identical bodies: parse each distinct one once per process.
        operation = self._operations.get(raw, _UNPARSED)
        if operation is _UNPARSED:
            operation = parse_operation(
                request.method, body, request.query_params, content_type, self.documents
            )
            self._operations[raw] = operation
        if operation is None:
            captured = await capture(execute, scope, body, receive)
            await self._send(send, captured.status, captured.headers, captured.body)
            return "bypass"
        # Named for the access line and the trace (execution, if any, names it again).
        request_state(scope).cost.operation = operation.operation_name or None
        generation = await self.tracker.current()
        now = dt.datetime.now(dt.UTC)
        key = self._key(generation.token, now, principal, operation)
        mine: list[Captured] = []

        async def compute() -> bytes | None:
            captured = await capture(execute, scope, body, receive)
            mine.append(captured)
            return captured.body if cacheable(captured, generation) else None

        ttl = generation.snapshot.entry_ttl(self.refresh_interval, self.grace_seconds, now)
        result = await self.cache.get_or_compute(LAYER, key, compute, ttl)
        if result.value is not None:
            snapshot = generation.snapshot
            if mine and mine[0].snapshot is not None:
                snapshot = mine[0].snapshot
            extensions = {
                "cache": {"hit": result.hit, "shared": result.shared},
                "snapshot": snapshot_extension(snapshot),
                **(report() if report is not None else {}),
            }
            # The negotiated media type: never frozen into the entry (it holds the body only).
            headers = [(b"content-type", scope_media_type(scope).encode())]
            # Stored values are executed answers: their own extensions (the cost) close them.
            await self._send(send, 200, headers, with_extensions(result.value, extensions, True))
            return "hit" if result.hit else ("shared" if result.shared else "miss")
        # Not cacheable: this caller computed it, or waited for one who did (then ask again).
        captured = mine[0] if mine else await capture(execute, scope, body, receive)
        body = captured.body
        parsed = _parsed(body) if captured.status == 200 else None
        if parsed is not None:
            extensions = {
                "cache": {"hit": False, "shared": False},
                "snapshot": snapshot_extension(captured.snapshot or generation.snapshot),
                **(report() if report is not None else {}),
            }
            body = with_extensions(body, extensions, merge="extensions" in parsed)
        await self._send(send, captured.status, captured.headers, body)
        return "miss"

    async def locate(
        self, principal: Principal, method: str, content_type: str, body: bytes
    ) -> Located | None:
        """Where the answer to a request seen before is cached, or None (first sight:
        :meth:`handle` parses and remembers it; or not cacheable).

        For the fast path of :mod:`gateway.web.cache_fast_path`: the same key as :meth:`handle`,
        from the raw request, without building a Starlette request.
        """
        operation = self._operations.get((method, content_type, body), _UNPARSED)
        if operation is _UNPARSED or operation is None:
            return None
        generation = await self.tracker.current()
        now = dt.datetime.now(dt.UTC)
        key = self._key(generation.token, now, principal, operation)
        return Located(key, generation, now.date().toordinal(), operation.operation_name)

    def answer(self, key: str, generation: Generation) -> bytes | None:
        """The cached answer under ``key`` (``extensions`` included) if this process holds it
        (the in-process cache or the near copy of Redis: no I/O), else None."""
        value = self.peek(key)
        return None if value is None else self.dress(value, generation)

    def peek(self, key: str) -> bytes | None:
        """The stored value under ``key`` if this process holds it (no I/O), else None."""
        return self.cache.peek(LAYER, key)

    def dress(
        self, value: bytes, generation: Generation, extra: dict[str, object] | None = None
    ) -> bytes:
        """A stored ``value`` as a hit answers it: with ``extensions.cache``,
        ``extensions.snapshot`` and the ``extra`` entries (one copy of the body)."""
        suffix = self._hit_suffix.get(generation)
        if suffix is None:  # once per generation: the same extensions on every hit
            extensions = {
                "cache": {"hit": True, "shared": False},
                "snapshot": snapshot_extension(generation.snapshot),
            }
            suffix = self._hit_suffix[generation] = _suffix(extensions)
        if not value.endswith(b"}}"):
            return value
        body = memoryview(value)[:-2]  # a view: the join below is the body's only copy
        if extra:  # the extra entries, then the generation's suffix
            return b"".join((body, _suffix(extra)[:-2], suffix))
        return b"".join((body, suffix))

    def _key(
        self, generation: str, now: dt.datetime, principal: Principal, operation: Operation
    ) -> str:
        """The response's key (see the module docstring)."""
        return cache_key(
            LAYER,
            generation,
            now.date().isoformat(),
            self.matrix_version,
            self.limits_version,
            principal.grants_key,
            caller_part(principal, operation.personal),
            operation.document_sha,
            operation.operation_name,
            operation.variables,
            operation.method,
        )

    @staticmethod
    async def _send(
        send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> None:
        kept = [(k, v) for k, v in headers if k.lower() != b"content-length"]
        kept.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": kept})
        await send({"type": "http.response.body", "body": body})
