"""Live answers in headless Chromium, with the network cut: the dashboard left open updates
itself after new events and a refresh (one subscription per view, updated in place, no
reload), falls back to HTTP without WebSocket, and GraphiQL runs subscriptions.

These tests ingest events and take snapshots, so they run against a gateway of their own
(:func:`gateway`), not the session's shared one.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, WebSocketRoute

from gateway.roles import Role
from gateway.store.db import create_engine
from gateway.store.ingest import ingest_lines
from gateway.store.rollup import refresh
from tests.browser.live import LiveGateway
from tests.browser.pages import Dashboard

CARDS = ("activeUsers", "newUsers", "launches", "validAdImpressions")
WAIT_SECONDS = 30.0
"""How long a live update may take: the server polls for snapshots every second; a loaded
machine is slow, not wrong."""
MARKER = "window.liveTestMarker"
APPS_QUERY = """query LiveTestApps($workspace: ID!) {
  workspace(id: $workspace) { targetApps(first: 1) { nodes { id } } }
}"""
PROGRAM_QUERY = """query LiveTestProgram($app: ID!) {
  targetApp(id: $app) { miniPrograms(first: 1) { nodes { id } } }
}"""


@pytest.fixture(scope="module")
async def gateway(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveGateway]:
    """A gateway of this module's own (its data changes), with GraphiQL's headers pre-filled
    with a platform admin's token, as ``gateway demo`` does."""
    started = await LiveGateway.start(
        tmp_path_factory.mktemp("live-updates"), graphiql_role=Role.PLATFORM_ADMIN
    )
    yield started
    started.stop()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh browser context (no kept credential)."""
    opened = await browser.new_context(viewport={"width": 1280, "height": 900})
    yield opened
    await opened.close()


async def _opened(
    context: BrowserContext, gateway: LiveGateway, path: str = "/dashboard"
) -> Dashboard:
    return await Dashboard.open(context, gateway.url, path)


class Events:
    """New users launching a mini program of a target app yesterday (in every preset range but
    TODAY), each batch with new users, ingested then folded by a refresh."""

    def __init__(self, gateway: LiveGateway) -> None:
        self.gateway = gateway

    async def _program(self, app: str | None) -> tuple[str, str]:
        token = self.gateway.token(Role.PLATFORM_ADMIN)
        if app is None:
            body = {"query": APPS_QUERY, "variables": {"workspace": self.gateway.workspace_id}}
            apps = (await self.gateway.data(body, token))["workspace"]["targetApps"]["nodes"]
            app = str(apps[0]["id"])
        body = {"query": PROGRAM_QUERY, "variables": {"app": app}}
        programs = (await self.gateway.data(body, token))["targetApp"]["miniPrograms"]["nodes"]
        return app, programs[0]["id"]

    async def add(self, users: int = 3, app: str | None = None) -> None:
        """Ingest ``users`` new users with two launches each in ``app`` (else the workspace's
        first target app), then take a snapshot."""
        app, program = await self._program(app)
        batch = uuid.uuid4().hex[:12]  # new users and event ids in every test of the module
        day = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
        at = (day - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines = []
        for n in range(users):
            guid = f"u_live_{batch}_{n}"
            lines.append({"kind": "user", "guid": guid, "source": "browser", "createdAt": at})
            for launch in range(2):
                lines.append(
                    {
                        "kind": "launch",
                        "id": f"ev_live_{batch}_{n}_{launch}",
                        "at": at,
                        "targetAppId": app,
                        "miniProgramId": program,
                        "userGuid": guid,
                        "platform": "IOS",
                        "region": "SG",
                    }
                )
        engine = create_engine(self.gateway.settings)
        try:
            encoded = [json.dumps(line).encode() for line in lines]
            report = await ingest_lines(engine, encoded, source="browser-live-test")
            assert report.stored == len(lines), report
            await refresh(engine)
        finally:
            await engine.dispose()


@pytest.fixture
def events(gateway: LiveGateway) -> Events:
    return Events(gateway)


async def _eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} within {WAIT_SECONDS} s")


async def _snapshot_line(page: Dashboard) -> tuple[str, str]:
    line = page.page.locator("#snapshot")
    return await line.inner_text(), await line.get_attribute("data-taken-at") or ""


async def _mark(page: Dashboard) -> None:
    """Marks that a reload or a redraw from nothing would lose: a window property, and a
    property of the activeUsers card element (kept when the view is updated in place)."""
    await page.page.evaluate(
        f"""() => {{
            {MARKER} = 'still here';
            document.querySelector('.card[data-field="activeUsers"]').liveTestMarker = 1;
        }}"""
    )


async def _marks_survive(page: Dashboard) -> bool:
    result: bool = await page.page.evaluate(
        f"""() => {MARKER} === 'still here'
            && document.querySelector('.card[data-field="activeUsers"]').liveTestMarker === 1"""
    )
    return result


async def _workspace(gateway: LiveGateway, body: dict[str, Any], token: str) -> dict[str, Any]:
    """The workspace of a fresh HTTP answer to ``body`` (errors only for what the role hides)."""
    answer = await gateway.graphql(body, token)
    codes = {error["extensions"]["code"] for error in answer.get("errors", [])}
    assert codes <= {"FORBIDDEN"}, answer.get("errors")
    workspace: dict[str, Any] = answer["data"]["workspace"]
    return workspace


async def _assert_shows(page: Dashboard, workspace: dict[str, Any]) -> None:
    for field in CARDS:
        assert await page.card_value(field) == workspace[field]["value"], field


async def test_the_overview_updates_itself_for_two_roles(
    context: BrowserContext, browser: Browser, gateway: LiveGateway, events: Events
) -> None:
    admin_token = gateway.token(Role.PLATFORM_ADMIN)
    operator_token = gateway.token(Role.SUPERAPP_OPERATOR)
    admin = await _opened(context, gateway)
    other = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        operator = await _opened(other, gateway)
        admin_body = await admin.sign_in(admin_token)
        operator_body = await operator.sign_in(operator_token)
        pages = {
            "admin": (admin, admin_body, admin_token),
            "operator": (operator, operator_body, operator_token),
        }
        before: dict[str, tuple[float, tuple[str, str]]] = {}
        for name, (page, body, token) in pages.items():
            # One live subscription holds the whole view; its first answer is the HTTP answer.
            assert len(page.subscriptions()) == 1, name
            assert page.active_subscriptions() == [page.subscriptions()[0]["id"]]
            await _assert_shows(page, await _workspace(gateway, body, token))
            await _mark(page)
            before[name] = (await page.card_value("activeUsers"), await _snapshot_line(page))
        # The operator's matrix forbids ranking target apps: the FORBIDDEN path under `live`
        # is read as the view's own (hidden, not an error).
        assert "Target apps" in await operator.page.inner_text("#hidden-note")
        assert await operator.page.is_hidden("#error")

        await events.add(users=3)

        for name, (page, body, token) in pages.items():
            shown = before[name][0]

            async def changed(page: Dashboard = page, shown: float = shown) -> bool:
                return await page.card_value("activeUsers") != shown

            await _eventually(changed, f"the {name}'s overview did not update itself")
            fresh = await _workspace(gateway, body, token)
            assert fresh["activeUsers"]["value"] == shown + 3
            await _assert_shows(page, fresh)
            assert await _marks_survive(page), name  # no reload, no redraw from nothing
            text, taken = await _snapshot_line(page)
            assert taken != before[name][1][1], name  # the new snapshot's time
            assert text != before[name][1][0], name
            assert text.startswith("Data as of "), text
            # Still the one subscription, updated by `next` messages on it.
            assert len(page.subscriptions()) == 1, name
            assert len(page.answers(page.subscriptions()[0]["id"])) >= 2, name
            assert await page.page.is_hidden("#error"), name
            assert page.outside_requests() == [], name
            assert page.errors == [], page.errors
        assert "Target apps" in await operator.page.inner_text("#hidden-note")
        await admin.screenshot("live-overview-updated")
    finally:
        await other.close()


async def test_a_target_app_page_updates_its_cards_and_chart_in_place(
    context: BrowserContext, gateway: LiveGateway, events: Events
) -> None:
    token = gateway.token(Role.PLATFORM_ADMIN)
    page = await _opened(context, gateway)
    await page.sign_in(token)
    app_id, body = await page.open_app()
    assert len(page.active_subscriptions()) == 1  # the overview's completed
    await _mark(page)
    canvas = "#performance-chart canvas"
    await page.page.evaluate(f"() => {{ document.querySelector('{canvas}').liveTestMarker = 1; }}")
    chart_before = await page.page.evaluate(
        f"() => Chart.getChart(document.querySelector('{canvas}')).data.datasets[0].data"
    )
    shown = await page.card_value("activeUsers")

    await events.add(users=2, app=app_id)

    async def changed() -> bool:
        return await page.card_value("activeUsers") != shown

    await _eventually(changed, "the target app page did not update itself")
    app = (await gateway.data(body, token))["targetApp"]
    for field in ("activeUsers", "pageViews", "newUsers", "lifetimeUsers"):
        assert await page.card_value(field) == app[field]["value"], field
    assert await _marks_survive(page)
    # The same canvas and chart, with the new series.
    same_canvas = await page.page.evaluate(
        f"() => document.querySelector('{canvas}').liveTestMarker === 1"
    )
    assert same_canvas
    chart_after = await page.page.evaluate(
        f"() => Chart.getChart(document.querySelector('{canvas}')).data.datasets[0].data"
    )
    assert chart_after == [point["value"] for point in app["activeUsers"]["series"]]
    assert chart_after != chart_before
    charts = await page.page.evaluate("document.querySelectorAll('canvas').length")
    assert charts > 1
    assert page.outside_requests() == []
    assert page.errors == [], page.errors


async def test_changing_a_control_replaces_the_subscription(
    context: BrowserContext, gateway: LiveGateway
) -> None:
    page = await _opened(context, gateway)
    await page.sign_in(gateway.token(Role.PLATFORM_ADMIN))
    first = page.subscriptions()[0]["id"]
    await page.load(lambda: page.page.select_option("#range", "LAST_30_DAYS"), "DataOverview")
    await page.load(lambda: page.page.get_by_label("Mini program count").check(), "DataOverview")
    await page.load(lambda: page.page.select_option("#data-type", "NON_PRODUCTION"), "DataOverview")
    subscribed = page.subscriptions()
    assert len(subscribed) == 4
    assert [s["payload"]["variables"]["range"] for s in subscribed[-3:]] == [
        {"preset": "LAST_30_DAYS"}
    ] * 3
    # Each new subscription completed the one before, on the same socket.
    assert page.active_subscriptions() == [subscribed[-1]["id"]]
    completed = [f["id"] for f in page.frames if f["sent"] and f["type"] == "complete"]
    assert completed[0] == first
    assert len(page.sockets) == 1
    assert page.errors == [], page.errors


async def test_without_websocket_the_dashboard_fetches_over_http(
    context: BrowserContext, gateway: LiveGateway
) -> None:
    refused: list[str] = []

    async def refuse(socket: WebSocketRoute) -> None:
        refused.append(socket.url)
        await socket.close(code=1011, reason="no WebSocket here")

    await context.route_web_socket("**/graphql", refuse)
    token = gateway.token(Role.PLATFORM_ADMIN)
    page = await _opened(context, gateway)
    body = await page.sign_in(token)
    assert refused  # it tried
    assert body["query"].startswith("query DataOverview")  # then POSTed the query
    workspace = (await gateway.data(body, token))["workspace"]
    await _assert_shows(page, workspace)
    # The next views go over HTTP straight away (no new attempt for a while).
    app_id, app_body = await page.open_app()
    assert app_body["variables"]["app"] == app_id
    assert len(refused) == 1
    assert await page.page.is_hidden("#error")
    assert page.errors == [], page.errors


async def test_a_revoked_api_key_signs_the_open_dashboard_out(
    context: BrowserContext, gateway: LiveGateway
) -> None:
    key = await gateway.api_key("browser-live", Role.SUPERAPP_ADMIN)
    page = await _opened(context, gateway)
    await page.sign_in(key)
    init = [f for f in page.frames if f["sent"] and f["type"] == "connection_init"]
    assert [f["payload"] for f in init] == [{"X-API-Key": key}]
    await gateway.revoke("browser-live")
    # The gateway closes the socket (4403) within a poll; the page asks over HTTP, which
    # refuses the key: the sign-in form comes back with the gateway's word.
    message = page.page.locator("#sign-in-message")
    await message.get_by_text("Sign in again").wait_for(timeout=WAIT_SECONDS * 1000)
    assert await page.page.is_hidden("#dashboard")
    assert "revoked" in (await message.inner_text()).lower()
    assert await page.page.evaluate("sessionStorage.length") == 0
    assert page.errors == [], page.errors


EDITED_SECONDS = 0.5
"""GraphiQL reads an edited query's operations 100 ms after the last change (debounced)."""


async def _editor(page: Dashboard, selector: str, value: str | None = None) -> str:
    """The text of GraphiQL's CodeMirror editor at ``selector`` (set to ``value`` first)."""
    text: str = await page.page.evaluate(
        """([selector, value]) => {
            const editor = document.querySelector(selector).CodeMirror;
            if (value !== null) editor.setValue(value);
            return editor.getValue();
        }""",
        [selector, value],
    )
    if value is not None:
        await asyncio.sleep(EDITED_SECONDS)
    return text


RESULT = ".result-window .CodeMirror"
QUERY = ".graphiql-query-editor .CodeMirror"
HEADERS = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"


async def _result(page: Dashboard, what: str, ready: Callable[[str], bool]) -> str:
    found = ""

    async def shown() -> bool:
        nonlocal found
        found = await page.page.evaluate(
            f"() => document.querySelector('{RESULT}')?.CodeMirror.getValue() ?? ''"
        )
        return ready(found)

    await _eventually(shown, f"GraphiQL showed no {what}")
    return found


async def test_graphiql_runs_a_subscription_offline(
    context: BrowserContext, gateway: LiveGateway, events: Events
) -> None:
    page = await _opened(context, gateway, "/graphql")
    await page.page.locator(QUERY).wait_for()
    headers = await _editor(page, HEADERS)
    assert '"Authorization": "Bearer ' in headers  # the demo's pre-filled token
    await _editor(page, QUERY, "subscription Watch { snapshots { id takenAt } }")
    await page.page.click(".graphiql-execute-button")
    first = json.loads(await _result(page, "first snapshot", lambda text: "snapshots" in text))
    first_id = first["data"]["snapshots"]["id"]

    await events.add(users=1)

    def newer(text: str) -> bool:
        return "snapshots" in text and json.loads(text)["data"]["snapshots"]["id"] != first_id

    second = json.loads(await _result(page, "second snapshot", newer))
    assert int(second["data"]["snapshots"]["id"]) > int(first_id)
    init = [f for f in page.frames if f["sent"] and f["type"] == "connection_init"]
    assert init[0]["payload"] == json.loads(headers)
    assert page.sockets[0] == gateway.url.replace("http://", "ws://") + "/graphql"

    # Edited headers: the next subscription opens a socket with them (refused: 4403).
    await page.page.click(".graphiql-execute-button")  # stops the running subscription
    await _editor(page, HEADERS, '{"Authorization": "Bearer not-a-token"}')
    await page.page.click(".graphiql-execute-button")
    refused = await _result(page, "refusal", lambda text: "4403" in text)
    assert "Forbidden" in refused
    init = [f for f in page.frames if f["sent"] and f["type"] == "connection_init"]
    assert init[-1]["payload"] == {"Authorization": "Bearer not-a-token"}
    assert len(page.sockets) == 2
    assert page.outside_requests() == []
    assert page.errors == [], page.errors
