"""JWTs verified against an identity provider's JSON Web Key Set served over HTTP: rotation,
the bounded refresh rate, an endpoint that goes down, RS256 and ES256, configuration errors."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gateway.authz import jwks
from gateway.authz.authenticate import authenticate, authenticate_until
from gateway.authz.authentication_errors import AuthConfigError, AuthenticationError
from gateway.authz.tokens import check_jwt_settings, prepare_token, verify_token
from gateway.settings import Settings
from tests.jwks_provider import PrivateKey, Provider, jwks_endpoint, public_jwk, sign

RSA_ONE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_TWO = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_ONE = ec.generate_private_key(ec.SECP256R1())
MIN_REFRESH = 30.0
TTL = 3600.0
GRANTS = [{"role": "PLATFORM_ADMIN"}]


def _jwk(kid: str, private: PrivateKey) -> dict[str, Any]:
    return public_jwk(kid, private)


def _token(kid: str, private: PrivateKey, subject: str = "alice") -> str:
    claims = {"sub": subject, "grants": GRANTS, "exp": datetime.now(UTC) + timedelta(minutes=5)}
    return sign(kid, private, claims)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def provider() -> Iterator[Provider]:
    with jwks_endpoint() as state:
        yield state


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(provider: Provider, clock: FakeClock) -> Iterator[Settings]:
    """Settings naming the provider's set, whose process-wide key set runs on ``clock``."""
    settings = Settings(jwt_jwks_url=provider.url, jwt_jwks_min_refresh_seconds=MIN_REFRESH)
    spec = (provider.url, TTL, MIN_REFRESH)
    jwks._SETS[spec] = jwks.KeySet(provider.url, TTL, MIN_REFRESH, clock=clock)
    yield settings
    del jwks._SETS[spec]


async def _verify(token: str, settings: Settings) -> str:
    principal = await authenticate({"Authorization": f"Bearer {token}"}, settings, None)  # type: ignore[arg-type]
    assert principal is not None
    return principal.subject


async def _refused(token: str, settings: Settings) -> str:
    with pytest.raises(AuthenticationError) as refused:
        await _verify(token, settings)
    return refused.value.message


async def test_a_rotated_key_is_fetched_once_and_the_withdrawn_one_refused(
    provider: Provider, settings: Settings, clock: FakeClock
) -> None:
    provider.keys = [_jwk("1", RSA_ONE)]
    old = _token("1", RSA_ONE)
    assert await _verify(old, settings) == "alice"
    assert await _verify(old, settings) == "alice"  # the set and the token are remembered
    assert provider.hits == 1
    # The provider rotates to key 2; past the refresh bound, a kid-2 token fetches once.
    provider.keys = [_jwk("2", RSA_TWO)]
    clock.now += MIN_REFRESH
    new = _token("2", RSA_TWO, "bob")
    assert await _verify(new, settings) == "bob"
    assert await _verify(new, settings) == "bob"
    assert provider.hits == 2
    # Key 1 is gone from the set: its token, verified and remembered before, is refused now.
    assert "not in the identity provider's key set" in await _refused(old, settings)
    assert provider.hits == 2  # refused from the cached set (the refresh bound holds)


async def test_a_new_kid_within_the_refresh_bound_is_refused_without_a_fetch(
    provider: Provider, settings: Settings, clock: FakeClock
) -> None:
    provider.keys = [_jwk("1", RSA_ONE)]
    assert await _verify(_token("1", RSA_ONE), settings) == "alice"
    provider.keys = [_jwk("1", RSA_ONE), _jwk("2", RSA_TWO)]
    await _refused(_token("2", RSA_TWO), settings)
    assert provider.hits == 1
    clock.now += MIN_REFRESH - 1
    await _refused(_token("2", RSA_TWO), settings)
    clock.now += 1
    assert await _verify(_token("2", RSA_TWO), settings) == "alice"
    assert provider.hits == 2


async def test_a_flood_of_random_kids_fetches_once_per_interval(
    provider: Provider, settings: Settings, clock: FakeClock
) -> None:
    provider.keys = [_jwk("1", RSA_ONE)]
    for _ in range(3):
        floods = [_token(uuid.uuid4().hex, RSA_TWO) for _ in range(100)]
        answers = await asyncio.gather(
            *(_verify(token, settings) for token in floods), return_exceptions=True
        )
        assert all(isinstance(answer, AuthenticationError) for answer in answers)
        clock.now += MIN_REFRESH / 3  # three floods within one interval...
    assert provider.hits == 1
    clock.now += MIN_REFRESH
    for token in [_token(uuid.uuid4().hex, RSA_TWO) for _ in range(50)]:
        await _refused(token, settings)
    assert provider.hits == 2  # ...then one more fetch
    assert await _verify(_token("1", RSA_ONE), settings) == "alice"  # the real key still works


async def test_concurrent_requests_share_one_fetch(provider: Provider, settings: Settings) -> None:
    provider.keys = [_jwk("1", RSA_ONE)]
    token = _token("1", RSA_ONE)
    subjects = await asyncio.gather(*(_verify(token, settings) for _ in range(20)))
    assert subjects == ["alice"] * 20
    assert provider.hits == 1


async def test_an_unreachable_endpoint_keeps_the_cached_keys(
    provider: Provider, settings: Settings, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    provider.keys = [_jwk("1", RSA_ONE)]
    token = _token("1", RSA_ONE)
    assert await _verify(token, settings) == "alice"
    provider.up = False
    clock.now += TTL + 1  # expired: the next lookup refreshes in the background
    assert await _verify(_token("1", RSA_ONE, "carol"), settings) == "carol"
    await _settle(settings)
    assert provider.hits == 2
    assert "could not be fetched" in caplog.text
    clock.now += MIN_REFRESH
    assert "not in the identity provider's key set" in await _refused(
        _token("2", RSA_TWO), settings
    )
    assert provider.hits == 3
    assert await _verify(_token("1", RSA_ONE, "dave"), settings) == "dave"


async def _settle(settings: Settings) -> None:
    """Wait for the key set's background refresh, if one is running."""
    assert settings.jwt_jwks_url is not None
    keys = jwks._SETS[(settings.jwt_jwks_url, TTL, MIN_REFRESH)]
    if keys._inflight is not None:
        await asyncio.shield(keys._inflight)


async def test_an_expired_set_is_refreshed_in_the_background_honouring_max_age(
    provider: Provider, settings: Settings, clock: FakeClock
) -> None:
    provider.keys = [_jwk("1", RSA_ONE)]
    provider.cache_control = "public, max-age=120"
    assert await _verify(_token("1", RSA_ONE), settings) == "alice"
    clock.now += 119
    assert await _verify(_token("1", RSA_ONE, "b"), settings) == "b"
    await _settle(settings)
    assert provider.hits == 1
    provider.keys = [_jwk("2", RSA_TWO)]  # the provider withdrew key 1
    clock.now += 1
    assert await _verify(_token("1", RSA_ONE, "c"), settings) == "c"  # answered from the cache
    await _settle(settings)
    assert provider.hits == 2
    await _refused(_token("1", RSA_ONE, "c"), settings)  # the refreshed set has no key 1


async def test_rs256_and_es256_keys_of_one_set(provider: Provider, settings: Settings) -> None:
    provider.keys = [_jwk("rsa", RSA_ONE), _jwk("ec", EC_ONE)]
    assert await _verify(_token("rsa", RSA_ONE, "r"), settings) == "r"
    assert await _verify(_token("ec", EC_ONE, "e"), settings) == "e"
    assert provider.hits == 1
    # A token naming the EC key but signed RS256 does not verify with it.
    confused = jwt.encode(
        {"sub": "x", "grants": GRANTS, "exp": datetime.now(UTC) + timedelta(minutes=5)},
        RSA_ONE,
        algorithm="RS256",
        headers={"kid": "ec"},
    )
    assert "does not match its key" in await _refused(confused, settings)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_unusable_keys_of_the_set_are_ignored(provider: Provider, settings: Settings) -> None:
    secret = "a-shared-secret-of-at-least-32-characters"
    oct_key = {"kty": "oct", "kid": "hs", "k": jwt.utils.base64url_encode(secret.encode()).decode()}
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    provider.keys = [oct_key, _jwk("small", small), {"kty": "nonsense", "kid": "x"}]
    hs = jwt.encode({"sub": "x", "grants": GRANTS, "exp": 2**31}, secret, headers={"kid": "hs"})
    await _refused(hs, settings)  # HS256 is never verified with a key of the set
    await _refused(_token("small", small), settings)


async def test_a_websocket_window_comes_from_the_same_path(
    provider: Provider, settings: Settings
) -> None:
    provider.keys = [_jwk("1", RSA_ONE)]
    answer = await authenticate_until(
        {"Authorization": f"Bearer {_token('1', RSA_ONE)}"},
        settings,
        None,  # type: ignore[arg-type]
    )
    assert answer is not None
    assert answer[0].subject == "alice"


async def test_verify_token_alone_never_fetches(provider: Provider, settings: Settings) -> None:
    provider.keys = [_jwk("1", RSA_ONE)]
    token = _token("1", RSA_ONE)
    with pytest.raises(AuthenticationError):
        verify_token(token, settings)
    assert provider.hits == 0
    await prepare_token(token, settings)
    assert verify_token(token, settings).subject == "alice"


def test_check_jwt_settings_with_a_key_set(tmp_path: Path) -> None:
    url = "https://idp.example/.well-known/jwks.json"
    assert check_jwt_settings(Settings(jwt_jwks_url=url)) == ["ES256", "RS256"]
    pem = tmp_path / "key.pem"
    pem.write_bytes(
        RSA_ONE.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    with pytest.raises(AuthConfigError, match="not both"):
        check_jwt_settings(Settings(jwt_jwks_url=url, jwt_public_key_file=pem))
    with pytest.raises(ValueError, match="http"):
        Settings(jwt_jwks_url="file:///etc/passwd")
