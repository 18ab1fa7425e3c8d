"""CORS for browser pages on other origins: Starlette's :class:`CORSMiddleware`, configured.

Only the exact origins of ``GATEWAY_CORS_ORIGINS`` are answered; unset, no CORS header is ever
sent (the middleware is not installed) and browsers keep foreign pages out. Preflights
(``OPTIONS`` with ``Access-Control-Request-Method``) are answered by the middleware itself,
before any credentials are asked for.

``allow_credentials`` is off: callers authenticate with ``Authorization: Bearer`` or
``X-API-Key`` headers, which a page sends explicitly (and which are listed as allowed headers),
never with cookies; off, a browser attaches no ambient cookie or TLS client credential to a
cross-origin call, so an allowed origin cannot act with a user's session it never asked for.

Example:
    >>> cors_middleware(Settings(cors_origins="https://app.example"))[0].kwargs["allow_origins"]
    ('https://app.example',)
    >>> cors_middleware(Settings())
    []
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from gateway.settings import Settings

ALLOW_METHODS = ("GET", "POST", "OPTIONS")
"""Methods a foreign page may use: GraphQL over GET and POST, and the preflight itself."""

ALLOW_HEADERS = ("Authorization", "Content-Type", "X-API-Key", "X-Request-Id")
"""Request headers a foreign page may send: credentials, the body's media type, and the
request id the gateway echoes (``Accept`` and the other CORS-safelisted headers need none)."""

EXPOSE_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Used",
    "X-RateLimit-Reset",
    "Retry-After",
    "X-Request-Id",
)
"""Response headers a foreign page's script may read: the cost budget
(:mod:`gateway.web.budget`), when to retry a 429/503, and the request id of the log lines."""

PREFLIGHT_MAX_AGE_SECONDS = 600
"""Seconds a browser may reuse a preflight's answer (Chromium caps it at 10 min)."""


def cors_middleware(settings: Settings) -> list[Middleware]:
    """The CORS middleware for ``settings`` (one entry), or none when no origin is allowed."""
    origins = settings.cors_allowed_origins
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=ALLOW_METHODS,
            allow_headers=ALLOW_HEADERS,
            allow_credentials=False,
            expose_headers=EXPOSE_HEADERS,
            max_age=PREFLIGHT_MAX_AGE_SECONDS,
        )
    ]
