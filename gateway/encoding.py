"""Injective encodings: the one way any key (cache, rate limit, single flight, lock) is built
from caller data or ids.

A separator join is not injective when the parts may hold the separator (``"a;b" + ";" + "c"``
equals ``"a" + ";" + "b;c"``); a canonical JSON array is, whatever the parts hold.

Example:
    >>> encode_parts("a;b", "c") != encode_parts("a", "b;c")
    True
    >>> encode_parts("ws", ["SUPERAPP_OPERATOR", "w1", None])
    b'["ws",["SUPERAPP_OPERATOR","w1",null]]'
"""

from __future__ import annotations

import json

import orjson


def encode_parts(*parts: object) -> bytes:
    """The canonical, injective encoding of ``parts`` (strings, integers, None, and lists or
    tuples of them) as one JSON array: distinct tuples of parts never encode alike."""
    try:
        return orjson.dumps(parts)
    except TypeError:
        # A lone surrogate (a JSON "\ud800" escape decodes to one) is not UTF-8: written as
        # its surrogate bytes, which orjson's valid UTF-8 never holds, so the two stay apart.
        text = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
        return text.encode("utf-8", "surrogatepass")


def encode_text(*parts: object) -> str:
    """:func:`encode_parts` as text (a lone surrogate kept as one), for keys held as ``str``."""
    return encode_parts(*parts).decode("utf-8", "surrogatepass")
