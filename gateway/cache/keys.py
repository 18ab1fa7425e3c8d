"""Cache keys: versioned, namespaced by layer, fixed length whatever the parts.

Every key is an injective encoding of its parts: the parts are written as one canonical JSON
array (:func:`gateway.encoding.encode_parts`) before they are hashed, so no choice of ids,
subjects or other caller data can make two different tuples of parts share a key (a separator
join could: ``("a;b", "c")`` and ``("a", "b;c")``).

Example:
    >>> cache_key("metric", "snap-7", "ws-1", "dau")
    'gw:v2:metric:49e013be16d4ba37f116c7cd076227f5'
"""

from __future__ import annotations

import hashlib

from gateway.encoding import encode_parts

KEY_VERSION = "v2"
"""Bump when a cached value's shape or the key's encoding changes: old entries are then simply
never read again (v2: parts encoded as a JSON array instead of joined by a separator)."""

_DIGEST_CHARS = 32  # 128 bits of SHA-256: collisions are out of reach, keys stay short.


def cache_key(layer: str, *parts: str) -> str:
    """Return the key of a cached value: ``gw:<version>:<layer>:<hash of the parts>``.

    The parts must name everything that changes the value (the snapshot id and the caller's
    scope included); they are hashed so that a key never leaks them and never grows.

    Args:
        layer: The cache layer (e.g. ``"metric"`` or ``"response"``); readable in the key.
        *parts: Everything the value depends on, in a fixed order.

    Returns:
        The key, e.g. ``gw:v2:metric:3f0c...`` (32 hex characters after the layer).
    """
    digest = hashlib.sha256(encode_parts(layer, *parts)).hexdigest()
    return f"gw:{KEY_VERSION}:{layer}:{digest[:_DIGEST_CHARS]}"
