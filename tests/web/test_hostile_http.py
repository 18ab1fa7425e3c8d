"""Hostile HTTP (issue 14.2, 14.6, 14.9): any credential answers 401 with the JSON error body,
an unexpected exception anywhere answers the masked JSON 500 and one JSON log line, a client
leaving mid-body is no 500, the demo's GraphiQL token stays on this machine, and HTML pages
carry security headers.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from rich.console import Console
from starlette.types import ASGIApp, Message

from gateway.app import create_app
from gateway.authz.authentication_errors import AuthConfigError, AuthenticationError
from gateway.authz.tokens import mint_token, verify_token
from gateway.cli.serve import warn_if_exposed
from gateway.roles import Grant, Role
from gateway.settings import Settings
from tests.cache_http.support import Gateway, http_settings, serve

SECRET = "hostile-http-tests-secret-of-32-characters!"
ROUTES = [("POST", "/graphql"), ("GET", "/graphql"), ("POST", "/export"), ("POST", "/v1/events")]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(header: bytes, claims: bytes) -> str:
    """A token over these exact header and claims bytes, signed with the gateway's secret (so
    everything past the signature check is reached)."""
    signing_input = f"{_b64(header)}.{_b64(claims)}".encode()
    signature = hmac.new(SECRET.encode(), signing_input, hashlib.sha256).digest()
    return f"{signing_input.decode()}.{_b64(signature)}"


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
HEADERS = st.one_of(
    st.dictionaries(
        st.sampled_from(["alg", "typ", "kid", "crit", "jku", "x5u", "b64", "cty", "zip"]), JSON
    ).map(lambda h: {"alg": "HS256", **h}),
    JSON,
)
CLAIMS = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "sub": JSON | st.text(max_size=300),
            "exp": JSON | st.integers(),
            "iat": JSON,
            "nbf": JSON,
            "iss": JSON,
            "aud": JSON,
            "jti": JSON,
            "grants": JSON
            | st.lists(
                st.fixed_dictionaries(
                    {"role": st.sampled_from([r.value for r in Role]) | JSON},
                    optional={"workspaceId": JSON, "merchantId": JSON},
                ),
                max_size=3,
            ),
        },
    ),
    JSON,
)
RAW = st.one_of(
    st.builds(lambda v: json.dumps(v).encode(), JSON),
    st.binary(max_size=60),
    st.sampled_from([b"{", b'{"exp": 1e400}', b'{"sub": "\\ud800"}', b"[" * 3000 + b"]" * 3000]),
)


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[Gateway]:
    async with serve(http_settings(settings, None, jwt_secret=SecretStr(SECRET))) as served:
        yield served


async def _send(gateway: Gateway, method: str, path: str, token: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if method == "GET":
        return await gateway.http.get(
            path, params={"query": "{ snapshot { id } }"}, headers=headers
        )
    return await gateway.http.post(
        path, content=b'{"query": "{ snapshot { id } }"}', headers=headers
    )


def _assert_refused_or_served(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code == 401:
        body = response.json()
        codes = (
            [e["extensions"]["code"] for e in body["errors"]]
            if "errors" in body
            else [body["error"]["code"]]
        )
        assert codes == ["UNAUTHENTICATED"]


@FUZZ
@given(route=st.sampled_from(ROUTES), header=HEADERS, claims=CLAIMS)
async def test_any_signed_token_structure_is_refused_or_served_never_a_500(
    gateway: Gateway, route: tuple[str, str], header: Any, claims: Any
) -> None:
    token = _signed(json.dumps(header).encode(), json.dumps(claims).encode())
    _assert_refused_or_served(await _send(gateway, *route, token))


@FUZZ
@given(route=st.sampled_from(ROUTES), header=RAW, claims=RAW, tail=st.text(max_size=20))
async def test_any_token_encoding_is_refused_never_a_500(
    gateway: Gateway, route: tuple[str, str], header: bytes, claims: bytes, tail: str
) -> None:
    signed = _signed(header, claims)
    for token in (signed, f"{_b64(header)}.{_b64(claims)}.{tail}", f"{signed}{tail}"):
        token = "".join(c for c in token if " " < c <= "~") or "x"
        response = await _send(gateway, *route, token)
        _assert_refused_or_served(response)


@pytest.mark.parametrize(
    ("header", "claims"),
    [
        (b'{"alg": "HS256", "kid": 5}', b'{"sub": "a", "exp": 4102444800}'),
        (b'{"alg": "HS256", "crit": 5}', b'{"sub": "a", "exp": 4102444800}'),
        (b'{"alg": "HS256"}', b'{"sub": "a", "exp": 1' + b"0" * 400 + b"}"),
        (b'{"alg": "HS256"}', b'{"sub": "\\ud800", "exp": 4102444800}'),
        (b'{"alg": "HS256"}', b'{"sub": "a", "exp": "4102444800"}'),
    ],
)
async def test_the_tokens_that_once_reached_a_500_are_refused(
    gateway: Gateway, header: bytes, claims: bytes
) -> None:
    for method, path in ROUTES:
        response = await _send(gateway, method, path, _signed(header, claims))
        assert response.status_code == 401, (path, response.text)
        assert response.headers["content-type"].startswith("application/")


def test_a_token_living_longer_than_the_maximum_is_refused() -> None:
    limits = Settings(jwt_secret=SecretStr(SECRET), jwt_max_lifetime_seconds=3600)
    grant = [Grant(Role.PLATFORM_ADMIN)]
    assert (
        verify_token(mint_token(limits, "a", grant, dt.timedelta(hours=1)), limits).subject == "a"
    )
    with pytest.raises(AuthConfigError, match="MAX_LIFETIME"):
        mint_token(limits, "a", grant, dt.timedelta(hours=2))
    long_lived = mint_token(
        Settings(jwt_secret=SecretStr(SECRET)), "a", grant, dt.timedelta(days=2)
    )
    with pytest.raises(AuthenticationError, match="lifetime"):
        verify_token(long_lived, limits)
    # Without iat the lifetime left counts: exp two hours away is too long.
    now = int(dt.datetime.now(dt.UTC).timestamp())
    no_iat = _signed(
        b'{"alg": "HS256"}',
        json.dumps(
            {"sub": "a", "exp": now + 7200, "grants": [{"role": "PLATFORM_ADMIN"}]}
        ).encode(),
    )
    with pytest.raises(AuthenticationError, match="lifetime"):
        verify_token(no_iat, limits)


async def test_an_unexpected_exception_is_the_masked_json_500_and_one_json_line(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken() -> str:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("gateway.web.dashboard.render_dashboard_page", broken)
    async with serve(http_settings(settings, None, log_format="json", log_level="info")) as gw:
        capsys.readouterr()
        response = await gw.http.get("/dashboard", headers={"X-Request-Id": "req-boom-1"})
        logged = capsys.readouterr().err
    assert response.status_code == 500
    body = response.json()
    assert body["errors"][0]["extensions"] == {
        "code": "INTERNAL_SERVER_ERROR",
        "requestId": "req-boom-1",
    }
    assert "secret internals" not in response.text
    lines = [json.loads(line) for line in logged.splitlines() if line.strip()]  # all JSON
    [error] = [line for line in lines if line.get("logger") == "gateway.error"]
    assert error["request_id"] == "req-boom-1"
    assert "RuntimeError: secret internals" in error["exc_info"]
    [access] = [line for line in lines if line.get("logger") == "gateway.access"]
    assert access["status"] == 500


@pytest.mark.parametrize("path", ["/graphql", "/export", "/v1/events"])
async def test_a_client_leaving_mid_body_is_no_500(settings: Settings, path: str) -> None:
    app = create_app(http_settings(settings, None))
    sent: list[Message] = []
    messages = iter(
        [
            {"type": "http.request", "body": b'{"query": "{ snap', "more_body": True},
            {"type": "http.disconnect"},
        ]
    )

    async def receive() -> Message:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: Message) -> None:
        sent.append(message)

    token = mint_token(
        http_settings(settings, None), "a", [Grant(Role.SUPER_ADMIN)], dt.timedelta(minutes=5)
    )
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"host", b"gateway.test"),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("gateway.test", 80),
        "state": {},
    }
    async with LifespanManager(app) as manager:
        await manager.app(scope, receive, send)
    statuses = [m["status"] for m in sent if m["type"] == "http.response.start"]
    assert all(status < 500 for status in statuses), statuses


async def _graphiql(app: ASGIApp, client: tuple[str, int]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as http:
        return await http.get("/graphql", headers={"Accept": "text/html"})


async def test_the_demo_token_in_graphiql_is_offered_to_this_machine_only(
    settings: Settings,
) -> None:
    app = create_app(
        http_settings(settings, None), graphiql_headers={"Authorization": "Bearer demo-secret"}
    )
    async with LifespanManager(app) as manager:
        local = await _graphiql(manager.app, ("127.0.0.1", 4000))
        remote = await _graphiql(manager.app, ("203.0.113.9", 4000))
    assert local.status_code == remote.status_code == 200
    assert "demo-secret" in local.text
    assert "demo-secret" not in remote.text


def test_the_demo_warns_when_it_binds_an_address_others_reach() -> None:
    cases = [("127.0.0.1", False), ("localhost", False), ("::1", False)]
    cases += [("0.0.0.0", True), ("192.0.2.7", True), ("example.test", True)]
    for host, warned in cases:
        console = Console(record=True, width=200)
        warn_if_exposed(console, host)
        assert ("warning" in console.export_text()) is warned, host


async def test_html_pages_carry_security_headers(gateway: Gateway) -> None:
    for path, accept in [("/dashboard", "text/html"), ("/graphql", "text/html")]:
        response = await gateway.http.get(path, headers={"Accept": accept})
        assert response.status_code == 200
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy
        assert "script-src 'self'" in policy
        assert "unsafe-eval" not in policy
    json_answer = await gateway.http.get("/healthz")
    assert json_answer.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in json_answer.headers


@pytest.mark.parametrize(
    ("content_type", "accept", "answered"),
    [
        (
            "Application/JSON; Charset=UTF-8",
            "APPLICATION/GRAPHQL-RESPONSE+JSON",
            "graphql-response",
        ),
        ("APPLICATION/JSON", "Application/Json", "application/json"),
        ('application/json;charset="UTF-8"', "*/*", "application/json"),
    ],
)
async def test_media_types_are_matched_case_insensitively(
    gateway: Gateway, content_type: str, accept: str, answered: str
) -> None:
    token = mint_token(gateway.settings, "a", [Grant(Role.SUPER_ADMIN)], dt.timedelta(minutes=5))
    headers = {"Content-Type": content_type, "Accept": accept, "Authorization": f"Bearer {token}"}
    response = await gateway.http.post(
        "/graphql", content=b'{"query": "{ snapshot { id } }"}', headers=headers
    )
    assert response.status_code == 200, response.text
    assert answered in response.headers["content-type"]
    assert "errors" not in response.json()
