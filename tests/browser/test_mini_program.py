"""A mini program's page, reached from its target app's list, with the network cut: its
cards, retention and top pages are the API's answer to the body the page sent (through the
target app, so app-scoped), the pages sort by each column, and the way back leads to the app."""

from __future__ import annotations

from typing import Any

from gateway.roles import Role
from tests.browser.live import LiveGateway
from tests.browser.pages import Dashboard, assert_shows_retention

CARDS = ("activeUsers", "pageViews", "newUsers", "lifetimeUsers")
PAGE_NUMBERS = {
    "Page views": "pageViews",
    "Visitors": "visitors",
    "Total time": "totalTimeSeconds",
    "Time per visitor": "averageTimePerVisitor",
}


async def open_busiest_mini_program(
    dashboard: Dashboard, token: str
) -> tuple[str, str, dict[str, Any]]:
    """Sign in, open the first target app, then its mini program with the most users (so it
    has pages); return the app's id, the mini program's and the body the page sent."""
    await dashboard.sign_in(token)
    app_id, _ = await dashboard.open_app()
    users = [float(v) for v in await dashboard.column("#mini-programs", "Users")]
    program_id, body = await dashboard.open_mini_program(users.index(max(users)))
    return app_id, program_id, body


async def _assert_shows_pages(dashboard: Dashboard, pages: dict[str, Any]) -> None:
    nodes = pages["nodes"]
    rows = dashboard.page.locator("#top-pages tbody tr")
    assert [await rows.nth(i).get_attribute("data-path") for i in range(len(nodes))] == [
        node["path"] for node in nodes
    ]
    assert await rows.count() == len(nodes)
    for title, field in PAGE_NUMBERS.items():
        shown = [float(v) for v in await dashboard.column("#top-pages", title)]
        assert shown == [node[field] for node in nodes], field
    heading = await dashboard.page.inner_text("#top-pages-title")
    assert heading == f"Top pages ({pages['totalCount']})"


async def test_a_mini_program_page_shows_its_cards_retention_and_pages(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    token = live.token(Role.PLATFORM_ADMIN)
    app_id, program_id, body = await open_busiest_mini_program(dashboard, token)
    assert dashboard.page.url.endswith(f"#/apps/{app_id}/mini-programs/{program_id}")
    assert (body["variables"]["app"], body["variables"]["program"]) == (app_id, program_id)
    assert body["variables"]["pageOrder"] == {"field": "PAGE_VIEWS", "direction": "DESC"}
    assert "type" not in body["variables"]  # one mini program: no type or category filter
    assert await dashboard.page.is_hidden("#type-field")
    assert await dashboard.page.is_hidden("#category-field")
    app = (await live.data(body, token))["targetApp"]
    program = app["miniProgram"]
    assert program["id"] == program_id
    assert await dashboard.page.inner_text("#view-title") == program["name"]
    for field in CARDS:
        assert await dashboard.card_value(field) == program[field]["value"], field
    assert program["activeUsers"]["value"] > 0
    caption = dashboard.page.locator("#performance-chart figcaption")
    await dashboard.page.locator('.card[data-field="pageViews"]').click()  # charted, no request
    assert await caption.inner_text() == "Page views per day"
    assert_shows_retention(await dashboard.retention_table(), program["retention"])
    assert program["pages"]["nodes"]
    await _assert_shows_pages(dashboard, program["pages"])
    assert await dashboard.page.is_hidden("#error")
    await dashboard.screenshot("mini-program")
    assert dashboard.outside_requests() == []


async def test_top_pages_sort_by_each_column(dashboard: Dashboard, live: LiveGateway) -> None:
    token = live.token(Role.PLATFORM_ADMIN)
    await open_busiest_mini_program(dashboard, token)
    for column, order in (
        ("Visitors", {"field": "VISITORS", "direction": "DESC"}),
        ("Visitors", {"field": "VISITORS", "direction": "ASC"}),  # again: turned round
        ("Page", {"field": "PATH", "direction": "ASC"}),
        ("Total time", {"field": "TOTAL_TIME", "direction": "DESC"}),
    ):
        header = dashboard.page.locator("#top-pages thead").get_by_role(
            "button", name=column, exact=True
        )
        body = await dashboard.load(header.click, "MiniProgramDetails")
        assert body["variables"]["pageOrder"] == order
        pages = (await live.data(body, token))["targetApp"]["miniProgram"]["pages"]
        await _assert_shows_pages(dashboard, pages)
        sorted_header = dashboard.page.locator("#top-pages th[aria-sort]")
        assert await sorted_header.count() == 1
        expected = "ascending" if order["direction"] == "ASC" else "descending"
        assert await sorted_header.get_attribute("aria-sort") == expected
        assert column in await sorted_header.inner_text()


async def test_a_mini_program_address_survives_a_reload_and_leads_back(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    token = live.token(Role.PLATFORM_ADMIN)
    app_id, program_id, _ = await open_busiest_mini_program(dashboard, token)
    body = await dashboard.load(dashboard.page.reload, "MiniProgramDetails")
    assert (body["variables"]["app"], body["variables"]["program"]) == (app_id, program_id)
    retention = (await live.data(body, token))["targetApp"]["miniProgram"]["retention"]
    assert_shows_retention(await dashboard.retention_table(), retention)
    crumbs = dashboard.page.get_by_role("navigation", name="Breadcrumb")
    back = await dashboard.load(
        lambda: crumbs.get_by_role("button").last.click(), "TargetAppDetails"
    )
    assert back["variables"]["app"] == app_id
    assert dashboard.page.url.endswith(f"#/apps/{app_id}")
    assert await dashboard.page.is_visible("#type-field")
    await dashboard.load(dashboard.page.go_back, "MiniProgramDetails")
    await dashboard.load(lambda: crumbs.get_by_role("button").first.click(), "DataOverview")
    assert dashboard.page.url.endswith("#/")


async def test_a_mini_program_outside_the_app_is_explained(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    token = live.token(Role.PLATFORM_ADMIN)
    app_id, _, _ = await open_busiest_mini_program(dashboard, token)
    missing = f"{dashboard.base_url}/dashboard#/apps/{app_id}/mini-programs/no-such-program"
    await dashboard.load(lambda: dashboard.page.goto(missing), "MiniProgramDetails")
    error = dashboard.page.get_by_role("alert")
    assert "not in this target app" in await error.inner_text()
    assert not await dashboard.has_card("activeUsers")
