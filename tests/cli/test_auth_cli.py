"""``gateway token`` and ``gateway apikey create|list|revoke``: output, effects, exit codes."""

from __future__ import annotations

import asyncio
import re

import jwt
import pytest
import typer
from typer.testing import CliRunner

from gateway.authz.tokens import verify_token
from gateway.cli.auth import parse_ttl, register
from gateway.roles import Grant, Role
from gateway.settings import Settings
from gateway.store.apikeys import ApiKeyMatch, verify_api_key
from gateway.store.db import create_engine
from tests.cli.support import commands

SECRET = "cli-test-secret-with-32-characters!"
KEY = re.compile(r"^gw_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$", re.MULTILINE)


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    """A Typer app with just ``token`` and ``apikey``, on the test database, with a secret."""
    monkeypatch.setenv("GATEWAY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("GATEWAY_JWT_SECRET", SECRET)
    return commands(register)


def _verify(settings: Settings, key: str) -> ApiKeyMatch | None:
    async def run() -> ApiKeyMatch | None:
        engine = create_engine(settings)
        try:
            return await verify_api_key(engine, key)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _runner() -> CliRunner:
    return CliRunner()


def test_token_prints_a_jwt_the_gateway_accepts(cli: typer.Typer) -> None:
    args = ["token", "--role", "superapp_operator", "--workspace", "ws_1", "--ttl", "2h"]
    result = _runner().invoke(cli, [*args, "--subject", "dana"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    principal = verify_token(token, Settings(jwt_secret=SECRET))
    assert principal.subject == "dana"
    assert principal.grants == (Grant(Role.SUPERAPP_OPERATOR, workspace_id="ws_1"),)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 7200


@pytest.mark.parametrize(
    "args",
    [
        ["--role", "SUPERAPP_OPERATOR"],  # needs a workspace
        ["--role", "MINI_PROGRAM_ADMIN", "--workspace", "ws_1"],  # needs a merchant instead
        ["--role", "PLATFORM_ADMIN", "--merchant", "m_1"],  # platform roles are not scoped
        ["--role", "NOT_A_ROLE"],
        ["--role", "PLATFORM_ADMIN", "--ttl", "soon"],
        ["--role", "PLATFORM_ADMIN", "--ttl", "0"],
    ],
)
def test_token_usage_errors_exit_2(cli: typer.Typer, args: list[str]) -> None:
    result = _runner().invoke(cli, ["token", *args])
    assert result.exit_code == 2, result.output
    assert "eyJ" not in result.stdout


def test_token_without_a_secret_exits_2(cli: typer.Typer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEWAY_JWT_SECRET")
    result = _runner().invoke(cli, ["token", "--role", "PLATFORM_ADMIN"])
    assert result.exit_code == 2
    assert "GATEWAY_JWT_SECRET is not set" in result.output


def test_token_with_a_short_secret_exits_2(
    cli: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_JWT_SECRET", "short")
    result = _runner().invoke(cli, ["token", "--role", "PLATFORM_ADMIN"])
    assert result.exit_code == 2
    assert "at least 32 characters" in result.output


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("30m", 1800), ("8h", 28800), ("7d", 604800), ("45", 45)]
)
def test_parse_ttl(text: str, seconds: int) -> None:
    assert parse_ttl(text).total_seconds() == seconds


def test_apikey_create_list_revoke(cli: typer.Typer, settings: Settings) -> None:
    runner = _runner()
    args = ["apikey", "create", "--name", "ingest-bot", "--role", "INGESTER"]
    created = runner.invoke(cli, args)
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    assert KEY.match(key), created.stdout
    assert "not shown again" in created.stderr
    assert _verify(settings, key) == ApiKeyMatch("ingest-bot", (Grant(Role.INGESTER),))

    listed = runner.invoke(cli, ["apikey", "list"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    prefix = key.split("_")[1]
    assert "ingest-bot" in listed.stdout
    assert prefix in listed.stdout
    assert key.split("_", 2)[2] not in listed.stdout  # never the secret
    assert "INGESTER" in listed.stdout

    revoked = runner.invoke(cli, ["apikey", "revoke", "ingest-bot"])
    assert revoked.exit_code == 0, revoked.output
    assert _verify(settings, key) is None


def test_apikey_scoped_grant(cli: typer.Typer, settings: Settings) -> None:
    args = ["apikey", "create", "--name", "mp", "--role", "MINI_PROGRAM_ADMIN"]
    created = _runner().invoke(cli, [*args, "--merchant", "m_7"])
    assert created.exit_code == 0, created.output
    match = _verify(settings, created.stdout.strip())
    assert match is not None
    assert match.grants == (Grant(Role.MINI_PROGRAM_ADMIN, merchant_id="m_7"),)
    listed = _runner().invoke(cli, ["apikey", "list"], env={"COLUMNS": "200"})
    assert "MINI_PROGRAM_ADMIN (merchant m_7)" in listed.stdout


def test_apikey_errors(cli: typer.Typer) -> None:
    runner = _runner()
    create = ["apikey", "create", "--name", "bot", "--role", "INGESTER"]
    assert runner.invoke(cli, create).exit_code == 0
    duplicate = runner.invoke(cli, create)
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output
    bad_scope = runner.invoke(cli, ["apikey", "create", "--name", "x", "--role", "SUPERAPP_ADMIN"])
    assert bad_scope.exit_code == 2
    missing = runner.invoke(cli, ["apikey", "revoke", "nobody"])
    assert missing.exit_code == 1
    assert "no API key named 'nobody'" in missing.output


def test_apikey_list_when_empty(cli: typer.Typer) -> None:
    result = _runner().invoke(cli, ["apikey", "list"])
    assert result.exit_code == 0
    assert "no API keys yet" in result.stdout
