"""JWT verification edge cases (HS256, RS256, ES256) and development token minting."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import SecretStr

from gateway.authz import tokens
from gateway.authz.authentication_errors import AuthConfigError, AuthenticationError
from gateway.authz.tokens import LEEWAY, check_jwt_settings, mint_token, verify_token
from gateway.roles import Grant, Role
from gateway.settings import Settings

SECRET = "test-secret-with-at-least-32-characters"
OPERATOR = {"role": "SUPERAPP_OPERATOR", "workspaceId": "ws_1"}

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": "alice",
        "grants": [OPERATOR],
        "exp": _now() + timedelta(minutes=5),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _hs256(claims: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


@pytest.fixture
def hs_settings() -> Settings:
    return Settings(jwt_secret=SECRET)


def _write_public_key(path: Path, private: PrivateKey) -> Path:
    path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _forge_hs256(claims: dict[str, Any], key: bytes) -> str:
    """An HS256 token keyed with arbitrary bytes (PyJWT itself refuses PEM text as HMAC key)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = part(json.dumps(claims, default=lambda d: int(d.timestamp())).encode())
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{part(signature)}"


def _rejected(token: str, settings: Settings, reason: str) -> None:
    with pytest.raises(AuthenticationError, match=reason):
        verify_token(token, settings)


def test_valid_hs256_token_gives_the_principal(hs_settings: Settings) -> None:
    principal = verify_token(_hs256(_claims()), hs_settings)
    assert principal.subject == "alice"
    assert principal.via == "jwt"
    assert principal.grants == (Grant(Role.SUPERAPP_OPERATOR, workspace_id="ws_1"),)


def test_alg_none_is_rejected(hs_settings: Settings) -> None:
    token = jwt.encode(_claims(), None, algorithm="none")
    _rejected(token, hs_settings, "algorithm 'none' is not allowed")


def test_wrong_signature_is_rejected(hs_settings: Settings) -> None:
    _rejected(_hs256(_claims(), "another-secret-of-at-least-32-chars!!"), hs_settings, "signature")


def test_tampered_payload_is_rejected(hs_settings: Settings) -> None:
    header, _, signature = _hs256(_claims()).split(".")
    admin = _hs256(_claims(grants=[{"role": "PLATFORM_ADMIN"}]), "x" * 32).split(".")[1]
    _rejected(f"{header}.{admin}.{signature}", hs_settings, "signature")


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "a.b", "e30.e30.", "....."])
def test_malformed_token_is_rejected(hs_settings: Settings, token: str) -> None:
    with pytest.raises(AuthenticationError):
        verify_token(token, hs_settings)


def test_expired_token_is_rejected_beyond_the_leeway(hs_settings: Settings) -> None:
    expired = _now() - LEEWAY - timedelta(seconds=5)
    _rejected(_hs256(_claims(exp=expired)), hs_settings, "expired")
    within_leeway = _now() - LEEWAY + timedelta(seconds=10)
    assert verify_token(_hs256(_claims(exp=within_leeway)), hs_settings).subject == "alice"


def test_token_not_yet_valid_is_rejected(hs_settings: Settings) -> None:
    future = _now() + LEEWAY + timedelta(seconds=60)
    _rejected(_hs256(_claims(nbf=future)), hs_settings, "not valid yet")
    _rejected(_hs256(_claims(iat=future)), hs_settings, "not valid yet")
    assert verify_token(_hs256(_claims(nbf=_now() + timedelta(seconds=5))), hs_settings)


@pytest.mark.parametrize("claim", ["exp", "sub"])
def test_missing_required_claim_is_rejected(hs_settings: Settings, claim: str) -> None:
    claims = _claims()
    del claims[claim]
    _rejected(_hs256(claims), hs_settings, f"no '{claim}' claim")


@pytest.mark.parametrize(
    "grants",
    [
        None,
        [],
        "PLATFORM_ADMIN",
        [{"role": "NOT_A_ROLE"}],
        [{"role": "SUPERAPP_OPERATOR"}],  # workspace role without workspace
        [{"role": "MINI_PROGRAM_ADMIN", "workspaceId": "ws_1"}],
        [{"role": "PLATFORM_ADMIN", "workspaceId": "ws_1"}],
        [{"role": "PLATFORM_ADMIN", "extra": 1}],
        [OPERATOR, "PLATFORM_ADMIN"],
        # Ids outside the grammar (SPEC §2): one once aliased another caller's cache key.
        [{"role": "SUPERAPP_OPERATOR", "workspaceId": "ws-1;SUPERAPP_OPERATOR:ws-2:"}],
        [{"role": "SUPERAPP_OPERATOR", "workspaceId": "ws\u0000"}],
        [{"role": "MINI_PROGRAM_ADMIN", "merchantId": "m" * 129}],
        [{"role": "MINI_PROGRAM_ADMIN", "merchantId": ""}],
    ],
)
def test_bad_grants_are_rejected(hs_settings: Settings, grants: object) -> None:
    with pytest.raises(AuthenticationError, match="grant"):
        verify_token(_hs256(_claims(grants=grants)), hs_settings)


def test_subject_must_be_a_non_empty_string(hs_settings: Settings) -> None:
    _rejected(_hs256(_claims(sub="")), hs_settings, "sub")


def test_issuer_is_checked_when_configured() -> None:
    settings = Settings(jwt_secret=SECRET, jwt_issuer="https://idp.example")
    _rejected(_hs256(_claims()), settings, "no 'iss' claim")
    _rejected(_hs256(_claims(iss="https://evil.example")), settings, "issuer")
    assert verify_token(_hs256(_claims(iss="https://idp.example")), settings)


def test_audience_is_checked_when_configured(hs_settings: Settings) -> None:
    settings = Settings(jwt_secret=SECRET, jwt_audience="gateway")
    _rejected(_hs256(_claims()), settings, "no 'aud' claim")
    _rejected(_hs256(_claims(aud="billing")), settings, "audience")
    assert verify_token(_hs256(_claims(aud=["billing", "gateway"])), settings)
    # A token meant for some audience is not accepted by a gateway that expects none.
    _rejected(_hs256(_claims(aud="billing")), hs_settings, "audience")


def test_rs256_with_a_configured_public_key(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    settings = Settings(jwt_public_key_file=_write_public_key(tmp_path / "rsa.pem", rsa_key))
    assert check_jwt_settings(settings) == ["RS256"]
    token = jwt.encode(_claims(), rsa_key, algorithm="RS256")
    assert verify_token(token, settings).subject == "alice"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _rejected(jwt.encode(_claims(), other, algorithm="RS256"), settings, "signature")
    # RS512 is not configured, even with the right key.
    _rejected(jwt.encode(_claims(), rsa_key, algorithm="RS512"), settings, "not allowed")


def test_es256_with_a_configured_public_key(
    tmp_path: Path, ec_key: ec.EllipticCurvePrivateKey, rsa_key: rsa.RSAPrivateKey
) -> None:
    settings = Settings(jwt_public_key_file=_write_public_key(tmp_path / "ec.pem", ec_key))
    assert check_jwt_settings(settings) == ["ES256"]
    assert verify_token(jwt.encode(_claims(), ec_key, algorithm="ES256"), settings)
    # An RS256 token cannot be checked with an EC key: the algorithm follows the key.
    _rejected(jwt.encode(_claims(), rsa_key, algorithm="RS256"), settings, "'RS256' is not")
    _rejected(_hs256(_claims()), settings, "'HS256' is not allowed")


@pytest.mark.parametrize("with_secret", [False, True])
def test_hs256_signed_with_the_public_key_text_is_rejected(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, with_secret: bool
) -> None:
    path = _write_public_key(tmp_path / "rsa.pem", rsa_key)
    settings = Settings(jwt_public_key_file=path, jwt_secret=SECRET if with_secret else None)
    forged = _forge_hs256(_claims(), path.read_bytes())
    # The forgery is a well-formed HS256 token: it verifies with the PEM text as HMAC key.
    header, payload, signature = forged.split(".")
    expected = hmac.new(path.read_bytes(), f"{header}.{payload}".encode(), hashlib.sha256)
    assert base64.urlsafe_b64decode(signature + "==") == expected.digest()
    with pytest.raises(AuthenticationError):
        verify_token(forged, settings)
    if with_secret:  # the same claims signed with the real secret do pass
        assert verify_token(_forge_hs256(_claims(), SECRET.encode()), settings)


def test_no_jwt_configuration_accepts_no_token() -> None:
    _rejected(_hs256(_claims()), Settings(), "accepts no JWTs")


def _p384(path: Path) -> Path:
    return _write_public_key(path, ec.generate_private_key(ec.SECP384R1()))


def _rsa1024(path: Path) -> Path:
    return _write_public_key(path, rsa.generate_private_key(public_exponent=65537, key_size=1024))


def _junk(path: Path) -> Path:
    path.write_text("not a key")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "No such file"),
        (_junk, "not a PEM public key"),
        (_p384, "neither RSA"),
        (_rsa1024, "1024 bits"),
    ],
)
def test_bad_public_key_file_is_a_clear_start_up_error(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    settings = Settings(jwt_public_key_file=make(tmp_path / "key.pem"))
    with pytest.raises(AuthConfigError, match=message):
        check_jwt_settings(settings)


def test_short_secret_is_refused_by_the_settings() -> None:
    with pytest.raises(ValueError, match="at least 32 characters"):
        Settings(jwt_secret="short")


def test_mint_token_round_trips_with_issuer_and_audience() -> None:
    settings = Settings(jwt_secret=SECRET, jwt_issuer="gw", jwt_audience="gateway")
    grants = [Grant(Role.MINI_PROGRAM_ADMIN, merchant_id="m_1"), Grant(Role.INGESTER)]
    token = mint_token(settings, "bob", grants, timedelta(hours=2))
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="gateway")
    assert claims["iss"] == "gw"
    assert claims["exp"] - claims["iat"] == 7200
    assert claims["nbf"] == claims["iat"]
    principal = verify_token(token, settings)
    assert (principal.subject, set(principal.grants)) == ("bob", set(grants))


def test_minted_token_expires_after_its_ttl(hs_settings: Settings) -> None:
    issued = _now() - timedelta(hours=1) - LEEWAY - timedelta(seconds=1)
    token = mint_token(
        hs_settings, "bob", [Grant(Role.PLATFORM_ADMIN)], timedelta(hours=1), now=issued
    )
    _rejected(token, hs_settings, "expired")


def test_mint_token_needs_a_secret_grants_and_a_positive_ttl(hs_settings: Settings) -> None:
    grant = [Grant(Role.PLATFORM_ADMIN)]
    with pytest.raises(AuthConfigError, match="GATEWAY_JWT_SECRET"):
        mint_token(Settings(), "bob", grant, timedelta(hours=1))
    with pytest.raises(AuthConfigError, match="positive"):
        mint_token(hs_settings, "bob", grant, timedelta(0))
    with pytest.raises(AuthConfigError, match="grant"):
        mint_token(hs_settings, "bob", [], timedelta(hours=1))


def test_a_verified_token_is_not_verified_again_within_its_window(
    hs_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[str] = []
    real = tokens._decode

    def counting(token: str, settings: Settings) -> dict[str, object]:
        decoded.append(token)
        return real(token, settings)

    monkeypatch.setattr(tokens, "_decode", counting)
    token = mint_token(hs_settings, "memo", [Grant(Role.SUPER_ADMIN)], timedelta(minutes=5))
    first = verify_token(token, hs_settings)
    assert verify_token(token, hs_settings) == first
    assert len(decoded) == 1
    # Other settings (another secret) never reuse the memo: the token fails there.
    other = Settings(jwt_secret=SecretStr("another-secret-with-at-least-32-chars"))
    with pytest.raises(AuthenticationError, match="signature"):
        verify_token(token, other)
    # Past its expiry (plus leeway) the memo is not trusted: the token is checked in full.
    later = time.time() + 3600
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    verify_token(token, hs_settings)  # PyJWT's own clock still says valid
    assert len(decoded) == 3
