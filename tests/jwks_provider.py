"""An identity provider's JSON Web Key Set endpoint in a thread, for tests: the keys it
serves, whether it is up, ``Cache-Control``, the fetches it saw.

Example:
    >>> with jwks_endpoint() as provider:                                  # doctest: +SKIP
    ...     provider.keys = [public_jwk("k1", private)]
    ...     token = sign("k1", private, {"sub": "alice", "grants": [...], "exp": ...})
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.http_thread import serving

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def algorithm_of(private: PrivateKey) -> str:
    """RS256 for an RSA key, ES256 for an EC one."""
    return "RS256" if isinstance(private, rsa.RSAPrivateKey) else "ES256"


def public_jwk(kid: str, private: PrivateKey) -> dict[str, Any]:
    """The public JWK of ``private`` (PyJWT's own encoding), named ``kid``."""
    algorithm = jwt.get_algorithm_by_name(algorithm_of(private))
    return {**algorithm.to_jwk(private.public_key(), as_dict=True), "kid": kid}


def sign(kid: str, private: PrivateKey, claims: Mapping[str, Any]) -> str:
    """A JWT of ``claims`` signed by ``private``, its header naming ``kid``."""
    return jwt.encode(dict(claims), private, algorithm=algorithm_of(private), headers={"kid": kid})


@dataclass
class Provider:
    """A JWKS endpoint in a thread: what it serves, whether it is up, the fetches it saw."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    up: bool = True
    cache_control: str | None = None
    hits: int = 0
    url: str = ""


@contextmanager
def jwks_endpoint() -> Iterator[Provider]:
    """Serve a :class:`Provider` at ``provider.url`` until the block ends."""
    state = Provider()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits += 1
            if not state.up:
                self.send_error(503)
                return
            body = json.dumps({"keys": state.keys}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if state.cache_control:
                self.send_header("Cache-Control", state.cache_control)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler) as base:
        state.url = f"{base}/jwks.json"
        yield state
