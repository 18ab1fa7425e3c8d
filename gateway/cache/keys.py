"""Cache keys: versioned, namespaced by layer, fixed length whatever the parts.

Example:
    >>> cache_key("metric", "snap-7", "ws-1", "dau")
    'gw:v1:metric:0ecebcf65b3a54771d9de45c85203854'
"""

from __future__ import annotations

import hashlib

KEY_VERSION = "v1"
"""Bump when a cached value's shape changes: old entries are then simply never read again."""

_SEPARATOR = "\x1f"  # ASCII unit separator: cannot appear in ids, so ("a", "bc") != ("ab", "c").
_DIGEST_CHARS = 32  # 128 bits of SHA-256: collisions are out of reach, keys stay short.


def cache_key(layer: str, *parts: str) -> str:
    """Return the key of a cached value: ``gw:<version>:<layer>:<hash of the parts>``.

    The parts must name everything that changes the value (the snapshot id and the caller's
    scope included); they are hashed so that a key never leaks them and never grows.

    Args:
        layer: The cache layer (e.g. ``"metric"`` or ``"response"``); readable in the key.
        *parts: Everything the value depends on, in a fixed order.

    Returns:
        The key, e.g. ``gw:v1:metric:3f0c...`` (32 hex characters after the layer).
    """
    digest = hashlib.sha256(_SEPARATOR.join(parts).encode("utf-8")).hexdigest()
    return f"gw:{KEY_VERSION}:{layer}:{digest[:_DIGEST_CHARS]}"
