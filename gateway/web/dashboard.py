"""``/dashboard``: the reference dashboard, static files that use nothing but ``/graphql``.

The page (``static/dashboard/index.html``), its ES modules and styles, and Chart.js (vendored
under ``static/chartjs``) are package data served by the ``/static`` mount, which marks them
cacheable for a year. So that a browser never runs a stale module after an upgrade, the page
is sent with every asset URL versioned by content (``?v=<hash>``): links and scripts in the
HTML directly, and the modules imported by other modules through an import map that maps each
module's plain URL to its versioned one. Every URL stays relative to ``/dashboard``, so the
page works under any ASGI ``root_path`` and names no other host (it works offline).

Example:
    >>> Route("/dashboard", dashboard_page, methods=["GET"])  # doctest: +SKIP
"""

from __future__ import annotations

import re
from functools import cache

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse

from gateway.web.graphql import STATIC_DIR, asset_version
from gateway.web.security_headers import page_headers

DASHBOARD_DIR = "dashboard"
"""Folder of the dashboard's page, modules and styles, relative to ``STATIC_DIR``."""

IMPORT_MAP_MARKER = "<!-- import map -->"
"""The line of ``index.html`` replaced by the import map of the dashboard's modules."""

_ASSET = re.compile(r'(?P<attr>src|href)="static/(?P<path>[^"?#]+)"')


def _versioned(relative_path: str) -> str:
    return f"static/{relative_path}?v={asset_version(relative_path)}"


def import_map() -> str:
    """A ``<script type="importmap">`` mapping each dashboard module to its versioned URL.

    >>> '"./static/dashboard/api.js": "./static/dashboard/api.js?v=' in import_map()
    True
    """
    return f'<script type="importmap">{_import_map_body()}</script>'


@cache
def _import_map_body() -> str:
    modules = sorted((STATIC_DIR / DASHBOARD_DIR).rglob("*.js"))
    # "./" makes the keys URL-like: a relative import resolves to a URL, then matches one.
    imports = {
        f"./static/{path}": f"./{_versioned(path)}"
        for path in (m.relative_to(STATIC_DIR).as_posix() for m in modules)
    }
    body = orjson.dumps({"imports": imports}, option=orjson.OPT_INDENT_2).decode()
    return f"\n{body}\n"


@cache
def render_dashboard_page() -> str:
    """``index.html`` with versioned asset URLs and the import map (computed once per process:
    the files are read-only package data)."""
    page = (STATIC_DIR / DASHBOARD_DIR / "index.html").read_text(encoding="utf-8")
    page = _ASSET.sub(lambda m: f'{m["attr"]}="{_versioned(m["path"])}"', page)
    return page.replace(IMPORT_MAP_MARKER, import_map())


async def dashboard_page(request: Request) -> HTMLResponse:
    """GET ``/dashboard``: the page (never cached, so a new version's assets are picked up)."""
    del request
    # The import map is the page's one inline script: allowed by its hash, nothing else is.
    headers = {"Cache-Control": "no-cache", **_page_headers()}
    return HTMLResponse(render_dashboard_page(), headers=headers)


@cache
def _page_headers() -> dict[str, str]:
    return page_headers(_import_map_body())
