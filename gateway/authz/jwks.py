"""An identity provider's JSON Web Key Set (``GATEWAY_JWT_JWKS_URL``): fetched, cached, refreshed.

RS256/ES256 tokens name their key with the header's ``kid``; :class:`KeySet` holds the keys of
the set by ``kid`` (parsed by PyJWT's :class:`jwt.PyJWKSet`; only RSA keys of 2,048+ bits and
EC P-256 keys meant for signatures are kept, never a symmetric ``oct`` key).

When the set is fetched:

* **An unknown kid** (:meth:`KeySet.ensure`, awaited before a token is verified): the set is
  fetched again, at most once per ``GATEWAY_JWT_JWKS_MIN_REFRESH_SECONDS`` whatever the kids
  asked for, so a flood of tokens with random kids costs the identity provider one request
  per interval; a kid still unknown afterwards is refused (401, 4403 over WebSocket).
* **An expired set** (``Cache-Control: max-age`` of the answer, else
  ``GATEWAY_JWT_JWKS_TTL_SECONDS``): the next lookup starts a refresh in the background and
  keeps answering from the keys it has meanwhile.
* **Never on the event loop**: PyJWT's fetch is synchronous (urllib), so it runs in a thread
  (:func:`asyncio.to_thread`), bounded by :data:`FETCH_TIMEOUT_SECONDS`; concurrent requests
  that need the same fetch await the one in flight.

An unreachable or broken endpoint is logged and changes nothing: the cached keys keep
verifying, unknown kids are refused. Each process keeps its own set (:func:`key_set`).

:attr:`KeySet.generation` counts the refreshes that removed or changed a key: a verified
token remembered under an older generation is verified again (see
:func:`gateway.authz.tokens.verify_token_window`), so a key the provider withdrew stops
verifying its tokens at the refresh that drops it, memo or not.

Example:
    >>> keys = KeySet("https://idp.example/.well-known/jwks.json", ttl=3600, min_refresh=30)
    >>> await keys.ensure("2024-06")  # fetches the set once (in a thread)
    >>> keys.key("2024-06").algorithm_name
    'RS256'
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

logger = logging.getLogger("gateway.jwks")

FETCH_TIMEOUT_SECONDS = 5.0
"""Longest one fetch of the key set may take (connect and read)."""

MAX_SET_BYTES = 1 << 20
"""Largest key set read (a set of a few keys is a few KiB)."""

SIGNING_ALGORITHMS = frozenset({"RS256", "ES256"})
"""Algorithms a key of the set may verify."""

Fetched = tuple[dict[str, Any], float | None]
"""A fetched set: its JSON object, and the answer's ``Cache-Control`` max-age (None: none)."""

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?", re.IGNORECASE)


def fetch_url(url: str) -> Fetched:
    """GET the set at ``url`` (blocking; run in a thread). Raises on any failure."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as answer:
        body = answer.read(MAX_SET_BYTES + 1)
        cache_control = answer.headers.get("Cache-Control", "")
    if len(body) > MAX_SET_BYTES:
        raise ValueError(f"the key set is larger than {MAX_SET_BYTES} bytes")
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("the key set is not a JSON object")
    match = _MAX_AGE.search(cache_control)
    return data, float(match.group(1)) if match else None


def _usable(key: jwt.PyJWK) -> bool:
    """True for a signing key of an allowed algorithm (RSA of 2,048+ bits, EC P-256)."""
    if key.key_id is None or key.public_key_use not in (None, "sig"):
        return False
    if key.algorithm_name not in SIGNING_ALGORITHMS:
        return False
    return not (isinstance(key.key, rsa.RSAPublicKey) and key.key.key_size < 2048)


def parse_set(data: Mapping[str, Any]) -> dict[str, tuple[jwt.PyJWK, str]]:
    """The usable keys of a JWKS object by kid, each with its canonical JSON (to compare)."""
    keys: dict[str, tuple[jwt.PyJWK, str]] = {}
    for item in data.get("keys") or []:
        try:
            key = jwt.PyJWK.from_dict(item)
        except (jwt.PyJWTError, TypeError, ValueError, KeyError):
            continue  # a key of an unsupported type or a broken one: the others still serve
        if _usable(key) and key.key_id not in keys:
            keys[str(key.key_id)] = (key, json.dumps(item, sort_keys=True))
    return keys


class KeySet:
    """The keys of one JWKS URL in this process (see the module docstring).

    Args:
        url: The set's address.
        ttl: Seconds a fetched set is used without a ``Cache-Control: max-age``.
        min_refresh: Least seconds between two fetches.
        fetch: Fetches the set (blocking; tests pass their own).
        clock: Monotonic clock in seconds (tests pass a fake).
    """

    def __init__(
        self,
        url: str,
        ttl: float,
        min_refresh: float,
        fetch: Callable[[str], Fetched] = fetch_url,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url, self.ttl, self.min_refresh = url, ttl, min_refresh
        self._fetch, self._clock = fetch, clock
        self._keys: dict[str, tuple[jwt.PyJWK, str]] = {}
        self._expires = -math.inf
        self._attempted = -math.inf
        self._inflight: asyncio.Task[None] | None = None
        self.generation = 0
        """Refreshes so far that removed or changed a key."""
        self.fetches = 0
        """Fetches attempted so far (successful or not)."""

    def key(self, kid: str) -> jwt.PyJWK | None:
        """The key named ``kid`` (None: unknown); starts a background refresh when the set
        has expired (within a running event loop)."""
        if self._clock() >= self._expires:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None and self._may_fetch():
                self._start(loop)
        known = self._keys.get(kid)
        return known[0] if known else None

    async def ensure(self, kid: str) -> None:
        """Fetch the set when ``kid`` is unknown and the last fetch is old enough; await a
        fetch already in flight. Never raises: a failed fetch is logged."""
        if kid in self._keys and self._clock() < self._expires:
            return
        task = self._inflight
        loop = asyncio.get_running_loop()
        if task is None or task.done() or task.get_loop() is not loop:
            if kid in self._keys or not self._may_fetch():
                self.key(kid)  # a known kid of an expired set: refreshed in the background
                return
            task = self._start(loop)
        await asyncio.shield(task)

    def _may_fetch(self) -> bool:
        return self._clock() - self._attempted >= self.min_refresh

    def _start(self, loop: asyncio.AbstractEventLoop) -> asyncio.Task[None]:
        self._attempted = self._clock()
        self.fetches += 1
        self._inflight = loop.create_task(self._refresh())
        return self._inflight

    async def _refresh(self) -> None:
        try:
            data, max_age = await asyncio.to_thread(self._fetch, self.url)
            keys = parse_set(data)
        except Exception as exc:  # the endpoint is down or answers garbage: keep what we have
            logger.warning(
                "JWKS %s could not be fetched (%s): keeping %d cached keys; unknown kids are "
                "refused",
                self.url,
                exc,
                len(self._keys),
            )
            return
        self._install(keys, self.ttl if max_age is None else max_age)

    def _install(self, keys: dict[str, tuple[jwt.PyJWK, str]], lifetime: float) -> None:
        old = self._keys
        # An unchanged key keeps its object; a removed or changed one ends a generation.
        merged = {
            kid: old[kid] if old.get(kid, (None, ""))[1] == text else (key, text)
            for kid, (key, text) in keys.items()
        }
        if any(merged.get(kid, (None, ""))[1] != text for kid, (_, text) in old.items()):
            self.generation += 1
        self._keys = merged
        self._expires = self._clock() + max(lifetime, self.min_refresh)
        if not keys:
            logger.warning("JWKS %s holds no usable RS256/ES256 signing key", self.url)


_SETS: dict[tuple[str, float, float], KeySet] = {}
"""This process's key sets, by URL, lifetime and refresh bound."""


def key_set(url: str, ttl: float, min_refresh: float) -> KeySet:
    """The process's :class:`KeySet` for ``url`` (created on first use)."""
    spec = (url, ttl, min_refresh)
    found = _SETS.get(spec)
    if found is None:
        found = _SETS[spec] = KeySet(url, ttl, min_refresh)
    return found
