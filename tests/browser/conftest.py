"""Fixtures of the dashboard tests: the web tests' app client, reused as it is."""

from __future__ import annotations

from tests.web.conftest import admin, app_settings, client

__all__ = ["admin", "app_settings", "client"]
