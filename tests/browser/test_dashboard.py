"""The dashboard in headless Chromium against a live gateway, with the network cut.

Each test signs in, waits for the view's GraphQL operation, then re-runs exactly the body the
page sent and compares the numbers on screen with the API's answer.
"""

from __future__ import annotations

from gateway.roles import Role
from tests.browser.live import LiveGateway
from tests.browser.pages import Dashboard

OVERVIEW_FIELDS = (
    "activeUsers",
    "newUsers",
    "launches",
    "averageTimePerUser",
    "validAdImpressions",
    "estimatedAdRevenue",
    "createdMiniPrograms",
)
BREAKDOWNS = ("miniProgramsBySource", "usersBySource", "miniProgramsByCategory", "usersByCategory")


async def test_the_page_loads_offline_and_shows_what_the_api_returns(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    token = live.token(Role.PLATFORM_ADMIN)
    body = await dashboard.sign_in(token)
    workspace = (await live.data(body, token))["workspace"]
    for field in OVERVIEW_FIELDS:
        assert await dashboard.card_value(field) == workspace[field]["value"], field
    assert await dashboard.card_text("activeUsers") == f"{workspace['activeUsers']['value']:,.0f}"
    assert (await dashboard.card_text("estimatedAdRevenue")).startswith("$")
    mau = workspace["monthlyActiveUsers"][-1]["value"]
    assert await dashboard.card_value("monthlyActiveUsers") == mau
    available = workspace["availableMiniPrograms"]
    assert await dashboard.card_value("availableMiniPrograms") == available
    assert workspace["activeUsers"]["value"] > 0
    apps = workspace["targetApps"]["nodes"]
    rows = dashboard.page.locator("#target-apps tbody tr")
    assert await rows.count() == len(apps) > 0
    for i, app in enumerate(apps):
        assert await rows.nth(i).get_attribute("data-app") == app["id"]
        users = await rows.nth(i).locator(".users .num").get_attribute("data-value")
        assert float(users or "nan") == app["activeUsers"]["value"]
    assert await dashboard.page.locator("#merchant-onboarding canvas").count() == 4
    assert await dashboard.page.locator("#target-apps .sparkline canvas").count() == len(apps)
    assert await dashboard.page.is_hidden("#error")
    await dashboard.screenshot("overview")
    assert dashboard.outside_requests() == []


async def test_a_range_change_refetches_and_changes_the_numbers(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    token = live.token(Role.PLATFORM_ADMIN)
    week = await dashboard.sign_in(token)
    assert week["variables"]["range"] == {"preset": "LAST_7_DAYS"}
    shown_week = await dashboard.card_value("launches")
    month = await dashboard.load(
        lambda: dashboard.page.select_option("#range", "LAST_30_DAYS"), "DataOverview"
    )
    assert month["variables"]["range"] == {"preset": "LAST_30_DAYS"}
    assert month["query"] == week["query"]
    workspace = (await live.data(month, token))["workspace"]
    shown_month = await dashboard.card_value("launches")
    assert shown_month == workspace["launches"]["value"]
    assert shown_month > shown_week
    await dashboard.screenshot("overview-30-days")


async def test_a_target_app_page_shows_its_statuses_trends_and_breakdowns(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    token = live.token(Role.PLATFORM_ADMIN)
    await dashboard.sign_in(token)
    app_id, body = await dashboard.open_app()
    assert body["variables"]["app"] == app_id
    app = (await live.data(body, token))["targetApp"]
    assert await dashboard.page.inner_text("#view-title") == app["name"]
    for status, count in app["miniProgramStatusCounts"].items():
        assert await dashboard.card_value(status) == count, status
    for field in ("activeUsers", "pageViews", "newUsers", "lifetimeUsers"):
        assert await dashboard.card_value(field) == app[field]["value"], field
    caption = dashboard.page.locator("#performance-chart figcaption")
    assert await caption.inner_text() == "Unique visitors per day"
    page_views = dashboard.page.locator('.card[data-field="pageViews"]')
    await page_views.click()
    assert await caption.inner_text() == "Page views per day"
    assert (
        await dashboard.page.locator('.card[data-field="pageViews"]').get_attribute("aria-pressed")
        == "true"
    )
    for field in (
        "miniProgramsBySource",
        "usersBySource",
        "miniProgramsByCategory",
        "usersByCategory",
    ):
        rows = dashboard.page.locator(f"#{field} tbody tr")
        items = app[field]["items"]
        assert await rows.count() == len(items), field
        assert [await rows.nth(i).get_attribute("data-key") for i in range(len(items))] == [
            item["key"] for item in items
        ]
        assert await dashboard.page.locator(f"#{field} canvas").count() == (1 if items else 0)
    await dashboard.screenshot("target-app")
    assert dashboard.outside_requests() == []
