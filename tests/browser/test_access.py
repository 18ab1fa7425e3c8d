"""What the dashboard shows each caller: fields a role may not read are hidden, not broken;
a refused credential goes back to the sign-in form; signing out forgets the credential."""

from __future__ import annotations

from gateway.roles import Role
from tests.browser.live import LiveGateway
from tests.browser.pages import Dashboard


async def test_revenue_is_hidden_for_a_role_without_it(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    # The live gateway's matrix takes ad revenue and target-app ranking from SUPERAPP_OPERATOR:
    # revenue is left out of the query (readableFields), the ranked list answers FORBIDDEN.
    token = live.token(Role.SUPERAPP_OPERATOR)
    body = await dashboard.sign_in(token)
    assert "estimatedAdRevenue" not in body["query"]
    answer = await live.graphql(body, token)
    assert [e["extensions"]["code"] for e in answer.get("errors", [])] == ["FORBIDDEN"]
    assert not await dashboard.has_card("estimatedAdRevenue")
    assert await dashboard.has_card("validAdImpressions")
    assert await dashboard.has_card("activeUsers")
    assert await dashboard.page.locator("#target-apps").count() == 0
    note = await dashboard.page.inner_text("#hidden-note")
    assert "Estimated ad revenue" in note
    assert "Target apps" in note
    assert await dashboard.page.is_hidden("#error")
    await dashboard.screenshot("overview-without-revenue")


async def test_a_role_without_analytics_sees_the_catalog_and_no_errors(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    token = live.token(Role.SUPERAPP_DEVELOPER)
    body = await dashboard.sign_in(token)
    assert "activeUsers" not in body["query"]
    assert "retention" not in body["query"]
    assert await dashboard.page.locator(".card").count() == 0
    assert await dashboard.page.locator("#retention").count() == 0
    assert "Retention" in await dashboard.page.inner_text("#hidden-note")
    assert await dashboard.page.locator("#target-apps tbody tr").count() > 0
    assert await dashboard.page.is_hidden("#error")
    assert "cannot read" in await dashboard.page.inner_text("#view")


async def test_a_role_without_analytics_still_browses_mini_programs(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    # The catalog (an app's mini programs, their names and statuses) is every role's; the
    # metrics, retention and pages are left out of the queries and named in the note.
    token = live.token(Role.SUPERAPP_DEVELOPER)
    await dashboard.sign_in(token)
    await dashboard.open_app()
    headers = await dashboard.page.locator("#mini-programs thead th").all_inner_texts()
    assert "Users" not in headers
    _, body = await dashboard.open_mini_program()
    for field in ("activeUsers", "retention", "pages"):
        assert field not in body["query"], field
    program = (await live.data(body, token))["targetApp"]["miniProgram"]
    assert await dashboard.page.inner_text("#view-title") == program["name"]
    assert await dashboard.page.locator(".card").count() == 0
    assert await dashboard.page.locator("#retention, #top-pages").count() == 0
    note = await dashboard.page.inner_text("#hidden-note")
    for label in ("Unique visitors", "Retention", "Top pages"):
        assert label in note, label
    assert await dashboard.page.is_hidden("#error")
    await dashboard.screenshot("mini-program-without-analytics")


async def test_an_expired_token_goes_back_to_sign_in(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    await dashboard.page.fill("#credential", live.token(Role.PLATFORM_ADMIN, expired=True))
    await dashboard.page.click("#sign-in-form [type=submit]")
    message = dashboard.page.locator("#sign-in-message")
    await message.get_by_text("Sign in again").wait_for()
    assert await dashboard.page.is_visible("#sign-in")
    assert await dashboard.page.is_hidden("#dashboard")
    assert await dashboard.page.get_by_role("button", name="Sign out").is_hidden()
    assert "expired" in await message.inner_text()
    stored = await dashboard.page.evaluate("sessionStorage.length")
    assert stored == 0
    await dashboard.screenshot("sign-in-expired")


async def test_sign_out_forgets_the_credential(dashboard: Dashboard, live: LiveGateway) -> None:
    await dashboard.sign_in(live.token(Role.PLATFORM_ADMIN))
    await dashboard.page.reload()  # the credential survives a reload of the tab
    await dashboard.page.locator("#data-overview").wait_for()
    await dashboard.page.get_by_role("button", name="Sign out").click()
    assert await dashboard.page.is_visible("#sign-in")
    assert await dashboard.page.evaluate("sessionStorage.length") == 0


async def test_an_api_key_signs_in_and_is_sent_as_x_api_key(
    dashboard: Dashboard, live: LiveGateway
) -> None:
    key = await live.api_key("browser-dashboard", Role.SUPERAPP_ADMIN)
    async with dashboard.page.expect_request(lambda r: r.url.endswith("/graphql")) as first:
        await dashboard.sign_in(key)
    headers = await (await first.value).all_headers()
    assert headers["x-api-key"] == key
    assert "authorization" not in headers
    assert await dashboard.has_card("estimatedAdRevenue")  # the default matrix's admin
    assert "apikey:browser-dashboard" in await dashboard.page.inner_text("#who")
