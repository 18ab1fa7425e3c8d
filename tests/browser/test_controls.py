"""The dashboard's controls: sorting the target apps, a custom range (and the gateway's error
for one too long), the category filter of a target app, labels, and a phone-sized screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.roles import Role
from tests.browser.live import LiveGateway
from tests.browser.pages import Dashboard


def _day(days_ago: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=days_ago)).isoformat()


async def test_target_apps_sort_by_mini_program_count(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    token = live.token(Role.PLATFORM_ADMIN)
    await dashboard.sign_in(token)
    body = await dashboard.load(
        lambda: dashboard.page.get_by_label("Mini program count").check(), "DataOverview"
    )
    assert body["variables"]["order"] == {"field": "MINI_PROGRAM_COUNT", "direction": "DESC"}
    apps = (await live.data(body, token))["workspace"]["targetApps"]["nodes"]
    counts = [app["miniProgramCount"]["value"] for app in apps]
    assert counts == sorted(counts, reverse=True)
    rows = dashboard.page.locator("#target-apps tbody tr")
    assert [await rows.nth(i).get_attribute("data-app") for i in range(len(apps))] == [
        app["id"] for app in apps
    ]
    shown = await rows.first.locator(".programs .num").get_attribute("data-value")
    assert float(shown or "nan") == counts[0]
    assert await dashboard.page.get_by_label("Mini program count").is_checked()


async def test_a_custom_range_asks_for_those_days(dashboard: Dashboard, live: LiveGateway) -> None:
    token = live.token(Role.PLATFORM_ADMIN)
    await dashboard.sign_in(token)
    body = await dashboard.load(
        lambda: dashboard.page.get_by_label("Time", exact=True).select_option("CUSTOM"),
        "DataOverview",
    )
    assert body["variables"]["range"] == {"from": _day(7), "to": _day(1)}
    body = await dashboard.load(
        lambda: dashboard.page.get_by_label("From", exact=True).fill(_day(14)), "DataOverview"
    )
    assert body["variables"]["range"] == {"from": _day(14), "to": _day(1)}
    workspace = (await live.data(body, token))["workspace"]
    assert await dashboard.card_value("activeUsers") == workspace["activeUsers"]["value"]


async def test_a_range_the_gateway_refuses_is_explained(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    await dashboard.sign_in(live.token(Role.PLATFORM_ADMIN))
    await dashboard.custom_range(_day(200))
    error = dashboard.page.get_by_role("alert")
    assert await error.is_visible()
    assert "90" in await error.inner_text()  # the gateway's BAD_USER_INPUT message
    assert not await dashboard.has_card("activeUsers")
    assert await dashboard.page.locator("#hidden-note").count() == 0  # not the role's doing
    await dashboard.screenshot("range-refused")


async def test_a_category_narrows_the_target_app_page(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    token = live.token(Role.PLATFORM_ADMIN)
    await dashboard.sign_in(token)
    await dashboard.open_app()
    category = dashboard.page.get_by_label("Category", exact=True)
    options = await category.locator("option").evaluate_all("os => os.map(o => o.value)")
    assert len(options) > 1  # "all categories" and the app's categories
    body = await dashboard.load(lambda: category.select_option(options[1]), "TargetAppDetails")
    assert body["variables"]["category"] == options[1]
    app = (await live.data(body, token))["targetApp"]
    assert await dashboard.card_value("all") == app["miniProgramStatusCounts"]["all"]
    assert await dashboard.card_value("activeUsers") == app["activeUsers"]["value"]
    await dashboard.screenshot("target-app-category")


async def test_the_page_fits_a_phone_and_labels_its_controls(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    await dashboard.page.set_viewport_size({"width": 390, "height": 844})
    await dashboard.sign_in(live.token(Role.PLATFORM_ADMIN))
    for label in ("Workspace", "Time", "Type", "Data type"):
        assert await dashboard.page.get_by_label(label, exact=True).count() == 1, label
    assert await dashboard.page.get_attribute("#status", "aria-live") == "polite"
    overflow = await dashboard.page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    await dashboard.screenshot("overview-phone")


async def test_a_target_app_address_survives_a_reload_and_leads_back(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    await dashboard.sign_in(live.token(Role.PLATFORM_ADMIN))
    app_id, _ = await dashboard.open_app()
    assert dashboard.page.url.endswith(f"#/apps/{app_id}")
    body = await dashboard.load(dashboard.page.reload, "TargetAppDetails")
    assert body["variables"]["app"] == app_id
    await dashboard.load(dashboard.page.go_back, "DataOverview")
    assert await dashboard.page.locator("#target-apps").count() == 1
    crumb = dashboard.page.get_by_role("navigation", name="Breadcrumb")
    await dashboard.open_app()
    await dashboard.load(lambda: crumb.get_by_role("button").click(), "DataOverview")
    assert dashboard.page.url.endswith("#/")


async def test_a_platform_role_switches_workspaces(dashboard: Dashboard, live: LiveGateway) -> None:
    token = live.token(Role.PLATFORM_ADMIN)
    first = await dashboard.sign_in(token)
    picker = dashboard.page.get_by_label("Workspace", exact=True)
    options = await picker.locator("option").evaluate_all("os => os.map(o => o.value)")
    assert len(options) >= 2  # the tiny data has two workspaces
    assert first["variables"]["workspace"] == options[0]
    body = await dashboard.load(lambda: picker.select_option(options[1]), "DataOverview")
    assert body["variables"]["workspace"] == options[1]
    workspace = (await live.data(body, token))["workspace"]
    assert await dashboard.page.inner_text("#view-title") == f"Data overview · {workspace['name']}"
    assert await dashboard.card_value("activeUsers") == workspace["activeUsers"]["value"]
