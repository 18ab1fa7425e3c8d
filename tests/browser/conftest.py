"""Fixtures of the dashboard tests: the web tests' app client (HTTP-level tests), and for the
browser tests a live gateway and the distribution's Chromium driven by Playwright.

Chromium is ``/usr/bin/chromium`` (Debian's ``chromium`` package; ``.ci/run`` installs it).
Playwright's own browser downloads are never used. A missing browser fails the tests, loudly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from tests.browser.live import LiveGateway
from tests.browser.pages import Dashboard
from tests.web.conftest import admin, app_settings, client

__all__ = ["admin", "app_settings", "client"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
async def live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveGateway]:
    """A gateway over generated data on a free port, shared by the browser tests of the session."""
    gateway = await LiveGateway.start(tmp_path_factory.mktemp("live-gateway"))
    yield gateway
    gateway.stop()


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The distribution's Chromium; its absence fails the test (never a skip)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(`apt-get install -y chromium`, as .ci/run does); the browser tests never skip",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    """Headless Chromium from the distribution, launched by Playwright."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


@pytest.fixture
async def dashboard(browser: Browser, live: LiveGateway) -> AsyncIterator[Dashboard]:
    """/dashboard opened in a fresh context (no kept credential) with the network cut; the
    page must raise no script error."""
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = await Dashboard.open(context, live.url)
    yield page
    await context.close()
    assert page.errors == [], page.errors
