"""Driving the dashboard in Chromium: sign in, wait for a view's operation, read the numbers.

:class:`Dashboard` wraps a Playwright page whose context routes every request: those to the
live gateway go through, any other is aborted and recorded in ``blocked`` (the network is cut,
and a test asserts nothing tried to leave). The page's WebSockets are recorded too: a view is
a live subscription (``subscription Name { live { <the view's query> } }``) whose messages are
kept in :attr:`Dashboard.frames`; :func:`as_query` turns it back into the query it runs, which
the tests send over HTTP to compare the numbers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from graphql import FieldNode, OperationDefinitionNode, parse, print_ast
from playwright.async_api import BrowserContext, Page, Response, Route, WebSocket

SCREENSHOTS = Path(__file__).parents[2] / "artifacts" / "screenshots"
"""Where each view's screenshot is kept (gitignored; CI keeps it as an artifact)."""
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
LIVE_FIELD = "live"


def as_query(body: dict[str, Any]) -> dict[str, Any]:
    """The query of a view's live subscription, character for character as the page writes
    it (queries.js ``liveOperation`` undone): ``subscription Name(...) {`` then ``  live {``,
    the query's selection indented by two more spaces, ``  }``, ``}`` and the fragments.
    Any other operation is returned as it is."""
    lines = str(body["query"]).split("\n")
    if not lines[0].startswith("subscription "):
        return body
    end = lines.index("}")  # the operation's closing brace; the fragments follow
    assert lines[1] == f"  {LIVE_FIELD} {{", body["query"]
    assert lines[end - 1] == "  }", body["query"]
    selection = lines[2 : end - 1]
    assert all(line.startswith("  ") for line in selection), body["query"]
    header = "query " + lines[0].removeprefix("subscription ")
    query = "\n".join([header, *(line[2:] for line in selection), *lines[end:]])
    # The same operation as the subscription's `live` selection, as GraphQL reads it.
    (operation,) = [
        d for d in parse(body["query"]).definitions if isinstance(d, OperationDefinitionNode)
    ]
    (field,) = operation.selection_set.selections
    assert isinstance(field, FieldNode)
    assert field.selection_set is not None
    (rewritten,) = [d for d in parse(query).definitions if isinstance(d, OperationDefinitionNode)]
    assert print_ast(rewritten.selection_set) == print_ast(field.selection_set)
    return {**body, "query": query}


class Dashboard:
    """The dashboard page of one browser context."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.blocked: list[str] = []
        self.requested: list[str] = []
        self.errors: list[str] = []
        self.sockets: list[str] = []
        self.frames: list[dict[str, Any]] = []
        """graphql-transport-ws messages in order, each with ``sent`` (True: from the page)."""
        page.on("request", lambda request: self.requested.append(request.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("websocket", self._socket)

    def _socket(self, socket: WebSocket) -> None:
        self.sockets.append(socket.url)
        socket.on("framesent", lambda payload: self._frame(payload, sent=True))
        socket.on("framereceived", lambda payload: self._frame(payload, sent=False))

    def _frame(self, payload: str | bytes, *, sent: bool) -> None:
        message = json.loads(payload)
        if isinstance(message, dict):
            self.frames.append({**message, "sent": sent})

    def subscriptions(self, start: int = 0) -> list[dict[str, Any]]:
        """The ``subscribe`` messages the page sent (from frame ``start`` on)."""
        return [f for f in self.frames[start:] if f["sent"] and f["type"] == "subscribe"]

    def active_subscriptions(self) -> list[str]:
        """Ids of the operations subscribed and neither completed (by either side) nor
        failed."""
        active: list[str] = []
        for frame in self.frames:
            if frame["type"] == "subscribe":
                active.append(frame["id"])
            elif frame["type"] in ("complete", "error") and frame.get("id") in active:
                active.remove(frame["id"])
        return active

    def answers(self, operation_id: str) -> list[dict[str, Any]]:
        """The ``next`` payloads received for ``operation_id``, in order."""
        return [
            f["payload"]
            for f in self.frames
            if not f["sent"] and f["type"] == "next" and f.get("id") == operation_id
        ]

    @classmethod
    async def open(
        cls, context: BrowserContext, base_url: str, path: str = "/dashboard"
    ) -> Dashboard:
        """Cut the context's network but for the gateway, then load /dashboard (the sign-in
        form, as a fresh context keeps no credential), or the page at ``path``."""
        dashboard = cls(await context.new_page(), base_url)
        await context.route("**/*", dashboard._route)
        await dashboard.page.goto(f"{base_url}{path}")
        return dashboard

    async def _route(self, route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            await route.continue_()
        else:
            self.blocked.append(route.request.url)
            await route.abort("internetdisconnected")

    async def load(self, action: Callable[[], Awaitable[object]], operation: str) -> dict[str, Any]:
        """Run ``action``, wait for the page to ask for ``operation`` (a live subscription
        over its WebSocket, or a POST when it has none) and draw it; return the body of the
        query it asked for (query, variables, operationName; :func:`as_query` of a
        subscription)."""
        posted: list[Response] = []

        def on_response(response: Response) -> None:
            request = response.request
            if response.url.endswith("/graphql") and operation in (request.post_data or ""):
                posted.append(response)

        start = len(self.frames)
        self.page.on("response", on_response)
        try:
            await action()
            body = await self._asked(operation, start, posted)
        finally:
            self.page.remove_listener("response", on_response)
        await self.wait_drawn(operation)
        return body

    async def _asked(self, operation: str, start: int, posted: list[Response]) -> dict[str, Any]:
        for _ in range(600):
            for frame in self.subscriptions(start):
                if operation in frame["payload"]["query"]:
                    return as_query(frame["payload"])
            if posted:
                return dict(json.loads(posted[0].request.post_data or "{}"))
            await asyncio.sleep(0.05)
        raise AssertionError(f"the page did not ask for {operation} within 30 s")

    async def wait_drawn(self, operation: str = "the view") -> None:
        """Wait until the view is drawn (not busy, not loading)."""
        # Polled with evaluate (DevTools evaluation): wait_for_function compiles its string in the
        # page, which the dashboard's Content-Security-Policy (no 'unsafe-eval') forbids.
        drawn = (
            "document.getElementById('view').getAttribute('aria-busy') === 'false'"
            " && document.getElementById('status').textContent !== 'Loading…'"
        )
        for _ in range(600):
            if await self.page.evaluate(drawn):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the view of {operation} was not drawn within 30 s")

    async def sign_in(self, token: str, operation: str = "DataOverview") -> dict[str, Any]:
        """Paste ``token`` into the sign-in form and wait for the first view."""
        await self.page.fill("#credential", token)
        return await self.load(lambda: self.page.click("#sign-in-form [type=submit]"), operation)

    async def open_app(self, index: int = 0) -> tuple[str, dict[str, Any]]:
        """Click *View* on row ``index`` of the overview's target apps; return the app's id and
        the body of the app page's operation."""
        return await self._open("#target-apps", "app", index, "TargetAppDetails")

    async def open_mini_program(self, index: int = 0) -> tuple[str, dict[str, Any]]:
        """Click *View* on row ``index`` of a target app's mini programs; return the mini
        program's id and the body of its page's operation."""
        return await self._open("#mini-programs", "program", index, "MiniProgramDetails")

    async def _open(
        self, table: str, key: str, index: int, operation: str
    ) -> tuple[str, dict[str, Any]]:
        row = self.page.locator(f"{table} tbody tr").nth(index)
        opened = await row.get_attribute(f"data-{key}")
        assert opened is not None, (table, index)
        return opened, await self.load(lambda: row.get_by_role("button").click(), operation)

    async def custom_range(self, start: str) -> dict[str, Any]:
        """Choose a custom range (it starts as the last 7 complete days), then ``start`` as its
        first day; return the body of the overview's operation for it."""
        time = self.page.get_by_label("Time", exact=True)
        await self.load(lambda: time.select_option("CUSTOM"), "DataOverview")
        start_day = self.page.get_by_label("From", exact=True)
        return await self.load(lambda: start_day.fill(start), "DataOverview")

    async def card_value(self, field: str) -> float:
        """The raw value (data-value) shown by the card of ``field``."""
        selector = f'.card[data-field="{field}"] .card-value'
        raw = await self.page.get_attribute(selector, "data-value")
        assert raw is not None, field
        return float(raw)

    async def card_text(self, field: str) -> str:
        """The value of the card of ``field`` as the user reads it."""
        return await self.page.inner_text(f'.card[data-field="{field}"] .card-value')

    async def has_card(self, field: str) -> bool:
        """True when a card of ``field`` is on the page."""
        return await self.page.locator(f'.card[data-field="{field}"]').count() > 0

    async def retention_table(self) -> list[dict[str, Any]]:
        """The retention table as shown: each cohort row's start and size, and each period
        cell's raw rate and users (None where the cell holds none), text and title."""
        rows: list[dict[str, Any]] = await self.page.locator("#retention tbody tr").evaluate_all(
            """rows => rows.map((row) => ({
                start: row.dataset.start,
                size: Number(row.querySelector('.num').dataset.value),
                periods: [...row.querySelectorAll('td.rate')].map((td) => ({
                    rate: td.dataset.rate === undefined ? null : Number(td.dataset.rate),
                    users: td.dataset.users === undefined ? null : Number(td.dataset.users),
                    text: td.textContent, title: td.title})),
            }))"""
        )
        return rows

    async def column(self, table: str, name: str) -> list[str]:
        """The ``data-value`` (else the text) of column ``name`` in each row of ``table``."""
        return await self.page.locator(f"{table} tbody tr").evaluate_all(
            """(rows, name) => rows.map((row) => {
                const titles = [...row.closest('table').querySelectorAll('thead th')]
                    .map((th) => th.textContent.replace(/[▲▼]/g, '').trim());
                const cell = row.children[titles.indexOf(name)];
                return cell.querySelector('[data-value]')?.dataset.value ?? cell.textContent;
            })""",
            name,
        )

    async def screenshot(self, name: str) -> Path:
        """A full-page screenshot kept under :data:`SCREENSHOTS`."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    def outside_requests(self) -> list[str]:
        """Requests and WebSockets to anything but the gateway (blocked or not): none is
        expected."""
        local = [url for url in self.requested if not url.startswith(self.base_url)]
        socket_base = "ws" + self.base_url.removeprefix("http")
        sockets = [url for url in self.sockets if not url.startswith(socket_base)]
        return (
            self.blocked
            + sockets
            + [url for url in local if not url.startswith(("data:", "blob:"))]
        )


def assert_shows_retention(shown: list[dict[str, Any]], retention: dict[str, Any]) -> None:
    """``shown`` (:meth:`Dashboard.retention_table`) is the API's ``retention``: the same
    cohorts, sizes, rates and users; a dash where there is no rate, the users in the title."""
    cohorts = retention["cohorts"]
    assert [(row["start"], row["size"]) for row in shown] == [
        (cohort["start"], cohort["size"]) for cohort in cohorts
    ]
    for row, cohort in zip(shown, cohorts, strict=True):
        assert [(cell["rate"], cell["users"]) for cell in row["periods"]] == [
            (period["rate"], period["users"]) for period in cohort["periods"]
        ], cohort["start"]
        for cell in row["periods"]:
            if cell["rate"] is None:
                assert cell["text"] == "—"
            else:
                assert cell["text"].endswith("%")
                assert f"{cell['users']:,} of {row['size']:,} users" in cell["title"]
