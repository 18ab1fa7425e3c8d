"""The audience portrait (usersByPlatform, usersByRegion) on the overview, the target-app page
and the mini-program page, in headless Chromium with the network cut: each doughnut's table is
the API's answer to the body the page sent (regions past the eighth summed as "Other regions"
when there are more than nine), and the Download holds every item."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl

from gateway.roles import Role
from tests.browser.live import LiveGateway
from tests.browser.pages import Dashboard
from tests.browser.test_download import _download
from tests.browser.test_mini_program import open_busiest_mini_program

TOP_REGIONS = 8
PORTRAIT = ("usersByPlatform", "usersByRegion")


def _listed(field: str, items: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """(key, count) of each row the page should list: regions past the eighth summed."""
    pairs = [(item["key"], item["count"]) for item in items]
    if field != "usersByRegion" or len(pairs) <= TOP_REGIONS + 1:
        return pairs
    rest = pairs[TOP_REGIONS:]
    return [*pairs[:TOP_REGIONS], ("OTHER_REGIONS", sum(count for _, count in rest))]


async def _row(rows: Any, i: int) -> tuple[str, int]:
    """(key, count) of the i-th row of a breakdown table."""
    count = await rows.nth(i).locator("td .num[data-value]").get_attribute("data-value")
    return await rows.nth(i).get_attribute("data-key") or "", int(count or -1)


async def _assert_shows_portrait(dashboard: Dashboard, entity: dict[str, Any]) -> None:
    for field in PORTRAIT:
        answer = entity[field]
        rows = dashboard.page.locator(f"#{field} tbody tr")
        shown = [await _row(rows, i) for i in range(await rows.count())]
        assert shown == _listed(field, answer["items"]), field
        assert answer["items"], f"{field}: the demo data has launches in the range"
        total = dashboard.page.locator(f"#{field} .total strong")
        assert float(await total.get_attribute("data-value") or "nan") == answer["total"]
        assert await dashboard.page.locator(f"#{field} canvas").count() == 1
    # Platforms by name, countries by name with their code.
    platform_names = await dashboard.page.locator("#usersByPlatform tbody th").all_inner_texts()
    assert set(platform_names) <= {
        "iOS", "Android", "HarmonyOS", "Web", "Windows", "macOS", "Other", "Unknown"
    }  # fmt: skip
    first = entity["usersByRegion"]["items"][0]["key"]
    name = await dashboard.page.locator("#usersByRegion tbody th").first.inner_text()
    assert name == "Unknown" if first == "UNKNOWN" else name.endswith(f"({first})")


async def test_the_overview_shows_the_workspace_portrait(
    dashboard: Dashboard, live: LiveGateway, tmp_path: Path
) -> None:
    token = live.token(Role.PLATFORM_ADMIN)
    await dashboard.sign_in(token)
    body = await dashboard.load(
        lambda: dashboard.page.select_option("#range", "LAST_30_DAYS"), "DataOverview"
    )
    workspace = (await live.data(body, token))["workspace"]
    await _assert_shows_portrait(dashboard, workspace)
    regions = workspace["usersByRegion"]["items"]
    assert len(regions) > TOP_REGIONS + 1, "the demo workspace's users come from many countries"
    other = dashboard.page.locator('#usersByRegion tr[data-key="OTHER_REGIONS"] th')
    assert await other.inner_text() == f"Other regions ({len(regions) - TOP_REGIONS})"
    # The Download holds every region, not only the listed ones.
    path = await _download(dashboard, body, tmp_path)
    workbook = openpyxl.load_workbook(path, read_only=True)
    keys = {
        cell
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if isinstance(cell, str)
    }
    assert {item["key"] for item in regions} <= keys
    await dashboard.screenshot("overview-portrait")
    assert dashboard.outside_requests() == []


async def test_the_target_app_page_shows_the_portrait_beside_its_breakdowns(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    token = live.token(Role.PLATFORM_ADMIN)
    await dashboard.sign_in(token)
    _, body = await dashboard.open_app()
    app = (await live.data(body, token))["targetApp"]
    await _assert_shows_portrait(dashboard, app)
    cards = dashboard.page.locator("#breakdowns .breakdown-card")
    ids = [await cards.nth(i).get_attribute("id") for i in range(await cards.count())]
    assert ids[-2:] == list(PORTRAIT)
    assert dashboard.outside_requests() == []


async def test_the_mini_program_page_shows_its_portrait_in_the_app(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    token = live.token(Role.PLATFORM_ADMIN)
    _, _, body = await open_busiest_mini_program(dashboard, token)
    assert "usersByPlatform(timeRange: $range, dataType: $dataType)" in body["query"]
    program = (await live.data(body, token))["targetApp"]["miniProgram"]
    await _assert_shows_portrait(dashboard, program)
    await dashboard.screenshot("mini-program-portrait")
    assert dashboard.outside_requests() == []


async def test_a_role_without_analytics_sees_no_portrait(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    # The portrait is analytics: a catalog-only role's overview does not ask for it, draws no
    # doughnut and names it among what the role cannot read.
    token = live.token(Role.SUPERAPP_DEVELOPER)
    body = await dashboard.sign_in(token)
    assert "usersByPlatform" not in body["query"]
    assert await dashboard.page.locator("#portrait").count() == 0
    note = await dashboard.page.inner_text("#hidden-note")
    assert "Users by platform" in note
    assert "Users by region" in note
    assert dashboard.outside_requests() == []
