"""Every route of the live gateway under random HTTP: headers, media types, encodings, credentials
and bodies. Whatever arrives, the answer is never a 5xx other than the documented 503 and 504, and
an error answer in JSON is well-formed JSON (issue 14: no request reaches a 500).
"""

from __future__ import annotations

import base64
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import EXAMPLES, Live

FUZZ = settings(max_examples=EXAMPLES * 3, deadline=None, suppress_health_check=list(HealthCheck))
DOCUMENTED_5XX = {503, 504}
"""Service unavailable (database down, pool exhausted) and timeout: the only 5xx it gives."""

ROUTES = [
    ("POST", "/graphql"),
    ("GET", "/graphql"),
    ("POST", "/export"),
    ("POST", "/v1/events"),
    ("GET", "/dashboard"),
    ("GET", "/schema.graphql"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("PUT", "/graphql"),
    ("DELETE", "/v1/events"),
    ("GET", "/no/such/route"),
]
MEDIA = [
    "application/json",
    "application/graphql-response+json",
    "application/x-ndjson",
    "application/jsonl",
    "application/graphql",
    "text/plain",
    "text/html",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
    "*/*",
    "",
    "application/json; charset=utf-16",
    "application/json; charset=nonsense",
    "application/json;;;",
    "/",
    "application/",
]


def _random_case(text: str, flips: list[bool]) -> str:
    return "".join(
        c.upper() if f else c.lower()
        for c, f in zip(text, flips + [False] * len(text), strict=False)
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=200
).map(lambda text: text.strip() or "x")
"""What a client can send as a header value (visible ASCII, no white space at either end)."""
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
TOKENS = st.one_of(
    HEADER_TEXT,
    st.builds(
        lambda h, c, s: f"{_b64(json.dumps(h).encode())}.{_b64(json.dumps(c).encode())}.{_b64(s)}",
        st.dictionaries(st.sampled_from(["alg", "typ", "kid", "crit", "jku", "x5u"]), JSON_VALUES),
        st.dictionaries(
            st.sampled_from(["sub", "exp", "iat", "nbf", "iss", "aud", "grants"]), JSON_VALUES
        ),
        st.binary(max_size=40),
    ),
)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "content-type": st.builds(
            _random_case, st.sampled_from(MEDIA), st.lists(st.booleans(), max_size=40)
        )
        | HEADER_TEXT,
        "accept": st.builds(
            _random_case, st.sampled_from(MEDIA), st.lists(st.booleans(), max_size=40)
        )
        | HEADER_TEXT,
        "content-encoding": st.sampled_from(["gzip", "deflate", "br", "identity", "GZIP", "x"])
        | HEADER_TEXT,
        "authorization": st.builds(lambda t: f"Bearer {t}", TOKENS) | HEADER_TEXT,
        "x-api-key": st.builds(lambda t: f"gw_{t}", HEADER_TEXT) | HEADER_TEXT,
        "x-request-id": HEADER_TEXT,
        "x-forwarded-for": HEADER_TEXT,
        "origin": HEADER_TEXT,
    },
)
BODIES = st.one_of(
    st.binary(max_size=600),
    st.builds(lambda v: json.dumps(v).encode(), JSON_VALUES),
    st.sampled_from(
        [
            b'{"query": "{ snapshot { id } }"}',
            b'{"query": "{ workspaces { totalCount } }", "variables": []}',
            b'[{"query": "{ snapshot { id } }"}]',
            b'{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "00"}}}',
            b"[" * 5000,
            b'{"kind": "launch"}\n' * 3,
        ]
    ),
)


@FUZZ
@given(route=st.sampled_from(ROUTES), headers=HEADERS, body=BODIES, query=HEADER_TEXT)
def test_no_request_reaches_an_undocumented_server_error(
    live: Live, route: tuple[str, str], headers: dict[str, str], body: bytes, query: str
) -> None:
    method, path = route
    params = {"query": query} if method == "GET" and path == "/graphql" else None
    with live.client() as client:
        response = client.request(
            method, path, headers=headers, content=body if method != "GET" else None, params=params
        )
    status = response.status_code
    assert status < 500 or status in DOCUMENTED_5XX, (status, response.text[:500])
    if status >= 400 and "json" in response.headers.get("content-type", ""):
        json.loads(response.content)  # an error body is well-formed JSON


@FUZZ
@given(headers=HEADERS, body=BODIES)
def test_authenticated_requests_with_odd_media_types_never_fail_internally(
    live: Live, headers: dict[str, str], body: bytes
) -> None:
    sent = {**headers, **live.admin}
    with live.client() as client:
        answers = [
            client.post(path, headers=sent, content=body) for path in ("/graphql", "/export")
        ]
    for response in answers:
        status = response.status_code
        assert status < 500 or status in DOCUMENTED_5XX, (status, response.text[:500])


def test_the_surface_fuzz_reaches_every_route(live: Live) -> None:
    """Each route named above exists (or is meant not to): a typo in ROUTES would fuzz a 404."""
    with live.client() as client:
        for method, path in ROUTES[:9]:
            response = client.request(method, path, headers=live.admin)
            assert response.status_code != 404, (method, path)
