"""``/dashboard`` over HTTP: the page, its versioned assets and import map, and no other host.

The browser tests (``test_dashboard.py``) check the same offline promise with the network cut;
these check what can be read from the files and the page alone.
"""

from __future__ import annotations

import hashlib
import re

import httpx
import orjson

from gateway.web.dashboard import DASHBOARD_DIR
from gateway.web.graphql import STATIC_DIR

DASHBOARD = STATIC_DIR / DASHBOARD_DIR
CHARTJS = STATIC_DIR / "chartjs"
GRAPHQL_WS = STATIC_DIR / "graphql-ws"
ASSET = re.compile(r'(?:src|href)="(static/[^"]+)"')
IMPORT = re.compile(r"""^import\s[^'"]*['"]([^'"]+)['"];""", re.MULTILINE)
CHARTJS_URLS = {"https://www.chartjs.org", "https://github.com/kurkle/color#readme"}
"""URLs inside Chart.js's bundle: its banner and a package's metadata, never requested."""


def _versioned(url: str) -> tuple[str, str]:
    path, _, version = url.partition("?v=")
    return path.removeprefix("./").removeprefix("static/"), version


async def test_the_page_names_versioned_local_assets_that_all_answer(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/dashboard")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    page = response.text
    imports = orjson.loads(page.split('<script type="importmap">')[1].split("</script>")[0])
    urls = ASSET.findall(page) + list(imports["imports"].values())
    modules = {p.relative_to(STATIC_DIR).as_posix() for p in DASHBOARD.glob("*.js")}
    assert {_versioned(url)[0] for url in imports["imports"].values()} == modules
    assert "chartjs/chart.umd.js" in {_versioned(url)[0] for url in urls}
    for url in urls:
        path, version = _versioned(url)
        digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()
        assert version == digest[:12], url
        asset = await client.get(f"/{url.removeprefix('./')}")
        assert asset.status_code == 200, url
        assert asset.content == (STATIC_DIR / path).read_bytes()
    for key, value in imports["imports"].items():
        assert value.startswith(key + "?v="), (key, value)


def test_the_dashboard_files_name_no_other_host() -> None:
    for path in DASHBOARD.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}/", text), path.name
        assert "http://" not in text, path.name
        assert "https://" not in text, path.name
        for module in IMPORT.findall(text):
            assert module.startswith("./"), (path.name, module)
            assert (DASHBOARD / module).is_file(), (path.name, module)
    bundle = (CHARTJS / "chart.umd.js").read_text(encoding="utf-8")
    assert set(re.findall(r"https?://[^\s\"')]+", bundle)) == CHARTJS_URLS
    client = (GRAPHQL_WS / "graphql-ws.min.js").read_text(encoding="utf-8")
    assert not re.search(r"(?:https?|wss?)://", client)  # it connects where it is told only


def test_chartjs_is_the_recorded_npm_file() -> None:
    readme = (CHARTJS / "README.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| (\S+) \| chart\.js \| (4\.\d+\.\d+) \| \S+ \| ([0-9a-f]{64}) \|$", readme, re.M
    )
    assert {name for name, _, _ in rows} == {"chart.umd.js", "LICENSE.md"}
    for name, _, digest in rows:
        assert hashlib.sha256((CHARTJS / name).read_bytes()).hexdigest() == digest
    assert "Chart.js v" + rows[0][1] in (CHARTJS / "chart.umd.js").read_text(encoding="utf-8")


def test_graphql_ws_is_the_recorded_npm_file() -> None:
    readme = (GRAPHQL_WS / "README.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| (\S+) \| graphql-ws \| (\d+\.\d+\.\d+) \| (\S+) \| ([0-9a-f]{64}) \|$", readme, re.M
    )
    assert {name for name, _, _, _ in rows} == {"graphql-ws.min.js", "LICENSE.md"}
    assert {version for _, version, _, _ in rows} == {"5.16.2"}  # one pinned version
    assert f"npm pack graphql-ws@{rows[0][1]}" in readme
    for name, _, _, digest in rows:
        assert hashlib.sha256((GRAPHQL_WS / name).read_bytes()).hexdigest() == digest
    files = {path.name for path in GRAPHQL_WS.iterdir()}
    assert files == {"graphql-ws.min.js", "LICENSE.md", "README.md"}
