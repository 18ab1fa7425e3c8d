"""JSON Web Tokens: verify a caller's ``Authorization: Bearer`` token, mint development ones.

Which algorithms are accepted follows from the configured keys, never from the token:

=====================================  =====================================================
``GATEWAY_JWT_SECRET``                 HS256
``GATEWAY_JWT_PUBLIC_KEY_FILE`` (RSA)  RS256
``GATEWAY_JWT_PUBLIC_KEY_FILE`` (EC)   ES256 (curve P-256)
``GATEWAY_JWT_JWKS_URL``               RS256 and ES256, with the key of the header's ``kid``
=====================================  =====================================================

An HS256 token is only ever checked with the secret, so a token "signed" with the public key's
text (the classic key-confusion attack) fails; ``alg: none`` is never accepted.

With a key set (:mod:`gateway.authz.jwks`) a token's ``kid`` picks the key and the key decides
the algorithm; an async caller awaits :func:`prepare_token` first, which fetches the set when
the kid is unknown (rate-bounded, in a thread); :func:`verify_token` itself never fetches.

Claims: ``sub`` (string) and ``exp`` are required, ``nbf``/``iat`` are honoured, each with
:data:`LEEWAY` for clock skew; ``iss``/``aud`` must match when configured. ``grants`` is a
non-empty list of ``{role, workspaceId?, merchantId?}``.

Example:
    >>> from gateway.authz.principal import Role
    >>> settings = Settings(jwt_secret="a-development-secret-of-32-chars!")
    >>> token = mint_token(settings, "alice", [Grant(Role.PLATFORM_ADMIN)], timedelta(hours=1))
    >>> verify_token(token, settings).grants
    (Grant(role=<Role.PLATFORM_ADMIN: 'PLATFORM_ADMIN'>, workspace_id=None, merchant_id=None),)
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from gateway.authz.authentication_errors import AuthConfigError, AuthenticationError
from gateway.authz.jwks import SIGNING_ALGORITHMS, KeySet, key_set
from gateway.authz.principal import Principal
from gateway.cache.sized import MEMO_MAX_BYTES, SizedLRU, size_of_parts
from gateway.roles import Grant, GrantError
from gateway.settings import Settings

LEEWAY = timedelta(seconds=30)
"""Clock skew tolerated on ``exp``, ``nbf`` and ``iat``."""

HMAC_ALGORITHM = "HS256"

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey

_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not valid yet (nbf or iat in the future)"),
    (jwt.InvalidSignatureError, "token signature is invalid"),
    (jwt.InvalidIssuerError, "token issuer (iss) is not accepted here"),
    (jwt.InvalidAudienceError, "token audience (aud) is not accepted here"),
    (jwt.InvalidAlgorithmError, "token algorithm is not allowed"),
    (jwt.DecodeError, "token is malformed"),
)
"""PyJWT's exceptions, most specific first, with the message the caller sees."""


@functools.lru_cache(maxsize=8)
def _load_public_key(path: Path) -> tuple[PublicKey, str]:
    """The key in the PEM file ``path`` and the one algorithm it verifies (read once)."""
    try:
        key = load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise AuthConfigError(f"GATEWAY_JWT_PUBLIC_KEY_FILE {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise AuthConfigError(
            f"GATEWAY_JWT_PUBLIC_KEY_FILE {path} is not a PEM public key "
            "(-----BEGIN PUBLIC KEY-----)"
        ) from exc
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise AuthConfigError(f"the RSA key in {path} has {key.key_size} bits; use 2048+")
        return key, "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key, "ES256"
    raise AuthConfigError(f"the key in {path} is neither RSA (RS256) nor EC P-256 (ES256)")


def check_jwt_settings(settings: Settings) -> list[str]:
    """Validate the JWT settings at start-up; returns the algorithms that will be accepted.

    Raises:
        AuthConfigError: when the public key file is missing, unreadable or of a wrong type.
    """
    allowed = [HMAC_ALGORITHM] if settings.jwt_secret is not None else []
    if settings.jwt_public_key_file is not None and settings.jwt_jwks_url is not None:
        raise AuthConfigError(
            "set GATEWAY_JWT_PUBLIC_KEY_FILE or GATEWAY_JWT_JWKS_URL, not both: the key set "
            "holds the provider's public keys"
        )
    if settings.jwt_public_key_file is not None:
        allowed.append(_load_public_key(settings.jwt_public_key_file)[1])
    if settings.jwt_jwks_url is not None:
        allowed.extend(sorted(SIGNING_ALGORITHMS))
    return allowed


def _key_set(settings: Settings) -> KeySet | None:
    if settings.jwt_jwks_url is None:
        return None
    return key_set(
        settings.jwt_jwks_url,
        settings.jwt_jwks_ttl_seconds,
        settings.jwt_jwks_min_refresh_seconds,
    )


async def prepare_token(token: str, settings: Settings) -> None:
    """Make sure the key set holds the key ``token`` names, when one is configured: fetches
    the set for an unknown ``kid`` (at most once per
    ``GATEWAY_JWT_JWKS_MIN_REFRESH_SECONDS``, in a thread). Never raises: whatever is wrong
    with the token, :func:`verify_token` says it."""
    keys = _key_set(settings)
    if keys is None:
        return
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return
    kid = header.get("kid")
    if header.get("alg") in SIGNING_ALGORITHMS and isinstance(kid, str) and len(kid) <= 256:
        await keys.ensure(kid)


def _key_for(header: dict[str, Any], settings: Settings) -> Any:
    """The configured key that verifies the token of ``header``; raises when none does."""
    algorithm = header["alg"]
    if algorithm == HMAC_ALGORITHM and settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    if settings.jwt_public_key_file is not None:
        key, expected = _load_public_key(settings.jwt_public_key_file)
        if algorithm == expected:
            return key
    keys = _key_set(settings)
    if keys is not None and algorithm in SIGNING_ALGORITHMS:
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise AuthenticationError("token header names no key (kid)")
        jwk = keys.key(kid)
        if jwk is None:
            raise AuthenticationError("token key (kid) is not in the identity provider's key set")
        if jwk.algorithm_name != algorithm:
            raise AuthenticationError(f"token algorithm {algorithm!r} does not match its key")
        return jwk.key
    if settings.jwt_secret is None and settings.jwt_public_key_file is None and keys is None:
        raise AuthenticationError("this gateway accepts no JWTs; use an API key (X-API-Key)")
    raise AuthenticationError(f"token algorithm {algorithm[:16]!r} is not allowed")


def _decode(token: str, settings: Settings) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:  # DecodeError, and InvalidTokenError for a bad kid or crit
        raise AuthenticationError("token is malformed") from exc
    algorithm = header.get("alg")
    if not isinstance(algorithm, str):
        raise AuthenticationError("token header names no algorithm")
    key = _key_for(header, settings)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],  # exactly the one this key verifies
            options={"require": ["exp", "sub"]},
            leeway=LEEWAY,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
    except jwt.MissingRequiredClaimError as exc:
        raise AuthenticationError(f"token has no {exc.claim!r} claim") from exc
    except jwt.PyJWTError as exc:
        message = next((text for cls, text in _ERRORS if isinstance(exc, cls)), None)
        raise AuthenticationError(message or f"token is invalid: {exc}") from exc
    return claims


def _grants(claim: object) -> tuple[Grant, ...]:
    if not isinstance(claim, list) or not claim:
        raise AuthenticationError("token 'grants' must be a non-empty list")
    try:
        return tuple(Grant.from_claim(item) for item in claim)
    except GrantError as exc:
        raise AuthenticationError(f"token has an invalid grant: {exc}") from exc


def verify_token(token: str, settings: Settings) -> Principal:
    """The principal a JWT names, once its signature, times and claims check out.

    A token verified before under the same settings is not verified again while it is within
    its validity window: signature and claims cannot change, only time can (a dashboard sends
    the same token with every request; verifying it cost a third of a cached answer). With a
    JWKS, a refresh that removes or changes a key (:attr:`KeySet.generation`) forgets what
    was verified before it: a token of a withdrawn key is refused at its next request.

    Raises:
        AuthenticationError: for a malformed token, a disallowed algorithm (``none``
            included), a wrong signature, an expired or not-yet-valid token, a missing
            ``exp`` or ``sub``, bad ``grants``, or a wrong issuer or audience.
    """
    return verify_token_window(token, settings)[0]


def verify_token_window(token: str, settings: Settings) -> tuple[Principal, float, float]:
    """:func:`verify_token`, with the window (POSIX seconds, clock skew included) outside
    which the token is refused: ``(principal, accepted from, accepted until)``.

    A caller that remembers what a token allowed may rely on it within that window only.

    Raises:
        AuthenticationError: as :func:`verify_token`.
    """
    memo_key = (token, _fingerprint(settings))
    known = _VERIFIED.get(memo_key)
    now = time.time()
    leeway = LEEWAY.total_seconds()
    if known is None or not known[1] - leeway <= now <= known[2] + leeway:
        known = _verify(token, settings)
        _VERIFIED[memo_key] = known
    return known[0], known[1] - leeway, known[2] + leeway


def _verify(token: str, settings: Settings) -> tuple[Principal, float, float]:
    """Check ``token`` in full: its principal, valid from (nbf/iat) and expiry (POSIX).

    Whatever a token holds (any header, claim types, encodings, sizes), the answer is the
    principal or an :class:`AuthenticationError`: an exception of the JWT library or of the
    checks below that is not one is refused as a malformed token, never a server error.
    """
    try:
        return _checked(_decode(token, settings), settings)
    except AuthenticationError:
        raise
    except Exception as exc:  # hostile input must never reach a 500
        raise AuthenticationError("token is malformed") from exc


def _checked(claims: dict[str, Any], settings: Settings) -> tuple[Principal, float, float]:
    subject = claims["sub"]
    if not isinstance(subject, str) or not _SUBJECT.fullmatch(subject):
        raise AuthenticationError(
            f"token 'sub' must be 1 to {MAX_SUBJECT_LENGTH} printable characters"
        )
    principal = Principal(subject, _grants(claims.get("grants")), via="jwt")
    times = {name: _time(claims, name) for name in ("exp", "nbf", "iat")}
    expires = times["exp"]
    assert expires is not None  # required by _decode
    starts = [t for t in (times["nbf"], times["iat"]) if t is not None]
    limit = settings.jwt_max_lifetime_seconds
    if limit:
        issued = times["iat"] if times["iat"] is not None else time.time()
        if expires - issued > limit + LEEWAY.total_seconds():
            raise AuthenticationError(
                f"token lifetime is longer than this gateway accepts ({limit} s): "
                "mint a shorter-lived token"
            )
    return principal, max(starts, default=-math.inf), expires


MAX_SUBJECT_LENGTH = 256
_SUBJECT = re.compile(rf"[^\x00-\x1f\x7f\ud800-\udfff]{{1,{MAX_SUBJECT_LENGTH}}}")
"""A subject is printable text (it is logged, keyed on and answered in ``viewer``)."""


def _time(claims: dict[str, Any], name: str) -> float | None:
    """A NumericDate claim as POSIX seconds (None when absent); refused unless a finite number
    of seconds within years 1970-9999."""
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AuthenticationError(f"token '{name}' must be a number of seconds")
    if not 0 <= value <= _LAST_SECOND:
        raise AuthenticationError(f"token '{name}' is out of range")
    return float(value)


_LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z


_VERIFIED: SizedLRU[tuple[str, tuple[object, ...]], tuple[Principal, float, float]] = SizedLRU(
    MEMO_MAX_BYTES, lambda key, known: size_of_parts(key[0], known[0].subject, known[0].grants_key)
)
"""Verified tokens: (token, settings fingerprint) -> (principal, valid from, expires)."""


def _fingerprint(settings: Settings) -> tuple[object, ...]:
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
    keys = (settings.jwt_jwks_url, key_generation(settings))
    return (secret, settings.jwt_public_key_file, *keys, settings.jwt_issuer, settings.jwt_audience)


def key_generation(settings: Settings) -> int:
    """How many times the configured key set lost or changed a key (0 without one): what a
    caller remembering a verified token compares to forget it when its key may be gone."""
    keys = _key_set(settings)
    return 0 if keys is None else keys.generation


def mint_token(
    settings: Settings,
    subject: str,
    grants: Iterable[Grant],
    ttl: timedelta,
    *,
    now: datetime | None = None,
) -> str:
    """An HS256 token for ``subject`` holding ``grants``, valid for ``ttl`` from ``now``.

    Raises:
        AuthConfigError: when ``GATEWAY_JWT_SECRET`` is not set, ``ttl`` is not positive or
            ``grants`` is empty.
    """
    if settings.jwt_secret is None:
        raise AuthConfigError(
            "GATEWAY_JWT_SECRET is not set: tokens are signed with it (HS256); "
            "set the same value on the gateway"
        )
    if ttl <= timedelta(0):
        raise AuthConfigError("the token lifetime must be positive")
    limit = settings.jwt_max_lifetime_seconds
    if limit and ttl.total_seconds() > limit:
        raise AuthConfigError(
            f"the token lifetime is longer than GATEWAY_JWT_MAX_LIFETIME_SECONDS ({limit} s)"
        )
    claimed = [grant.as_claim() for grant in grants]
    if not claimed:
        raise AuthConfigError("a token needs at least one grant")
    issued = (now or datetime.now(UTC)).replace(microsecond=0)
    claims: dict[str, Any] = {
        "sub": subject,
        "grants": claimed,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
    }
    if settings.jwt_issuer is not None:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience is not None:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=HMAC_ALGORITHM)
