"""``Content-Encoding`` of request bodies: ``gzip`` and ``deflate`` decoded with a bound on the
decoded size (a compression bomb is refused before it is inflated past it), ``identity`` or
none passed through, anything else refused.

Example:
    >>> import gzip
    >>> decode_body(gzip.compress(b"[]"), "gzip", limit=1024)
    b'[]'
    >>> try:
    ...     decode_body(gzip.compress(b"x" * 5000), "GZIP", limit=1024)
    ... except DecodedTooLargeError:
    ...     print("413")
    413
"""

from __future__ import annotations

import zlib


class DecodedTooLargeError(Exception):
    """The body decodes to more than the limit (HTTP 413)."""


class UnsupportedEncodingError(Exception):
    """A ``Content-Encoding`` the gateway does not decode (HTTP 415)."""


class BadEncodingError(Exception):
    """The body is not valid in its declared encoding (HTTP 400)."""


SUPPORTED = ("gzip", "deflate", "identity")


def decode_body(body: bytes, encoding: str | None, *, limit: int) -> bytes:
    """``body`` decoded from ``encoding`` (case-insensitive; one coding, or ``identity``).

    Raises:
        DecodedTooLargeError: the decoded body would pass ``limit`` bytes.
        UnsupportedEncodingError: another coding, or several.
        BadEncodingError: the bytes are not valid gzip / deflate data.
    """
    coding = (encoding or "identity").strip().lower()
    if coding in ("", "identity"):
        return body
    if coding == "gzip":
        return _inflate(body, zlib.MAX_WBITS | 16, limit)
    if coding == "deflate":
        try:  # RFC 9110's deflate is zlib-wrapped; some clients send it raw
            return _inflate(body, zlib.MAX_WBITS, limit)
        except BadEncodingError:
            return _inflate(body, -zlib.MAX_WBITS, limit)
    raise UnsupportedEncodingError(coding)


def _inflate(body: bytes, wbits: int, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, limit + 1)  # never more than the bound in memory
    except zlib.error as exc:
        raise BadEncodingError(str(exc)) from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise DecodedTooLargeError(limit)
    if not inflater.eof:
        raise BadEncodingError("the compressed body is truncated")
    return out
