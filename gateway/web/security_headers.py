"""Security headers: ``nosniff`` on every answer (added with the request id by
:class:`~gateway.web.request_log.RequestLog`, no cost of its own), and on HTML pages (GraphiQL,
the dashboard) a Content-Security-Policy allowing only the gateway's own assets, no framing and
no referrer (:func:`page_headers`, set by each page's endpoint).

Example:
    >>> page_headers()["X-Frame-Options"]
    'DENY'
    >>> "script-src 'self' 'sha256-" in page_headers("console.log(1)")["Content-Security-Policy"]
    True
"""

from __future__ import annotations

import base64
import hashlib

NOSNIFF = (b"x-content-type-options", b"nosniff")
"""On every answer: a browser never guesses another type than the one declared."""

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'{scripts}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
"""The policy of HTML pages. Styles may be inline: GraphiQL's editor and Chart.js inject them."""


def page_policy(*inline_scripts: str) -> str:
    """The page policy, also allowing the inline scripts given (by their SHA-256)."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'"
        for s in inline_scripts
    )
    return PAGE_POLICY.format(scripts=hashes)


def page_headers(*inline_scripts: str) -> dict[str, str]:
    """The headers of an HTML page whose only inline scripts are ``inline_scripts``."""
    return {
        "Content-Security-Policy": page_policy(*inline_scripts),
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
