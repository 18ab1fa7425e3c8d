"""``gateway demo``'s ready tokens and ``gateway serve``'s authentication start-up checks."""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.authz.tokens import verify_token
from gateway.cli.demo_tokens import (
    DEMO_TOKEN_TTL,
    DemoScopes,
    curl_example,
    demo_scopes,
    demo_tokens,
    print_demo_tokens,
)
from gateway.cli.serve import _check_authentication, _fresh_database
from gateway.roles import Grant, Role
from gateway.settings import Settings
from gateway.store.ingest import ingest_lines
from tests.store.ingest_support import (
    launch,
    lines,
    merchant,
    mini_program,
    target_app,
    workspace,
)

SECRET = "demo-test-secret-with-32-characters"


async def test_scopes_pick_the_first_workspace_and_its_most_launched_merchant(
    engine: AsyncEngine,
) -> None:
    records = [
        workspace("ws_b"),
        workspace("ws_a"),
        merchant("m_1", "ws_a"),
        merchant("m_2", "ws_a"),
        merchant("m_9", "ws_b"),
        mini_program("p1", "ws_a", "m_1"),
        mini_program("p2", "ws_a", "m_2"),
        mini_program("p3", "ws_a", "m_2"),
        mini_program("p4", "ws_a", None),  # no merchant: not a candidate
        *(mini_program(f"q{i}", "ws_b", "m_9") for i in range(5)),
        target_app("app_a", "ws_a"),
        target_app("app_b", "ws_b"),
        # m_1 has fewer mini programs than m_2 but more launches: it shows real numbers.
        *(launch(f"e{i}", f"u{i}", "app_a", "p1") for i in range(3)),
        launch("e9", "u9", "app_a", "p2"),
        launch("e10", "u4", "app_a", "p4"),  # no merchant
        *(launch(f"f{i}", f"u{i}", "app_b", "q0") for i in range(9)),  # busier, other workspace
    ]
    await ingest_lines(engine, lines(records), source="test")
    assert await demo_scopes(engine) == DemoScopes("ws_a", "m_1")


async def test_scopes_of_an_empty_database(engine: AsyncEngine) -> None:
    assert await demo_scopes(engine) == DemoScopes(None, None)


def test_tokens_are_valid_scoped_and_last_a_day() -> None:
    settings = Settings(jwt_secret=SECRET)
    tokens = demo_tokens(settings, DemoScopes("ws_a", "m_2"))
    grants = {t.role: verify_token(t.token, settings).grants for t in tokens}
    assert grants == {
        "PLATFORM_ADMIN": (Grant(Role.PLATFORM_ADMIN),),
        "SUPERAPP_OPERATOR": (Grant(Role.SUPERAPP_OPERATOR, workspace_id="ws_a"),),
        "SUPERAPP_DEVELOPER": (Grant(Role.SUPERAPP_DEVELOPER, workspace_id="ws_a"),),
        "MINI_PROGRAM_ADMIN": (Grant(Role.MINI_PROGRAM_ADMIN, merchant_id="m_2"),),
        "MINI_PROGRAM_DEVELOPER": (Grant(Role.MINI_PROGRAM_DEVELOPER, merchant_id="m_2"),),
    }
    claims = jwt.decode(tokens[0].token, options={"verify_signature": False})
    assert timedelta(seconds=claims["exp"] - claims["iat"]) == DEMO_TOKEN_TTL
    assert "ws_a" in tokens[1].sees
    assert "m_2" in tokens[3].sees


def test_without_catalog_only_the_platform_token_is_made() -> None:
    tokens = demo_tokens(Settings(jwt_secret=SECRET), DemoScopes(None, None))
    assert [t.role for t in tokens] == ["PLATFORM_ADMIN"]


def test_printed_tokens_are_never_broken_over_lines() -> None:
    tokens = demo_tokens(Settings(jwt_secret=SECRET), DemoScopes("ws_a", "m_2"))
    out = io.StringIO()
    print_demo_tokens(Console(file=out, width=60, no_color=True), tokens)
    printed = out.getvalue().splitlines()
    for token in tokens:
        assert f"    Authorization: Bearer {token.token}" in printed
    assert '{"Authorization": "Bearer <token>"}' in out.getvalue().replace("\n", " ")
    example = curl_example("http://h/graphql", '{ a(b: "c") }', tokens[0].token)
    assert f"-H 'Authorization: Bearer {tokens[0].token}'" in example
    assert """-d '{"query":"{ a(b: \\"c\\") }"}'""" in example


def test_each_demo_run_gets_its_own_secret(tmp_path: Path) -> None:
    first = _fresh_database(tmp_path / "demo.db").jwt_secret
    second = _fresh_database(tmp_path / "demo.db").jwt_secret
    assert first is not None
    assert second is not None
    assert first.get_secret_value() != second.get_secret_value()


def test_serve_warns_when_only_api_keys_can_authenticate(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        _check_authentication(Settings())
    assert "only API keys" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        _check_authentication(Settings(jwt_secret=SECRET))
    assert caplog.text == ""


def test_serve_refuses_to_start_with_a_bad_key_file(tmp_path: Path) -> None:
    with pytest.raises(typer.Exit) as exit_info:
        _check_authentication(Settings(jwt_public_key_file=tmp_path / "missing.pem"))
    assert exit_info.value.exit_code == 2
