"""One frozen :class:`Settings` object read from ``GATEWAY_*`` environment variables.

Nothing here performs I/O at import time; call :func:`load_settings` (or construct
``Settings(...)`` directly in tests) when the process starts.

Example:
    >>> Settings(database_url="postgresql://postgres@127.0.0.1/gateway").database_url
    'postgresql+asyncpg://postgres@127.0.0.1/gateway'
"""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.domain import MAX_RANGE_DAYS, REFRESH_INTERVAL_SECONDS
from gateway.secret_files import read_secret_files

_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}


def normalize_database_url(url: str) -> str:
    """Return ``url`` with the async driver this gateway uses filled in.

    ``postgresql://...`` becomes ``postgresql+asyncpg://...`` and ``sqlite:///x.db`` becomes
    ``sqlite+aiosqlite:///x.db``; a URL that already names a driver is kept as it is.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"database URL {url!r} has no scheme (e.g. sqlite:///gateway.db)")
    if "+" in scheme:
        return url
    if scheme not in _DRIVERS:
        raise ValueError(f"unsupported database {scheme!r}: use postgresql:// or sqlite://")
    return f"{_DRIVERS[scheme]}://{rest}"


def parse_origins(value: str | None) -> tuple[str, ...]:
    """The origins of a ``GATEWAY_CORS_ORIGINS`` value: a JSON list or comma-separated.

    Example:
        >>> parse_origins('["https://a.example", "https://b.example"]')
        ('https://a.example', 'https://b.example')
        >>> parse_origins("https://a.example, http://localhost:3000")
        ('https://a.example', 'http://localhost:3000')
    """
    text = (value or "").strip()
    if text.startswith("["):
        items = json.loads(text)
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise ValueError("GATEWAY_CORS_ORIGINS: a JSON value must be a list of strings")
        entries: list[str] = items
    else:
        entries = text.split(",")
    return tuple(entry.strip() for entry in entries if entry.strip())


def normalize_origin(origin: str) -> str | None:
    """``origin`` as browsers send it in ``Origin`` (lower case, default port left out), or
    None when it is not an origin (a path, a query, ``*``, ``null``)."""
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path or parts.query or parts.fragment or parts.username is not None:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if port is not None and port != {"http": 80, "https": 443}[parts.scheme]:
        host = f"{host}:{port}"
    return f"{parts.scheme}://{host}"


MIN_JWT_SECRET_LENGTH = 32
"""Shortest accepted ``GATEWAY_JWT_SECRET`` (characters)."""


class Settings(BaseSettings):
    """Gateway configuration; every field maps to ``GATEWAY_<FIELD NAME IN CAPITALS>``.

    A secret one may instead be read from the file ``GATEWAY_<NAME>_FILE`` names
    (:mod:`gateway.secret_files`).
    """

    # hide_input_in_errors: a refused setting must not print the secrets next to it.
    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", frozen=True, extra="ignore", hide_input_in_errors=True
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///gateway.db",
        description="SQLAlchemy URL; postgresql:// (asyncpg) in production, sqlite:// embedded.",
    )
    database_replica_urls: str | None = Field(
        default=None,
        description="Comma-separated PostgreSQL URLs of streaming read replicas: a request "
        "reads rollups and snapshots from one that has replayed the latest snapshot, else from "
        "GATEWAY_DATABASE_URL (writes and the catalog always use it).",
    )
    database_replica_down_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long a read replica whose connection failed is skipped, in seconds.",
    )
    database_pgbouncer: bool = Field(
        default=False,
        description="The PostgreSQL URLs lead to pgbouncer in transaction pooling mode: no "
        "prepared statement cache, no session settings (set jit=off on the database role, and "
        "the servers' statement_timeout on their pgbouncer database: docs/deploy.md).",
    )
    redis_url: str | None = Field(
        default=None, description="redis:// URL of the snapshot cache; unset = in-process cache."
    )
    cache_max_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=0,
        description="Bound of the in-process cache, in bytes of keys and values, per server "
        "process: the whole cache without GATEWAY_REDIS_URL; with it, the near copy of recently "
        "used Redis entries (0 turns the near copy off).",
    )
    cache_grace_seconds: int = Field(
        default=60,
        ge=0,
        description="Cached results live until the next snapshot is due plus this many seconds.",
    )
    cache_poll_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How often each server process re-reads the latest snapshot and catalog "
        "version that cached responses are keyed on (catalog changes show within this delay).",
    )
    redis_timeout_ms: int = Field(
        default=100,
        ge=1,
        description="Connect and reply timeout of each Redis call, in milliseconds (no retries).",
    )
    cache_breaker_failures: int = Field(
        default=3,
        ge=1,
        description="Consecutive Redis failures that open the circuit breaker (Redis is then "
        "skipped and answers come from the database).",
    )
    cache_breaker_reset_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Seconds the circuit breaker stays open before one trial call to Redis.",
    )
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 secret for `Authorization: Bearer` JWTs (at least 32 characters); "
        "`gateway token` signs with it.",
    )
    max_head_bytes: int = Field(
        default=65536,
        ge=1024,
        description="Largest request head (request line and headers) `gateway serve` reads, in "
        "bytes; a larger one is answered 431 and the connection closed.",
    )
    client_head_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a client has to send a request's head, from its first byte (or "
        "from opening the connection); past it the connection is answered 408 and closed.",
    )
    client_body_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a client has to send a request's body once its head arrived; past "
        "it the connection is answered 408 and closed.",
    )
    max_connections: int = Field(
        default=2048,
        ge=1,
        description="Concurrent connections and requests one `gateway serve` process accepts; "
        "past it new requests are answered 503 (uvicorn's limit_concurrency).",
    )
    live_subscriptions_per_connection: int = Field(
        default=20,
        ge=1,
        description="Most operations one WebSocket connection to /graphql may hold at once; "
        "past it a `subscribe` is answered with an `error` message (RATE_LIMITED).",
    )
    live_connections_per_principal: int = Field(
        default=20,
        ge=1,
        description="Most WebSocket connections one principal (token subject or API key) may "
        "hold on one server process; past it `connection_init` is refused (close code 1013, try "
        "again later).",
    )
    live_keepalive_seconds: float = Field(
        default=15.0,
        ge=0,
        description="Seconds between the server's `ping` messages on each WebSocket connection "
        "(graphql-transport-ws keep-alive; clients answer `pong`); 0 = no server pings.",
    )
    live_concurrency: int = Field(
        default=4,
        ge=1,
        description="Live subscription documents one process evaluates at once after a new "
        "snapshot (each distinct document, variables and grants is evaluated once).",
    )
    jwt_max_lifetime_seconds: int = Field(
        default=7 * 24 * 3600,
        ge=0,
        description="Longest lifetime of a JWT the gateway accepts, in seconds (`exp` - `iat`, "
        "or `exp` - now without `iat`); `gateway token` mints within it. 0 = no maximum.",
    )
    cursor_secret: SecretStr | None = Field(
        default=None,
        description="Secret that seals Relay cursors (at least 32 characters; the same on every "
        "host); unset = derived from GATEWAY_JWT_SECRET, or a per-process key (with a warning) "
        "when only a public key is configured.",
    )
    jwt_public_key_file: Path | None = Field(
        default=None,
        description="PEM public key (RSA for RS256, P-256 for ES256) that verifies JWTs; "
        "read at start-up.",
    )
    jwt_issuer: str | None = Field(
        default=None, description="Required `iss` claim of JWTs; unset = not checked."
    )
    jwt_audience: str | None = Field(
        default=None,
        description="Required `aud` claim of JWTs; unset = tokens naming an audience are refused.",
    )
    jwt_jwks_url: str | None = Field(
        default=None,
        description="HTTP(S) address of an identity provider's JSON Web Key Set: RS256/ES256 "
        "JWTs are verified with the key their `kid` names; fetched on first use, again for an "
        "unknown `kid` and when the set expires. Not with GATEWAY_JWT_PUBLIC_KEY_FILE.",
    )
    jwt_jwks_ttl_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="Seconds a fetched key set is used when its answer has no "
        "`Cache-Control: max-age`; then it is refreshed in the background.",
    )
    jwt_jwks_min_refresh_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Least seconds between two fetches of the key set, whatever the tokens "
        "ask for (a flood of unknown `kid`s costs the identity provider one request per "
        "interval).",
    )
    role_matrix_file: Path | None = Field(
        default=None,
        description="YAML/JSON file replacing the default role matrix; validated at start-up.",
    )
    host: str = Field(default="127.0.0.1", description="Address `gateway serve` binds to.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port `gateway serve` binds to.")
    db_pool_size: int = Field(default=10, ge=1, description="PostgreSQL connection pool size.")
    db_pool_timeout_seconds: float = Field(
        default=3.0,
        gt=0,
        description="Longest a request waits for a pooled PostgreSQL connection, in seconds; "
        "past it the request is answered SERVICE_UNAVAILABLE (503 + Retry-After).",
    )
    max_clock_skew_seconds: int = Field(
        default=3600,
        ge=0,
        description="How far past its receipt an event may be dated, in seconds; a later one is "
        "quarantined as `from the future`.",
    )
    raw_event_retention_days: int = Field(
        default=0,
        ge=0,
        le=36_600,
        description="Raw events older than this many UTC days are dropped, a whole day at a time, "
        "by `gateway refresh` and `gateway worker` once folded into the rollups (which answer "
        "every metric); an event dated before the window is quarantined as `too old`. 0 keeps "
        "raw events for ever.",
    )
    quarantine_max_rows: int = Field(
        default=1_000_000,
        ge=1,
        description="Most records the quarantine holds; a chunk that would add more is rolled "
        "back whole (`POST /v1/events` 507, `gateway ingest` exit 3) until it is replayed.",
    )
    ingest_concurrency: int = Field(
        default=2,
        ge=1,
        description="`POST /v1/events` bodies one process ingests at once (a bulkhead: ingests "
        "never hold the connections queries need); one more is answered 503 + Retry-After.",
    )
    db_echo: bool = Field(default=False, description="Log every SQL statement (debugging).")
    db_statement_timeout_ms: int = Field(
        default=5000,
        ge=0,
        description="Longest a database statement of a request may run, in milliseconds "
        "(PostgreSQL `statement_timeout`, SQLite interrupt); past it the field answers "
        "`QUERY_TIMEOUT`. Ingestion and refreshes are not bounded. 0 = no limit.",
    )
    db_connect_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Longest wait for a new PostgreSQL connection, in seconds; past it the "
        "database counts as unavailable (`SERVICE_UNAVAILABLE`).",
    )
    ingest_chunk_size: int = Field(
        default=50_000,
        ge=1,
        description="Records committed per ingest transaction; a crash loses at most this chunk.",
    )
    max_request_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="Largest POST /v1/events body accepted, in bytes.",
    )
    max_query_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="Largest POST /graphql body accepted, in bytes; larger ones get HTTP 413.",
    )
    max_query_depth: int = Field(
        default=10,
        ge=1,
        description="Most nested field levels in a GraphQL operation (`{ a { b } }` is 2).",
    )
    max_query_aliases: int = Field(
        default=15,
        ge=0,
        description="Most aliased fields in a GraphQL operation, fragments counted each time "
        "they are spread.",
    )
    max_query_tokens: int = Field(
        default=2000,
        ge=1,
        description="Most lexical tokens (names, punctuation, values) in a GraphQL document.",
    )
    export_max_rows: int = Field(
        default=1_000_000,
        ge=1,
        description="Most rows a POST /export file may hold, all sheets together (header rows "
        "not counted); a larger export is refused with `QUERY_TOO_COMPLEX`.",
    )
    max_query_directives: int = Field(
        default=50,
        ge=0,
        description="Most directives in a GraphQL operation, fragments counted each time they "
        "are spread.",
    )
    max_query_cost: int = Field(
        default=5000,
        ge=1,
        description="Most a GraphQL operation may cost: each metric field costs the entities it "
        "runs for times its buckets (see README, Query cost); more is refused before execution.",
    )
    request_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Longest a /graphql operation may run, in seconds; then it is stopped and "
        "answered with TIMEOUT (HTTP 504 under application/graphql-response+json).",
    )
    rate_limit_per_second: float = Field(
        default=50.0,
        ge=0,
        description="Requests per second each caller (principal, or client address without "
        "credentials) may sustain on /graphql, /export and /v1/events (a batch counts each "
        "operation), as a token bucket; 0 turns the limit off. "
        "Shared through GATEWAY_REDIS_URL when set, else per process.",
    )
    rate_limit_burst: int = Field(
        default=100,
        ge=1,
        description="Requests a caller may send at once before GATEWAY_RATE_LIMIT_PER_SECOND "
        "applies (the bucket's size); past it: HTTP 429 RATE_LIMITED with Retry-After.",
    )
    cost_budget_per_window: int = Field(
        default=60_000,
        ge=0,
        description="Query-cost points each caller may spend per window on /graphql and "
        "/export (a request spends 1, plus the cost of each operation it executes; a cached "
        "answer spends 1); past it: HTTP 429 RATE_LIMITED until the window resets. 0 = off. "
        "Shared through GATEWAY_REDIS_URL when set, else per process.",
    )
    cost_budget_window_seconds: int = Field(
        default=60,
        ge=0,
        description="Length of a caller's cost-budget window, in seconds, from its first "
        "spend (0 = off).",
    )
    trusted_proxies: str | None = Field(
        default=None,
        description="Comma-separated addresses or networks (CIDR) of reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto headers `gateway serve` believes (the client "
        "address of rate limits and logs); unset = none, the connection's peer is the client; "
        "`*` = any peer.",
    )
    cors_origins: str | None = Field(
        default=None,
        description="Exact origins (`https://app.example.com`, comma-separated or a JSON list) "
        "whose browser pages may call the gateway (CORS, without cookies: credentials are "
        "headers) and open its WebSocket; unset = no CORS headers, same-origin pages only.",
    )
    allow_batching: bool = Field(
        default=False,
        description="Accept a JSON array of GraphQL operations in one POST /graphql request.",
    )
    persisted_query_ttl_seconds: int = Field(
        default=30 * 24 * 3600,
        ge=1,
        description="How long a document registered by an automatic persisted query (APQ) is "
        "kept in the cache backend, in seconds (not tied to snapshots).",
    )
    persisted_queries_per_principal: int = Field(
        default=200,
        ge=0,
        description="Documents one caller may register by APQ per process and TTL window; past "
        "it a query still runs but is not stored. A document is stored only once it parses.",
    )
    trusted_documents_file: Path | None = Field(
        default=None,
        description="JSON manifest of trusted documents (`{sha256: document}` or Apollo's "
        "persisted-query manifest); validated at start-up. Unset = any operation may run.",
    )
    trusted_documents_for: Literal["everyone", "api-keys"] = Field(
        default="everyone",
        description="Whom GATEWAY_TRUSTED_DOCUMENTS_FILE binds: `everyone`, or `api-keys` "
        "(X-API-Key callers only; bearer tokens keep free-form queries).",
    )
    otel_enabled: bool = Field(
        default=False,
        description="Trace requests with OpenTelemetry (needs the `otel` extra): a span per "
        "request (W3C `traceparent` honoured), per dataloader batch and per SQL statement, "
        "exported as the standard `OTEL_*` variables say. Off = nothing is imported.",
    )
    log_level: str = Field(default="info", description="Log level: debug, info, warning, error.")
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="Log lines as JSON objects (one a line: time, level, logger, message and "
        "fields such as request_id) or as text; `gateway demo` uses text unless set.",
    )
    shutdown_grace_seconds: float = Field(
        default=30.0,
        gt=0,
        description="On SIGTERM, seconds `gateway serve` lets requests in flight finish (no new "
        "ones are accepted) before closing what is left and exiting.",
    )
    refresh_interval_seconds: int = Field(
        default=REFRESH_INTERVAL_SECONDS,
        ge=1,
        description="Seconds between rollup refreshes by `gateway worker` (one snapshot each).",
    )
    worker_port: int = Field(
        default=9100,
        ge=0,
        le=65535,
        description="Port of `gateway worker`'s `/healthz` and `/metrics` (bound on "
        "GATEWAY_HOST); 0 = none.",
    )
    refresh_in_process: bool = Field(
        default=False,
        description="Also refresh the rollups inside each server process, every "
        "GATEWAY_REFRESH_INTERVAL_SECONDS (`gateway demo` turns it on).",
    )
    max_range_days: int = Field(
        default=MAX_RANGE_DAYS,
        ge=1,
        le=3660,
        description="Longest time range a metric may be asked for, in days. No range, month or "
        "previous period reaches before 1970-01-01 (earlier dates are `BAD_USER_INPUT`).",
    )

    @model_validator(mode="before")
    @classmethod
    def _secret_files(cls, data: Any) -> Any:
        # GATEWAY_JWT_SECRET_FILE and the like (gateway.secret_files): read at construction,
        # so a missing file stops the start like any other bad setting.
        return read_secret_files(data, os.environ) if isinstance(data, dict) else data

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str | None) -> str | None:
        for entry in filter(None, (part.strip() for part in (value or "").split(","))):
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"GATEWAY_TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                    "(e.g. 10.0.0.5 or 10.0.0.0/8)"
                ) from None
        return value

    @field_validator("jwt_jwks_url")
    @classmethod
    def _jwks_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith(("https://", "http://")):
            raise ValueError("GATEWAY_JWT_JWKS_URL must be an http:// or https:// address")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str | None) -> str | None:
        for origin in parse_origins(value):
            if normalize_origin(origin) != origin:
                raise ValueError(
                    f"GATEWAY_CORS_ORIGINS: {origin!r} is not an exact origin (scheme, host and "
                    "port if not the default, lower case, no path or `*`), e.g. "
                    "https://app.example.com"
                )
        return value

    @field_validator("database_url")
    @classmethod
    def _driver(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("database_replica_urls")
    @classmethod
    def _replicas(cls, value: str | None) -> str | None:
        # Checked at start-up, without printing the URLs (they may carry a password).
        for number, part in enumerate(filter(None, (p.strip() for p in (value or "").split(",")))):
            if not normalize_database_url(part).startswith("postgresql"):
                raise ValueError(
                    f"GATEWAY_DATABASE_REPLICA_URLS: URL {number + 1} is not postgresql://"
                )
        return value

    @field_validator("jwt_secret", "cursor_secret")
    @classmethod
    def _secret_length(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        # HS256 is only as strong as its key: a short secret can be brute-forced offline from
        # any one token (RFC 7518 §3.2 asks for at least 256 bits).
        if value is not None and len(value.get_secret_value()) < MIN_JWT_SECRET_LENGTH:
            raise ValueError(
                f"GATEWAY_{(info.field_name or '').upper()} must be at least "
                f"{MIN_JWT_SECRET_LENGTH} characters; "
                "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    @property
    def proxies(self) -> list[str]:
        """The entries of ``trusted_proxies`` (empty: trust no forwarding header)."""
        entries = (self.trusted_proxies or "").split(",")
        return [entry.strip() for entry in entries if entry.strip()]

    @property
    def replica_urls(self) -> tuple[str, ...]:
        """The URLs of ``database_replica_urls`` (normalized like ``database_url``)."""
        parts = (part.strip() for part in (self.database_replica_urls or "").split(","))
        return tuple(normalize_database_url(part) for part in parts if part)

    @property
    def cors_allowed_origins(self) -> tuple[str, ...]:
        """The origins of ``cors_origins`` (empty: no CORS, same-origin WebSockets only)."""
        return parse_origins(self.cors_origins)

    @property
    def is_postgres(self) -> bool:
        """True when the configured database is PostgreSQL."""
        return self.database_url.startswith("postgresql")


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with explicit ``overrides`` taking precedence."""
    return Settings(**overrides)  # type: ignore[arg-type]
