"""The retention table of the overview and of a target app, with the network cut.

Each switch (who a cohort holds, the granularity) must send the view's operation again with
the matching arguments; the table shown must then be the API's answer to that very body.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.roles import Role
from tests.browser.live import LiveGateway
from tests.browser.pages import Dashboard, assert_shows_retention

TODAY = datetime.now(UTC).date()
YESTERDAY = (TODAY - timedelta(days=1)).isoformat()


async def _switch(dashboard: Dashboard, label: str, operation: str) -> dict[str, object]:
    """Check the retention switch ``label`` and wait for the view's new operation."""
    switch = dashboard.page.locator("#retention").get_by_label(label, exact=True)
    body = await dashboard.load(switch.check, operation)
    assert await dashboard.page.locator("#retention").get_by_label(label, exact=True).is_checked()
    return body


async def test_the_overview_retention_is_the_api_s_for_each_switch(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    token = live.token(Role.PLATFORM_ADMIN)
    body = await dashboard.sign_in(token)
    variables = body["variables"]
    assert variables["cohorts"] == variables["range"] == {"preset": "LAST_7_DAYS"}
    assert (variables["granularity"], variables["periods"], variables["cohort"]) == (
        "DAY",
        7,
        "NEW_USERS",
    )
    retention = (await live.data(body, token))["workspace"]["retention"]
    assert len(retention["cohorts"]) == 7
    shown = await dashboard.retention_table()
    assert_shows_retention(shown, retention)
    cells = [cell for row in shown for cell in row["periods"]]
    assert any(cell["rate"] for cell in cells)  # people come back...
    assert any(cell["users"] is None for cell in cells)  # ...and the future is a dash
    newcomers = sum(cohort["size"] for cohort in retention["cohorts"])
    assert newcomers == await dashboard.card_value("newUsers")  # NEW_USERS sizes sum to it

    active = await _switch(dashboard, "Active users", "DataOverview")
    assert active["query"] == body["query"]
    assert active["variables"] == {**variables, "cohort": "ACTIVE_USERS"}
    retention = (await live.data(active, token))["workspace"]["retention"]
    assert retention["cohortKind"] == "ACTIVE_USERS"
    assert_shows_retention(await dashboard.retention_table(), retention)
    focused = await dashboard.page.evaluate("document.activeElement.value")
    assert focused == "ACTIVE_USERS"  # the switch keeps the focus across the redraw

    for label, granularity, periods, days in (("Week", "WEEK", 8, 56), ("Month", "MONTH", 3, 90)):
        sent = await _switch(dashboard, label, "DataOverview")
        assert sent["variables"] == {
            **variables,
            "cohort": "ACTIVE_USERS",
            "granularity": granularity,
            "periods": periods,
            "cohorts": {"days": days, "endDate": YESTERDAY},
        }
        retention = (await live.data(sent, token))["workspace"]["retention"]
        assert retention["granularity"] == granularity
        assert_shows_retention(await dashboard.retention_table(), retention)
        headers = await dashboard.page.locator("#retention thead th").all_inner_texts()
        assert headers == ["Cohort", "Users", *(f"{label} {k}" for k in range(1, periods + 1))]
    await dashboard.screenshot("overview-retention-month")
    assert dashboard.outside_requests() == []


async def test_a_target_app_retention_follows_its_filters(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    token = live.token(Role.PLATFORM_ADMIN)
    await dashboard.sign_in(token)
    _, body = await dashboard.open_app()
    assert "retention(cohorts: $cohorts" in body["query"]
    retention = (await live.data(body, token))["targetApp"]["retention"]
    assert_shows_retention(await dashboard.retention_table(), retention)
    week = await _switch(dashboard, "Week", "TargetAppDetails")
    assert week["variables"]["granularity"] == "WEEK"
    retention = (await live.data(week, token))["targetApp"]["retention"]
    assert_shows_retention(await dashboard.retention_table(), retention)
    category = dashboard.page.get_by_label("Category", exact=True)
    options = await category.locator("option").evaluate_all("os => os.map(o => o.value)")
    narrowed = await dashboard.load(lambda: category.select_option(options[1]), "TargetAppDetails")
    assert narrowed["variables"]["category"] == options[1]
    assert narrowed["variables"]["granularity"] == "WEEK"  # the switch is kept
    retention = (await live.data(narrowed, token))["targetApp"]["retention"]
    assert_shows_retention(await dashboard.retention_table(), retention)
    await dashboard.screenshot("target-app-retention-week")


async def test_the_longest_range_keeps_its_last_30_days_as_daily_cohorts(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    # 90 daily cohorts x 7 periods would take the overview past the gateway's cost limit.
    token = live.token(Role.PLATFORM_ADMIN)
    await dashboard.sign_in(token)
    start = (TODAY - timedelta(days=90)).isoformat()
    body = await dashboard.custom_range(start)
    assert body["variables"]["range"] == {"from": start, "to": YESTERDAY}
    assert body["variables"]["cohorts"] == {"days": 30, "endDate": YESTERDAY}
    answer = await live.graphql(body, token)
    assert "errors" not in answer, answer["errors"]
    assert answer["extensions"]["cost"] <= live.settings.max_query_cost
    assert await dashboard.page.is_hidden("#error")
    retention = answer["data"]["workspace"]["retention"]
    assert len(retention["cohorts"]) == 30
    assert_shows_retention(await dashboard.retention_table(), retention)
