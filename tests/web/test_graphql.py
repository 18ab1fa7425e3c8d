"""/graphql: the offline GraphiQL page, its assets, JSON over GET and POST."""

from __future__ import annotations

import gzip
from html.parser import HTMLParser
from urllib.parse import urlsplit

import graphql
import httpx
import orjson

from gateway.schema import print_sdl
from gateway.web.default_query import DEFAULT_QUERY
from gateway.web.graphql import SCRIPTS, STATIC_DIR, render_graphiql_page

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}


class _Page(HTMLParser):
    """Collects every src/href of a page and the text of its config script."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.config = ""
        self._in_config = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]
        self._in_config = ("id", "gateway-graphiql-config") in attrs

    def handle_data(self, data: str) -> None:
        if self._in_config:
            self.config += data

    def handle_endtag(self, tag: str) -> None:
        self._in_config = False


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


async def test_browser_gets_graphiql_with_no_external_url(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = _parse(response.text)
    assert len(page.urls) >= 7  # three stylesheets, six scripts, the icon
    for url in page.urls:
        parts = urlsplit(url)
        assert parts.scheme in ("", "data"), url
        assert not parts.netloc, url  # no "//cdn.example/..." either
    assert "http://" not in response.text
    assert "https://" not in response.text


async def test_every_asset_of_the_page_is_served(client: httpx.AsyncClient) -> None:
    page = _parse((await client.get("/graphql", headers=BROWSER)).text)
    assets = [url for url in page.urls if not url.startswith("data:")]
    assert {urlsplit(url).path.rsplit(".", 1)[-1] for url in assets} == {"js", "css"}
    for url in assets:
        response = await client.get(url)
        assert response.status_code == 200, url
        suffix = "." + urlsplit(url).path.rsplit(".", 1)[-1]
        assert response.headers["content-type"].startswith(CONTENT_TYPES[suffix]), url
        assert "immutable" in response.headers["cache-control"]
        relative = urlsplit(url).path.removeprefix("/static/")
        assert response.content == (STATIC_DIR / relative).read_bytes()


async def test_graphiql_bundle_is_gzipped_for_browsers(client: httpx.AsyncClient) -> None:
    # Read the raw stream so httpx does not transparently decode it.
    async with client.stream(
        "GET", "/static/graphiql/graphiql.min.js", headers={"Accept-Encoding": "gzip"}
    ) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    assert response.headers["content-encoding"] == "gzip"
    original = (STATIC_DIR / "graphiql/graphiql.min.js").read_bytes()
    assert len(raw) < len(original) / 2
    assert gzip.decompress(raw) == original


async def test_default_query_is_valid_against_the_schema() -> None:
    schema = graphql.build_schema(print_sdl())
    assert graphql.validate(schema, graphql.parse(DEFAULT_QUERY)) == []


def test_page_config_survives_hostile_header_values() -> None:
    hostile = {"X-Note": "</script><script>alert(1)</script>"}
    page = render_graphiql_page(default_headers=hostile, root_path="/gw")
    parsed = _parse(page)
    config = orjson.loads(parsed.config)
    assert orjson.loads(config["defaultHeaders"]) == hostile
    assert config["endpoint"] == "/gw/graphql"
    assert config["defaultQuery"] == DEFAULT_QUERY
    assert page.count("</script>") == 1 + len(SCRIPTS)  # the config block and the scripts
    assert "graphql-ws/graphql-ws.min.js" in SCRIPTS  # subscriptions over WebSocket
    assert all(url.startswith(("/gw/static/", "data:")) for url in parsed.urls)


async def test_post_typename_is_json(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=admin)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = orjson.loads(response.content)
    assert body["data"] == {"__typename": "Query"}
    # Every answer says what it cost, whether it came from the cache and which snapshot it
    # reflects.
    assert body["extensions"] == {
        "cost": 0,
        "cache": {"hit": False, "shared": False},
        "snapshot": {"id": 0, "takenAt": None},
    }


async def test_get_with_a_query_runs_it(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "{ __typename }"},
        headers={"Accept": "application/json", **admin},
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}


async def test_malformed_json_body_is_400(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.post(
        "/graphql", content=b"{not json", headers={"Content-Type": "application/json", **admin}
    )
    assert response.status_code == 400


async def test_schema_graphql_is_the_printed_sdl(client: httpx.AsyncClient) -> None:
    response = await client.get("/schema.graphql")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == print_sdl()


async def test_metrics_are_prometheus_text(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE" in response.text
