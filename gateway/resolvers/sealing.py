"""Sealed cursors: a Relay cursor is the keyset position it continues from, encrypted and
authenticated (AES-SIV) with the deployment's secret, so it tells its holder nothing.

A plain position would name an id (``v1:ta-1``), and some lists hold items whose parents the
caller may not read (a mini-program team's ``deployments`` hold target apps it gets NOT_FOUND
for). AES-SIV is deterministic: the same position always seals to the same cursor, so cached and
computed answers stay byte-equal; a cursor that was not sealed with the key in force (forged,
edited, or from a deployment with another secret) does not open.

Example:
    >>> unseal(seal(b"v1:ta-1"))
    b'v1:ta-1'
    >>> unseal("djE6dGEtMQ==") is None  # base64 of "v1:ta-1": not sealed
    True
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"gateway relay cursors v1"
_cipher = AESSIV(os.urandom(64))
"""Until :func:`install_cursor_secret` runs (every app does at start-up): a per-process key."""


def install_cursor_secret(secret: bytes) -> None:
    """Seal cursors with a key derived from ``secret`` (HKDF-SHA256): every process and host
    given the same secret reads the others' cursors."""
    global _cipher
    key = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_INFO).derive(secret)
    _cipher = AESSIV(key)


def seal(position: bytes) -> str:
    """The opaque cursor of ``position`` (URL-safe base64, no padding)."""
    return base64.urlsafe_b64encode(_cipher.encrypt(position, None)).rstrip(b"=").decode("ascii")


def unseal(cursor: str) -> bytes | None:
    """The position sealed in ``cursor``; None when it was not sealed with the key in force."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4))
        return _cipher.decrypt(raw, None)
    except (binascii.Error, UnicodeError, ValueError, InvalidTag):
        return None
