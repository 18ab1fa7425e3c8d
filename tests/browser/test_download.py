"""The Download button: it posts the view's exact operation to /export and saves a workbook.

The workbook is opened with openpyxl and must hold the numbers the page shows, the tables
(retention, top pages) row by row.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import openpyxl

from gateway.roles import Role
from tests.browser.live import LiveGateway
from tests.browser.pages import Dashboard
from tests.browser.test_mini_program import open_busiest_mini_program


async def _download(dashboard: Dashboard, view: dict[str, Any], directory: Path) -> Path:
    """Click Download; check the /export body is the view's operation; save the file in
    ``directory`` under the name the page gave it."""
    async with (
        dashboard.page.expect_request(lambda r: r.url.endswith("/export")) as request,
        dashboard.page.expect_download() as download,
    ):
        await dashboard.page.get_by_role("button", name="Download").click()
    sent = json.loads((await request.value).post_data or "{}")
    assert sent == {**view, "format": "xlsx"}
    saved = await download.value
    assert await saved.failure() is None
    assert saved.suggested_filename.endswith(".xlsx")
    path = directory / saved.suggested_filename
    await saved.save_as(path)
    return path


def _holds(numbers: list[float], value: float) -> bool:
    """True when ``value`` is among ``numbers`` (spreadsheets keep 15-16 significant digits)."""
    return any(math.isclose(number, value, rel_tol=1e-12) for number in numbers)


def _numbers(path: Path) -> list[float]:
    """Every numeric cell of every sheet."""
    workbook = openpyxl.load_workbook(path, read_only=True)
    assert workbook.sheetnames
    return [
        float(cell)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if isinstance(cell, int | float) and not isinstance(cell, bool)
    ]


def _sheet(path: Path, *titles: str) -> list[dict[str, Any]]:
    """The rows (title -> value) of the one sheet whose header row has all of ``titles``."""
    workbook = openpyxl.load_workbook(path, read_only=True)
    found = []
    for sheet in workbook.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        if rows and set(titles) <= set(rows[0]):
            found.append([dict(zip(rows[0], row, strict=True)) for row in rows[1:]])
    assert len(found) == 1, (titles, workbook.sheetnames)
    return found[0]


async def _assert_holds_retention(dashboard: Dashboard, path: Path) -> None:
    """The workbook's retention sheets are the table on screen: cohorts, then their periods."""
    shown = await dashboard.retention_table()
    assert shown
    cohorts = _sheet(path, "Start", "Size")
    assert [(row["Start"].date().isoformat(), row["Size"]) for row in cohorts] == [
        (row["start"], row["size"]) for row in shown
    ]
    periods = _sheet(path, "Cohorts #", "Offset", "Users", "Rate")
    cells = [
        (number, offset, cell["users"], cell["rate"])
        for number, row in enumerate(shown, 1)
        for offset, cell in enumerate(row["periods"], 1)
    ]
    assert [(row["Cohorts #"], row["Offset"], row["Users"]) for row in periods] == [
        cell[:3] for cell in cells
    ]
    for row, (*_, rate) in zip(periods, cells, strict=True):
        assert row["Rate"] == rate or _holds([row["Rate"]], rate)  # None, or 15-16 digits


async def test_download_saves_the_overview_as_a_workbook(
    dashboard: Dashboard, live: LiveGateway, tmp_path: Path
) -> None:
    view = await dashboard.sign_in(live.token(Role.PLATFORM_ADMIN))
    path = await _download(dashboard, view, tmp_path)
    numbers = _numbers(path)
    for field in ("activeUsers", "launches", "estimatedAdRevenue", "createdMiniPrograms"):
        assert _holds(numbers, await dashboard.card_value(field)), field
    await _assert_holds_retention(dashboard, path)
    assert await dashboard.page.is_hidden("#error")
    assert "Downloaded" in await dashboard.page.inner_text("#status")
    assert dashboard.outside_requests() == []


async def test_download_saves_a_mini_program_page_with_its_tables(
    dashboard: Dashboard, live: LiveGateway, tmp_path: Path
) -> None:
    token = live.token(Role.PLATFORM_ADMIN)
    await open_busiest_mini_program(dashboard, token)
    # What is on screen is downloaded: a weekly table of active users, pages by visitors.
    retention = dashboard.page.locator("#retention")
    for switch in ("Week", "Active users"):
        await dashboard.load(retention.get_by_label(switch, exact=True).check, "MiniProgramDetails")
    header = dashboard.page.locator("#top-pages thead").get_by_role("button", name="Visitors")
    view = await dashboard.load(header.click, "MiniProgramDetails")
    assert (view["variables"]["granularity"], view["variables"]["cohort"]) == (
        "WEEK",
        "ACTIVE_USERS",
    )
    path = await _download(dashboard, view, tmp_path)
    numbers = _numbers(path)
    for field in ("activeUsers", "pageViews", "newUsers", "lifetimeUsers"):
        assert _holds(numbers, await dashboard.card_value(field)), field
    await _assert_holds_retention(dashboard, path)
    pages = _sheet(path, "Path", "Page views", "Visitors")
    shown_paths = await dashboard.column("#top-pages", "Page")
    assert [row["Path"] for row in pages] == shown_paths
    for title in ("Page views", "Visitors"):
        shown = [float(value) for value in await dashboard.column("#top-pages", title)]
        assert [row[title] for row in pages] == shown, title
    assert "Downloaded" in await dashboard.page.inner_text("#status")
    assert dashboard.outside_requests() == []


async def test_download_saves_a_target_app_page_with_its_series(
    dashboard: Dashboard, live: LiveGateway, tmp_path: Path
) -> None:
    await dashboard.sign_in(live.token(Role.PLATFORM_ADMIN))
    _, view = await dashboard.open_app()
    path = await _download(dashboard, view, tmp_path)
    workbook = openpyxl.load_workbook(path, read_only=True)
    assert len(workbook.sheetnames) > 1  # the summary and the lists (series, breakdown items)
    numbers = _numbers(path)
    for field in ("activeUsers", "pageViews", "all", "fullRelease"):
        assert _holds(numbers, await dashboard.card_value(field)), field


async def test_download_keeps_to_what_the_role_may_read(
    dashboard: Dashboard, live: LiveGateway, tmp_path: Path
) -> None:
    # The operator's overview has a FORBIDDEN path (target-app ranking): the file still comes.
    view = await dashboard.sign_in(live.token(Role.SUPERAPP_OPERATOR))
    path = await _download(dashboard, view, tmp_path)
    numbers = _numbers(path)
    assert _holds(numbers, await dashboard.card_value("activeUsers"))
    assert await dashboard.page.is_hidden("#error")


async def test_a_refused_download_goes_back_to_sign_in(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    # /export answers 401 with a JSON error once the key is revoked: no file, the sign-in form.
    await dashboard.sign_in(await live.api_key("browser-download", Role.PLATFORM_ADMIN))
    await live.revoke("browser-download")
    async with dashboard.page.expect_response(lambda r: r.url.endswith("/export")) as answer:
        await dashboard.page.get_by_role("button", name="Download").click()
    response = await answer.value
    assert response.status == 401
    assert response.headers["content-type"].startswith("application/json")
    await dashboard.page.locator("#sign-in").wait_for()
    assert "Sign in again" in await dashboard.page.inner_text("#sign-in-message")
    assert await dashboard.page.evaluate("sessionStorage.length") == 0
