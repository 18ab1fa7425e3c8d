"""``X-Forwarded-For`` picks the client address (and so the rate-limit bucket of requests
without credentials) only when it comes from a configured proxy: a real uvicorn server,
configured as ``gateway serve`` configures it, on a free loopback port."""

from __future__ import annotations

import httpx
import pytest

import gateway.cli.serve as serve_module
from gateway.settings import Settings
from tests.live_server import live_gateway

QUERY = {"query": "{ snapshot { id } }"}


async def _anonymous(url: str, forwarded_for: list[str]) -> list[int]:
    """Statuses of requests without credentials, each claiming to come from an address."""
    async with httpx.AsyncClient(base_url=url) as http:
        return [
            (
                await http.post("/graphql", json=QUERY, headers={"X-Forwarded-For": address})
            ).status_code
            for address in forwarded_for
        ]


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        # Nothing trusted (the default): every request is the peer's, 127.0.0.1; one bucket.
        (None, [401, 429, 429]),
        # The peer is a trusted proxy: the forwarded addresses are the clients; two buckets.
        ("127.0.0.1", [401, 401, 429]),
        ("10.0.0.0/8, 127.0.0.0/8", [401, 401, 429]),
        # A trusted proxy elsewhere does not make this peer one.
        ("10.0.0.1", [401, 429, 429]),
    ],
)
async def test_forwarded_for_picks_the_bucket_only_behind_a_trusted_proxy(
    app_settings: Settings, trusted: str | None, expected: list[int]
) -> None:
    settings = app_settings.model_copy(
        update={
            "rate_limit_per_second": 0.001,
            "rate_limit_burst": 1,
            "trusted_proxies": trusted,
            "log_level": "warning",
        }
    )
    with live_gateway(settings) as url:
        statuses = await _anonymous(url, ["203.0.113.1", "203.0.113.2", "203.0.113.1"])
    assert statuses == expected


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        (None, {"proxy_headers": False, "forwarded_allow_ips": None}),
        ("10.0.0.0/8,*", {"proxy_headers": True, "forwarded_allow_ips": ["10.0.0.0/8", "*"]}),
    ],
)
def test_serve_passes_the_proxy_settings_to_uvicorn(
    monkeypatch: pytest.MonkeyPatch, trusted: str | None, expected: dict[str, object]
) -> None:
    seen: dict[str, object] = {}

    async def no_migration(settings: Settings) -> None:
        del settings

    monkeypatch.setattr(serve_module, "_migrate", no_migration)
    monkeypatch.setattr(serve_module.uvicorn, "run", lambda *a, **kw: seen.update(kw))
    monkeypatch.setenv("GATEWAY_JWT_SECRET", "x" * 32)
    if trusted is None:
        monkeypatch.delenv("GATEWAY_TRUSTED_PROXIES", raising=False)
    else:
        monkeypatch.setenv("GATEWAY_TRUSTED_PROXIES", trusted)
    serve_module.serve(host=None, port=None, workers=1, reload=False)
    assert {k: seen[k] for k in expected} == expected


@pytest.mark.parametrize("bad", ["proxy.example", "10.0.0.0/33", "10.0.0.1;10.0.0.2"])
def test_a_trusted_proxy_must_be_an_address_or_network(bad: str) -> None:
    with pytest.raises(ValueError, match="GATEWAY_TRUSTED_PROXIES"):
        Settings(trusted_proxies=bad)
