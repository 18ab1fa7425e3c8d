"""Relay cursors: opaque keyset positions (page sizes: :mod:`gateway.limits.pages`).

A cursor seals (:mod:`gateway.resolvers.sealing`) a versioned keyset position, ``"v1:<id>"``;
lists are ordered by id, so the position is the id of the last item seen. The holder of a
cursor cannot read the id in it, nor make one.

>>> decode_cursor(encode_cursor("ta-1"))
'ta-1'
"""

from __future__ import annotations

from gateway.errors import BadUserInputError
from gateway.resolvers.sealing import seal, unseal

CURSOR_VERSION = "v1"
"""Prefix of the positions this gateway writes; other versions are rejected."""


def encode_cursor(item_id: str) -> str:
    """The opaque cursor of the item ``item_id``."""
    return seal(f"{CURSOR_VERSION}:{item_id}".encode())


def decode_cursor(cursor: str | None) -> str | None:
    """The id inside ``cursor``; None (or any non-string "not given" marker) gives None.

    Raises:
        BadUserInputError: ``cursor`` was not written by :func:`encode_cursor`.
    """
    if not isinstance(cursor, str):
        return None
    position = unseal(cursor)
    if position is None:
        raise BadUserInputError(f"malformed cursor {cursor!r}")
    version, sep, item_id = position.decode("utf-8", "replace").partition(":")
    if version != CURSOR_VERSION or not sep or not item_id:
        raise BadUserInputError(f"malformed cursor {cursor!r}")
    return item_id
