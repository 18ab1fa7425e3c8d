"""Security headers on every answer: ``nosniff`` everywhere, and on HTML pages (GraphiQL, the
dashboard) a Content-Security-Policy that allows only the gateway's own assets, no framing and
no referrer.

A page that needs more (the dashboard's inline import map, by its hash) sends its own
``Content-Security-Policy``; it is kept.

Example:
    >>> dict(secured([(b"content-type", b"text/html; charset=utf-8")]))[b"x-frame-options"]
    b'DENY'
"""

from __future__ import annotations

import base64
import hashlib

from starlette.types import Message, Send

Headers = list[tuple[bytes, bytes]]

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'{scripts}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
"""The policy of HTML pages. Styles may be inline: GraphiQL's editor and Chart.js inject them."""

_ALWAYS: Headers = [(b"x-content-type-options", b"nosniff")]
_HTML: Headers = [
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_CSP = b"content-security-policy"


def page_policy(*inline_scripts: str) -> str:
    """The page policy, also allowing the inline scripts given (by their SHA-256)."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in inline_scripts
    )
    return PAGE_POLICY.format(scripts=hashes)


_DEFAULT_CSP = page_policy().encode()


def secured(headers: Headers) -> Headers:
    """``headers`` with the security headers added (an HTML answer's own CSP kept)."""
    names = {name.lower() for name, _ in headers}
    out = headers + [h for h in _ALWAYS if h[0] not in names]
    content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
    if content_type.lower().startswith(b"text/html"):
        out += [h for h in _HTML if h[0] not in names]
        if _CSP not in names:
            out.append((_CSP, _DEFAULT_CSP))
    return out


def securing(send: Send) -> Send:
    """A ``send`` that adds the security headers to the response start."""

    async def secured_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = secured(list(message.get("headers", ())))
        await send(message)

    return secured_send
